"""A local HTTP server standing in for the upstream feeds: fixed documents with ETags."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_CHUNK = 64 * 1024


class FeedServer:
    """Serves fixed documents with ETags; counts full (200) answers per path.

    ``failures[path]`` answers 500 that many times; ``delays[path]`` pauses that many seconds
    after every 64 KiB of the body (a slow link); raising ``generation`` changes every ETag
    (new upstream data with the same bytes).
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.full: Counter[str] = Counter()
        self.failures: dict[str, int] = {}  # path -> 500 answers still to give
        self.delays: dict[str, float] = {}
        self.generation = 0
        self.queries: list[str] = []
        self.headers_seen: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                server.queries.append(parts.query)
                server.headers_seen.append(dict(self.headers.items()))
                if server.failures.get(parts.path, 0) > 0:
                    server.failures[parts.path] -= 1
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = server.files.get(parts.path)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                tag = hashlib.sha256(data + str(server.generation).encode()).hexdigest()[:16]
                etag = f'"{tag}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                server.full[parts.path] += 1
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", "Wed, 26 Nov 2026 10:00:00 GMT")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                delay = server.delays.get(parts.path, 0.0)
                try:
                    for start in range(0, len(data), _CHUNK):
                        self.wfile.write(data[start : start + _CHUNK])
                        if delay:
                            self.wfile.flush()
                            time.sleep(delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed mid-download

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
