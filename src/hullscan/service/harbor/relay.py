"""Send a registry token Harbor handed us, as it is, to the registry.

The registry client authenticates by itself (answering challenges with credentials, fetching
tokens from the realm) and has no way to send a ready-made ``Bearer`` token. Until it has one,
the adapter pulls through this relay: a loopback HTTP server that forwards read requests
(``GET``/``HEAD``) to one registry with ``Authorization: Bearer TOKEN`` added, streaming the
answer back. It lives only for the duration of one pull and serves nothing but that registry.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final

import httpx

from hullscan import __version__

_FORWARDED_REQUEST: Final = ("accept", "range", "if-none-match")
_DROPPED_RESPONSE: Final = frozenset({"connection", "keep-alive", "transfer-encoding",
                                      "proxy-authenticate", "upgrade", "trailer"})
_CHUNK: Final = 256 * 1024


class BearerRelay:
    """``with BearerRelay(upstream, token) as relay:`` pull from ``relay.host`` instead."""

    def __init__(self, upstream: str, token: str, *, ca_cert: Path | None = None,
                 timeout: float = 60.0) -> None:
        self.upstream = upstream.rstrip("/")
        verify: ssl.SSLContext | bool = True
        if ca_cert is not None:
            verify = ssl.create_default_context(cafile=str(ca_cert))
        self._client = httpx.Client(verify=verify, timeout=timeout, follow_redirects=False,
                                    headers={"User-Agent": f"hullscan/{__version__}"})
        self._token = token
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="hullscan-bearer-relay", daemon=True)

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``: the registry host to pull from."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> BearerRelay:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._client.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one response per connection, its body ends when the connection does.
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                relay.forward(self)

            def do_HEAD(self) -> None:
                relay.forward(self)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the pull's own errors say what went wrong."""

        return Handler

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        """Forward one request and stream the registry's answer back."""
        if not handler.path.startswith("/v2/"):
            handler.send_error(404)
            return
        headers = {name: value for name in _FORWARDED_REQUEST
                   if (value := handler.headers.get(name)) is not None}
        headers["Authorization"] = f"Bearer {self._token}"
        request = self._client.build_request(handler.command, self.upstream + handler.path,
                                             headers=headers)
        try:
            response = self._client.send(request, stream=True)
        except httpx.TransportError:
            handler.send_error(502, "registry unreachable")
            return
        with contextlib.closing(response):
            handler.send_response_only(response.status_code)
            for name, value in response.headers.multi_items():
                if name.lower() in _DROPPED_RESPONSE:
                    continue
                if name.lower() == "location" and value.startswith(self.upstream):
                    value = f"http://{self.host}{value[len(self.upstream):]}"
                handler.send_header(name, value)
            handler.end_headers()
            if handler.command == "HEAD":
                return
            with contextlib.suppress(OSError):
                for chunk in response.iter_raw(_CHUNK):
                    handler.wfile.write(chunk)
