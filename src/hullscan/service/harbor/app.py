"""The adapter's HTTP API: a FastAPI app of its own, to serve on its own port.

Routes (under ``/api/v1``, as Harbor calls them): ``GET /metadata``, ``POST /scan``,
``GET /scan/{scan_request_id}/report``; plus unauthenticated ``/probe/healthy`` and
``/probe/ready``.

Authentication: with a ``token``, every API request must carry it as Harbor sends its
registration's access credential: ``Authorization: Bearer TOKEN`` (registration auth
"Bearer") or ``X-ScannerAdapter-API-Key: TOKEN`` (auth "X-ScannerAdapter-API-Key"). An
access credential typed as a full header value (``Bearer TOKEN``) arrives as
``Bearer Bearer TOKEN`` and is accepted too. Anything else is 401.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hullscan import __version__
from hullscan.errors import HullscanError
from hullscan.service.harbor import media
from hullscan.service.harbor.errors import AdapterError
from hullscan.service.harbor.jobs import QueueSubmit, describe, in_process_submit
from hullscan.service.harbor.reports import SCANNER, sbom_report, vulnerability_report
from hullscan.service.harbor.scans import (
    ReportStatus,
    ScanState,
    accept_scan,
    parse_scan_request,
    scan_state,
)
from hullscan.service.inventory import image_results
from hullscan.service.operations import Service
from hullscan.vuln.db.store import VulnerabilityDatabase

LOG = logging.getLogger("hullscan.service.harbor")

MAX_REQUEST_BYTES = 64 * 1024
"""A scan request is a few hundred bytes; anything much larger is refused unread."""
DEFAULT_REFRESH_AFTER = 5
"""Seconds Harbor is told to wait before polling a report again."""
PREFIX = "/api/v1"


def create_harbor_app(service: Service, queue_submit: QueueSubmit | None, token: str | None,
                      *, refresh_after: int = DEFAULT_REFRESH_AFTER,
                      ca_cert: Path | None = None) -> FastAPI:
    """The adapter over ``service``.

    ``queue_submit(scan_id, digest)`` queues :func:`~hullscan.service.harbor.jobs.run_scan`
    (see :func:`~hullscan.service.harbor.jobs.in_process_submit`); None runs jobs on a
    two-thread pool owned by the app (shut down with it). ``token`` None disables
    authentication (for a loopback-only deployment). ``ca_cert`` is trusted for HTTPS
    registries besides the system CAs.
    """
    pool: ThreadPoolExecutor | None = None
    if queue_submit is None:
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hullscan-harbor")
        queue_submit = in_process_submit(service, pool, ca_cert=ca_cert)
    submit = queue_submit

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    app = FastAPI(title="hullscan Harbor scanner adapter", version=__version__,
                  openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.middleware("http")
    async def authenticate(request: Request,
                           call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if token is not None and request.url.path.startswith(PREFIX) \
                and not _authorised(request, token):
            return _error(401, "missing or invalid access credential",
                          {"WWW-Authenticate": 'Bearer realm="hullscan"'})
        return await call_next(request)

    @app.exception_handler(AdapterError)
    async def adapter_error(_request: Request, error: AdapterError) -> Response:
        return _error(error.status, error.message)

    @app.get("/probe/healthy", include_in_schema=False)
    def healthy() -> Response:
        return Response(status_code=200)

    @app.get("/probe/ready", include_in_schema=False)
    def ready() -> Response:
        return Response(status_code=200 if service.database_path.is_file() else 503)

    @app.get(f"{PREFIX}/metadata")
    def metadata(request: Request) -> Response:
        return JSONResponse(metadata_document(service),
                            media_type=media.metadata_type(request.headers.get("accept")))

    @app.post(f"{PREFIX}/scan")
    async def scan(request: Request) -> Response:
        parsed = parse_scan_request(await _limited_body(request))
        scan_id = await run_in_threadpool(accept_scan, service, parsed)
        assert parsed.reference.digest is not None
        try:
            submit(scan_id, parsed.reference.digest)
        except Exception as error:
            LOG.exception("cannot queue Harbor scan %s", scan_id)
            raise AdapterError(500, f"cannot queue the scan: {describe(error)}") from error
        return JSONResponse({"id": scan_id}, status_code=202, media_type=media.SCAN_RESPONSE)

    @app.get(f"{PREFIX}/scan/{{scan_request_id}}/report")
    def report(scan_request_id: str, request: Request) -> Response:
        state = scan_state(service, scan_request_id)
        if state is None:
            return _error(404, "unknown scan request id")
        report_type = media.negotiate_report(request.headers.get("accept"))
        if report_type is None:
            return _error(501, "no supported report media type in Accept (supported: "
                          + ", ".join(media.REPORTS) + ")")
        sbom_type = request.query_params.get("sbom_media_type")
        if report_type == media.SBOM_REPORT and sbom_type not in media.SBOM_MEDIA_TYPES:
            return _error(400, "sbom_media_type must be one of "
                          + ", ".join(media.SBOM_MEDIA_TYPES))
        if state.status is ReportStatus.PENDING:
            return Response(status_code=302, headers={"Refresh-After": str(refresh_after)})
        if state.status is ReportStatus.FAILED:
            return _error(500, state.error or "scan failed")
        try:
            document = build_report(service, state, report_type, sbom_type)
        except HullscanError as error:
            return _error(500, str(error))
        return JSONResponse(document, media_type=report_type)

    return app


def build_report(service: Service, state: ScanState, report_type: str,
                 sbom_type: str | None) -> dict[str, Any]:
    """The report body of a finished scan, from the stored inventory."""
    inventory = service.inventory(state.artifact.digest)
    if report_type == media.SBOM_REPORT:
        assert sbom_type is not None
        return sbom_report(state.artifact, inventory, sbom_type)
    with VulnerabilityDatabase.open(service.database_path) as database:
        results = image_results(inventory, database, None)
    return vulnerability_report(state.artifact, inventory, results.findings)


def metadata_document(service: Service) -> dict[str, Any]:
    """``ScannerAdapterMetadata``: scanner, capabilities and properties."""
    properties = {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability"}
    with contextlib.suppress(HullscanError, OSError):
        with VulnerabilityDatabase.open(service.database_path) as database:
            built = database.status().built_at
        if built:
            properties["harbor.scanner-adapter/vulnerability-database-updated-at"] = built
    return {
        "scanner": dict(SCANNER),
        "capabilities": [
            {"type": "vulnerability", "consumes_mime_types": list(media.CONSUMES),
             "produces_mime_types": list(media.VULNERABILITY_REPORTS)},
            {"type": "sbom", "consumes_mime_types": list(media.CONSUMES),
             "produces_mime_types": [media.SBOM_REPORT],
             "additional_attributes": {"sbom_media_types": list(media.SBOM_MEDIA_TYPES)}},
        ],
        "properties": properties,
    }


async def _limited_body(request: Request) -> bytes:
    """The request body; 413 as soon as it is announced or found to pass
    :data:`MAX_REQUEST_BYTES` (a chunked body is not read to its end first)."""
    too_large = AdapterError(413, f"request body larger than {MAX_REQUEST_BYTES} bytes")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_REQUEST_BYTES):
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            raise too_large
    return bytes(body)


def _authorised(request: Request, token: str) -> bool:
    presented = request.headers.get("x-scanneradapter-api-key")
    if presented is None:
        header = request.headers.get("authorization", "")
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        presented = rest.strip()
        inner, _, doubled = presented.partition(" ")
        if inner.lower() == "bearer":
            presented = doubled.strip()
    return hmac.compare_digest(presented.encode(), token.encode())


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": {"message": message}}, status_code=status,
                        media_type=media.ERROR, headers=headers)
