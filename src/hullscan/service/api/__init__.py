"""The service's HTTP API (FastAPI): :func:`create_app`."""

from hullscan.service.api.app import create_app

__all__ = ["create_app"]
