"""A hullscan webhook receiver (standard library only): verifies X-Hullscan-Signature
before reading the JSON, refuses stale timestamps and drops retried duplicates.

    HULLSCAN_WEBHOOK_SECRET=... python examples/webhook_receiver.py 8000
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300  # older (or future) timestamps are refused: replays


def verify(secret: str, header: str | None, body: bytes, now: float | None = None) -> bool:
    """True when ``header`` (``t=<unix seconds>,v1=<hex>``) signs the raw ``body``."""
    fields = [part.strip().partition("=") for part in (header or "").split(",")]
    timestamps = [value for key, _, value in fields if key == "t" and value.isdigit()]
    signatures = [value for key, _, value in fields if key == "v1"]
    if len(timestamps) != 1 or not signatures:
        return False
    if abs((time.time() if now is None else now) - int(timestamps[0])) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), timestamps[0].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    # Several v1 entries may come during a key rotation: any one matching is enough.
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def make_server(secret: str, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server answering 204 to signed deliveries (401 otherwise); ``server.events`` keeps
    the accepted payloads, one per delivery id."""
    seen: set[str] = set()
    events: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > 1024 * 1024:
                self.send_response(413)
                self.end_headers()
                return
            body = self.rfile.read(length)
            if not verify(secret, self.headers.get("X-Hullscan-Signature"), body):
                self.send_response(401)
                self.end_headers()
                return
            delivery = self.headers.get("X-Hullscan-Delivery", "")
            if delivery not in seen:  # a retry of a delivery already handled: just ack it
                seen.add(delivery)
                events.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write(f"webhook: {format % args}\n")

    server = ThreadingHTTPServer((host, port), Receiver)
    server.events = events  # type: ignore[attr-defined]
    return server


if __name__ == "__main__":
    make_server(os.environ["HULLSCAN_WEBHOOK_SECRET"],
                int(sys.argv[1]) if len(sys.argv) > 1 else 8000).serve_forever()
