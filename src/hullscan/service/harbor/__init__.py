"""Harbor Pluggable Scanner Adapter API v1.2: hullscan as a scanner that Harbor calls.

:func:`create_harbor_app` is a FastAPI app of its own (run it on its own port with its own
token); jobs go through the same :class:`~hullscan.service.operations.Service` and per-digest
analysis as the rest of the service, pulling with the credentials each request carries.
"""

from hullscan.service.harbor.app import create_harbor_app
from hullscan.service.harbor.jobs import in_process_submit, run_scan

__all__ = ["create_harbor_app", "in_process_submit", "run_scan"]
