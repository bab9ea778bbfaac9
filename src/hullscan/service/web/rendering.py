"""Templates (autoescaped) and the headers every page carries: a Content-Security-Policy that
allows only this site's own files (no inline script or style), no framing, no caching."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from hullscan import __version__

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
"""htmx and Chart.js load as files; htmx is configured (meta ``htmx-config``) not to add
its indicator ``<style>`` nor to evaluate anything, and chart data travels as JSON."""

PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _when(value: datetime.datetime | str | None) -> str:
    """``2026-11-27 12:44 UTC``; ``-`` for nothing."""
    if value is None:
        return "-"
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _size(value: int | None) -> str:
    """``1.2 MB`` (decimal units)."""
    if value is None:
        return "-"
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} GB"


def _short(digest: str | None, length: int = 19) -> str:
    """``sha256:0123456789ab`` for long digests."""
    return "-" if not digest else digest[:length]


environment = Environment(loader=FileSystemLoader(TEMPLATES),
                          autoescape=select_autoescape(default=True, default_for_string=True),
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
environment.filters["when"] = _when
environment.filters["size"] = _size
environment.filters["short"] = _short
environment.globals["version"] = __version__


def render(request: Request, template: str, status_code: int = 200,
           **values: Any) -> HTMLResponse:
    """A page (or, for htmx requests of a page with a ``partial``, just that fragment)."""
    values.setdefault("token", None)
    values.setdefault("nav", "")
    values["request_path"] = request.url.path
    values["htmx"] = request.headers.get("HX-Request") == "true"
    text = environment.get_template(template).render(**values)
    return HTMLResponse(text, status_code=status_code, headers=PAGE_HEADERS)
