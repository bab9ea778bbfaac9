"""The FastAPI application of ``hullscan serve``: ``/v1`` resources behind bearer tokens,
``/health`` and ``/openapi.json`` open."""

from __future__ import annotations

from fastapi import FastAPI

from hullscan import __version__
from hullscan.service.api.context import ApiContext, ChangeListener
from hullscan.service.api.errors import install_error_handlers
from hullscan.service.api.limits import DEFAULT_MAX_REQUEST_BYTES, RequestSizeLimit
from hullscan.service.api.routes import ROUTERS
from hullscan.service.operations import Service
from hullscan.service.queue import JobQueue

TITLE = "hullscan service"
DESCRIPTION = ("Continuous container-image scanning: add images by tag or digest, read their "
               "SBOM, vulnerabilities, check findings and policy verdict (always against the "
               "current vulnerability data and policy), watch tags and repositories, and ask "
               "which images a vulnerability affects. Send `Authorization: Bearer <token>`.")


def create_app(service: Service, queue: JobQueue, *,
               max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
               on_change: ChangeListener | None = None) -> FastAPI:
    """The API over ``service``; analyses go to ``queue``; ``on_change`` hears of results a
    request recomputed and found changed."""
    app = FastAPI(title=TITLE, version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None)
    app.state.hullscan = ApiContext(service, queue, on_change)
    install_error_handlers(app)
    app.add_middleware(RequestSizeLimit, max_bytes=max_request_bytes)
    for router in ROUTERS:
        app.include_router(router)
    # Imported here: the dashboard's modules import this package's (a cycle at import time).
    from hullscan.service.web.mount import mount_dashboard

    mount_dashboard(app)
    return app
