"""The job of one scan request: pull with the request's own credentials, analyse, record.

A job is named by plain strings (``scan_id``, ``digest``) so that any queue can carry it:
``queue_submit(scan_id, digest)`` must eventually call :func:`run_scan` with the service,
in this process (:func:`in_process_submit`) or in a worker (a Celery task taking the id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from hullscan.errors import HullscanError
from hullscan.image.sources.interface import AcquireOptions
from hullscan.service.harbor.errors import AdapterError
from hullscan.service.harbor.pull import (
    Analyse,
    parse_authorization,
    parse_registry_url,
    pull_inventory,
)
from hullscan.service.inventory import Inventory, analyse_inventory
from hullscan.service.operations import Service
from hullscan.service.store.harbor_models import HarborScan, HarborScanStatus
from hullscan.service.store.models import utcnow

LOG = logging.getLogger("hullscan.service.harbor")

QueueSubmit = Callable[[str, str], None]
"""``queue_submit(scan_id, digest)``: queue :func:`run_scan` for that scan request."""


def run_scan(service: Service, scan_id: str, *, analyse: Analyse = analyse_inventory,
             ca_cert: Path | None = None) -> None:
    """Run the job of ``scan_id`` once: its outcome is recorded on the scan request (and on
    the digest's analysis); the authorization is dropped afterwards, whatever happened."""
    with service.store.session() as session:
        scan = session.get(HarborScan, scan_id)
        if scan is None or scan.status is not HarborScanStatus.QUEUED:
            return
        sealed, url = scan.authorization_encrypted, scan.registry_url
        repository, digest = scan.repository, scan.digest
    try:
        authorization = parse_authorization(service.box.open(sealed)) if sealed else None
        location = parse_registry_url(url)

        def pull(_reference: str, _options: AcquireOptions) -> Inventory:
            # The digest's own reference may name another registry: pull from the one this
            # request names, with its credentials (the content is the same by its digest).
            return pull_inventory(location, authorization, repository, digest,
                                  analyse=analyse, ca_cert=ca_cert)

        service.run_analysis(digest, analyse=pull)
    except Exception as error:  # any failure is the scan's outcome
        LOG.warning("Harbor scan %s of %s failed: %s", scan_id, digest, describe(error))
        _finish(service, scan_id, HarborScanStatus.FAILED, describe(error))
        return
    _finish(service, scan_id, HarborScanStatus.FINISHED, None)


def describe(error: Exception) -> str:
    """One line for Harbor's job log (credentials are never part of an error's text)."""
    if isinstance(error, HullscanError):
        return str(error)
    if isinstance(error, AdapterError):
        return error.message
    return f"internal error ({type(error).__name__})"


def _finish(service: Service, scan_id: str, status: HarborScanStatus,
            error: str | None) -> None:
    with service.store.session() as session:
        scan = session.get(HarborScan, scan_id)
        if scan is None:
            return
        scan.status = status
        scan.error = error
        scan.authorization_encrypted = None
        scan.finished_at = utcnow()


def in_process_submit(service: Service, executor: Executor, *,
                      ca_cert: Path | None = None) -> QueueSubmit:
    """A ``queue_submit`` running jobs on ``executor`` (e.g. the service's thread pool)."""
    def submit(scan_id: str, _digest: str) -> None:
        executor.submit(run_scan, service, scan_id, ca_cert=ca_cert)
    return submit
