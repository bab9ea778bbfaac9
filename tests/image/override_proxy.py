"""A reverse proxy in front of a test registry that answers chosen GETs itself.

Used to play a registry that lies (serves another manifest for a tag) or one that has the
referrers API. Everything else is forwarded unchanged; the ``Host`` header is kept, so the
registry builds upload ``Location`` URLs that point back at the proxy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length",
                         "content-encoding"})


@dataclass(frozen=True)
class Canned:
    """A response the proxy sends instead of asking the registry."""

    status: int
    body: bytes
    headers: dict[str, str]


Override = Callable[[str, str], Canned | None]
"""``(method, path) -> Canned`` to answer, or None to forward."""


class OverrideProxy:
    """Proxy on ``127.0.0.1:<free port>`` forwarding to ``upstream`` (``host:port``)."""

    def __init__(self, upstream: str, override: Override) -> None:
        self.upstream = upstream
        self.override = override
        self.seen: list[tuple[str, str]] = []
        self._http = httpx.Client(timeout=60.0, trust_env=False)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> OverrideProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._http.close()


def _handler_for(proxy: OverrideProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            proxy.seen.append((self.command, path))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            canned = proxy.override(self.command, path)
            if canned is None:
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in _HOP_BY_HOP}
                upstream = proxy._http.request(
                    self.command, f"http://{proxy.upstream}{self.path}", headers=headers,
                    content=body or None)
                canned = Canned(upstream.status_code, upstream.content,
                                {k: v for k, v in upstream.headers.items()
                                 if k.lower() not in _HOP_BY_HOP})
            self.send_response(canned.status)
            for name, value in canned.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(canned.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(canned.body)

        do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815

    return Handler
