"""Mounting the dashboard on the service's application."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from hullscan.service.web.rendering import STATIC, render
from hullscan.service.web.routes import router
from hullscan.service.web.session import (
    LoginRequiredError,
    ScopeMissingError,
    login_location,
    token_of,
)


async def _login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequiredError)
    location = login_location(error.next_path)
    if request.headers.get("HX-Request") == "true":
        # htmx would swap a redirect's target into the page; have it navigate instead.
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


async def _scope_missing(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, ScopeMissingError)
    return render(request, "error.html", 403, token=token_of(request),
                  message=f"Your token lacks the {error.needed} scope this needs.",
                  title="Error 403")


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard at ``/`` and its files at ``/static``."""
    app.add_exception_handler(LoginRequiredError, _login_required)
    app.add_exception_handler(ScopeMissingError, _scope_missing)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
