"""Errors of the API and how each becomes a response: ``{"error": "one line"}`` (plus
``problems`` for bundles and invalid requests), never with credentials or request bodies."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from hullscan.errors import HullscanError, ImageNotFoundError, RegistryError
from hullscan.policy.load import BundleError

LOG = logging.getLogger("hullscan.service.api")


class UnauthorizedError(HullscanError):
    """No token, or one the service does not know."""


class ForbiddenError(HullscanError):
    """A token without the scope an endpoint needs."""


class NotFoundError(HullscanError):
    """No such image, registry, policy, subscription or token."""


class ConflictError(HullscanError):
    """The resource exists already, or is not in a state that allows the request."""


class FieldError(HullscanError):
    """A request field the service refuses although it is well-formed (a registry or
    webhook URL that resolves to a private address, say): 422 naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason, subject=field)
        self.field = field


STATUS_OF: dict[type[HullscanError], int] = {
    FieldError: 422,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ImageNotFoundError: 404,
    ConflictError: 409,
    RegistryError: 502,
}
"""HTTP status per error type (the nearest base class decides); anything else is 400."""

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]+")


def status_of(error: HullscanError) -> int:
    """The status for ``error``."""
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400


def redact(text: str) -> str:
    """``text`` without URL user-info or authorization header values."""
    return _BEARER.sub(r"\1 ***", _USERINFO.sub(r"\1***@", text))


def one_line(text: str) -> str:
    """The first line of ``text``, redacted."""
    return redact(text.strip().splitlines()[0] if text.strip() else "error")


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    """The JSON of every error response."""
    return {"error": one_line(message), **extra}


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through one JSON shape."""
    app.add_exception_handler(HullscanError, _hullscan_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


async def _hullscan_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HullscanError)
    extra: dict[str, Any] = {}
    if isinstance(error, BundleError):
        extra["problems"] = [{"path": p.path, "line": p.line, "message": p.message}
                             for p in error.problems]
    if isinstance(error, FieldError):
        extra["problems"] = [{"path": error.field, "message": one_line(error.reason)}]
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(str(error), **extra), status_code=status, headers=headers)


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    # FastAPI's default echoes the input, which may hold a password: say where, not what.
    assert isinstance(error, RequestValidationError)
    problems = [{"path": ".".join(str(part) for part in item.get("loc", ())),
                 "message": str(item.get("msg", "invalid"))} for item in error.errors()]
    first = problems[0] if problems else {"path": "", "message": "invalid request"}
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return JSONResponse(error_body(f"{first['path']}: {first['message']}{more}",
                                   problems=problems), status_code=422)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return JSONResponse(error_body(str(error.detail)), status_code=error.status_code,
                        headers=error.headers)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    LOG.error("%s %s failed: %s", request.method, request.url.path, type(error).__name__)
    return JSONResponse(error_body("internal error"), status_code=500)
