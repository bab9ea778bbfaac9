"""A threaded HTTP reverse proxy that injects faults in front of a real test registry.

:class:`FaultProxy` forwards every request (method, path, query, headers, body) to the
upstream registry over a fresh ``http.client`` connection, streams the response back, and
rewrites ``Location``/``Link`` headers that name the upstream so they name the proxy.

Faults are :class:`Fault` values (frozen) matched by method and a path regex; each fires a
given number of times (``times=None``: forever). A request gets at most one fault: the first
one, in the order added, that matches and still has tries left. Kinds:

* ``Fault.status(503, retry_after="1")`` answers with that status, without asking upstream;
* ``Fault.reset()`` resets the connection (TCP RST) before responding;
* ``Fault.stall(2.0)`` waits before responding (``after_bytes=K``: after K body bytes), then
  carries on normally if the client is still there;
* ``Fault.truncate(K)`` sends the real headers (original ``Content-Length``) and K body bytes,
  then closes the connection;
* ``Fault.corrupt(K, count=1)`` flips ``count`` body bytes from offset K (of the body as served);
* ``Fault.ignore_range()`` drops ``Range`` from the upstream request so the full body is served
  with 200; it only matches requests that carry ``Range``.

Every request is recorded (:class:`RecordedRequest`: method, path, query, ``Range`` header,
status returned, fault applied) in :attr:`FaultProxy.requests`, in order of arrival.

The ``fault_proxy`` fixture (function-scoped) runs a proxy in front of ``registry_plain``.
"""

from __future__ import annotations

import enum
import http.client
import io
import json
import re
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.registry_servers import RegistryServer

_BLOCK = 64 * 1024
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "transfer-encoding", "upgrade", "proxy-connection",
})
_UPSTREAM_TIMEOUT = 60.0
_IDLE_TIMEOUT = 60.0

_Recorder = Callable[[int | None], None]
"""Logs the request with the status sent (None: none sent)."""


class FaultKind(enum.Enum):
    """What a :class:`Fault` does to a matching request."""

    STATUS = "status"
    RESET = "reset"
    STALL = "stall"
    TRUNCATE = "truncate"
    CORRUPT = "corrupt"
    IGNORE_RANGE = "ignore-range"


@dataclass(frozen=True)
class Fault:
    """One programmed fault; build it with the class methods (``Fault.status(503)`` …)."""

    kind: FaultKind
    method: str = "GET"
    """HTTP method to match (case-insensitive); ``"*"`` matches any."""
    path: str = ".*"
    """Regex searched in the request path (without the query string)."""
    times: int | None = 1
    """How many matching requests it applies to; None: all of them."""
    status_code: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    offset: int | None = None
    """TRUNCATE: body bytes sent; CORRUPT: first byte flipped; STALL: bytes before the
    stall (None: before the status line)."""
    count: int = 1
    """CORRUPT: how many bytes are flipped."""

    def __post_init__(self) -> None:
        re.compile(self.path)
        if self.times is not None and self.times < 1:
            raise ValueError("times must be positive or None")
        if self.kind in (FaultKind.TRUNCATE, FaultKind.CORRUPT) and (
                self.offset is None or self.offset < 0):
            raise ValueError(f"{self.kind.value} needs a non-negative offset")

    @classmethod
    def status(cls, status_code: int, *, retry_after: str | None = None, method: str = "GET",
               path: str = ".*", times: int | None = 1) -> Fault:
        """Answer ``status_code`` (with an OCI error body) instead of forwarding."""
        return cls(FaultKind.STATUS, method, path, times, status_code=status_code,
                   retry_after=retry_after)

    @classmethod
    def reset(cls, *, method: str = "GET", path: str = ".*", times: int | None = 1) -> Fault:
        """Reset the connection (RST) before responding."""
        return cls(FaultKind.RESET, method, path, times)

    @classmethod
    def stall(cls, seconds: float, *, after_bytes: int | None = None, method: str = "GET",
              path: str = ".*", times: int | None = 1) -> Fault:
        """Wait ``seconds`` before the response (or after ``after_bytes`` body bytes)."""
        return cls(FaultKind.STALL, method, path, times, seconds=seconds, offset=after_bytes)

    @classmethod
    def truncate(cls, after_bytes: int, *, method: str = "GET", path: str = ".*",
                 times: int | None = 1) -> Fault:
        """Send the headers and ``after_bytes`` body bytes, then close the connection."""
        return cls(FaultKind.TRUNCATE, method, path, times, offset=after_bytes)

    @classmethod
    def corrupt(cls, offset: int, *, count: int = 1, method: str = "GET", path: str = ".*",
                times: int | None = 1) -> Fault:
        """Flip (xor 0xFF) ``count`` body bytes starting at ``offset``."""
        return cls(FaultKind.CORRUPT, method, path, times, offset=offset, count=count)

    @classmethod
    def ignore_range(cls, *, method: str = "GET", path: str = ".*",
                     times: int | None = 1) -> Fault:
        """Serve the full body with 200 to a request that asked for a ``Range``."""
        return cls(FaultKind.IGNORE_RANGE, method, path, times)

    def matches(self, method: str, path: str, range_header: str | None) -> bool:
        """Whether this fault applies to such a request (ignoring how often it fired)."""
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if self.kind is FaultKind.IGNORE_RANGE and range_header is None:
            return False
        return re.search(self.path, path) is not None


@dataclass(frozen=True)
class RecordedRequest:
    """A request the proxy saw and what it answered."""

    method: str
    path: str
    query: str
    range: str | None
    status: int | None
    """Status sent to the client; None if none was sent (yet): reset, still stalled…"""
    fault: FaultKind | None


@dataclass
class _Entry:
    """A logged request, mutable until its status is known."""

    method: str
    path: str
    query: str
    range: str | None
    fault: FaultKind | None
    status: int | None = None

    def freeze(self) -> RecordedRequest:
        return RecordedRequest(self.method, self.path, self.query, self.range, self.status,
                               self.fault)


@dataclass
class _Armed:
    fault: Fault
    remaining: int | None


@dataclass
class _FaultBook:
    """Faults with their remaining counts and the request log (thread-safe)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    armed: list[_Armed] = field(default_factory=list)
    log: list[_Entry] = field(default_factory=list)

    def arrive(self, method: str, path: str, query: str,
               range_header: str | None) -> tuple[Fault | None, _Entry]:
        """Log a request on arrival and pick (and use up) the fault it gets, if any."""
        with self.lock:
            fault = None
            for armed in self.armed:
                if armed.remaining == 0 or not armed.fault.matches(method, path, range_header):
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                fault = armed.fault
                break
            entry = _Entry(method, path, query, range_header, fault.kind if fault else None)
            self.log.append(entry)
            return fault, entry

    def set_status(self, entry: _Entry, status: int | None) -> None:
        with self.lock:
            entry.status = status


class FaultProxy:
    """Reverse proxy on ``127.0.0.1:<free port>`` in front of ``upstream`` (``host:port``)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._book = _FaultBook()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fault-proxy", daemon=True)

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` to give clients."""
        return f"127.0.0.1:{self._server.server_port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}"

    def start(self) -> FaultProxy:
        """Start serving (in a daemon thread)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled handlers wake up and give up."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- programming and inspecting ---------------------------------------------------------

    def add(self, *faults: Fault) -> None:
        """Arm faults (after those already armed)."""
        with self._book.lock:
            self._book.armed += [_Armed(f, f.times) for f in faults]

    def clear_faults(self) -> None:
        """Disarm every fault."""
        with self._book.lock:
            self._book.armed.clear()

    def pending(self) -> list[Fault]:
        """Faults with a finite count that have not fired that many times yet."""
        with self._book.lock:
            return [a.fault for a in self._book.armed if a.remaining]

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, oldest first."""
        with self._book.lock:
            return [entry.freeze() for entry in self._book.log]

    def requests_to(self, path: str, method: str = "GET") -> list[RecordedRequest]:
        """Logged requests with ``method`` whose path matches the regex ``path``."""
        return [r for r in self.requests
                if r.method == method.upper() and re.search(path, r.path)]

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self._book.lock:
            self._book.log.clear()

    # -- used by the handler ----------------------------------------------------------------

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the proxy stops first; True if it is stopping."""
        return self._stopping.wait(seconds)


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_ProxyHandler):
        pass

    Handler.proxy = proxy
    return Handler


class _ClientGoneError(Exception):
    """The client closed its side (for example after its own timeout)."""


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_TIMEOUT
    proxy: FaultProxy

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is :attr:`FaultProxy.requests`."""

    def do_GET(self) -> None:
        self._proxy()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET  # noqa: N815

    # -- one request ------------------------------------------------------------------------

    def _proxy(self) -> None:
        path, _, query = self.path.partition("?")
        fault, entry = self.proxy._book.arrive(self.command, path, query,
                                               self.headers.get("Range"))

        def record(status: int | None) -> None:
            self.proxy._book.set_status(entry, status)
        try:
            if fault is None or not self._answer_early(fault, record):
                self._forward(fault, record)
        except (_ClientGoneError, ConnectionError, TimeoutError):
            self.close_connection = True

    def _answer_early(self, fault: Fault, record: _Recorder) -> bool:
        """Apply a fault that acts before upstream is asked; True if it ended the request."""
        if fault.kind is FaultKind.RESET:
            record(None)
            self._reset()
            return True
        if fault.kind is FaultKind.STATUS:
            self._drain_request_body()
            record(fault.status_code)
            self._send_error_status(fault)
            return True
        if fault.kind is FaultKind.STALL and fault.offset is None and self.proxy._sleep(
                fault.seconds):
            record(None)  # the proxy is stopping
            self.close_connection = True
            return True
        return False

    def _reset(self) -> None:
        """Abort the connection with a TCP RST."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _send_error_status(self, fault: Fault) -> None:
        body = json.dumps({"errors": [{"code": "UNAVAILABLE" if fault.status_code == 503
                                       else "UNKNOWN",
                                       "message": f"injected fault: HTTP {fault.status_code}",
                                       "detail": None}]}).encode()
        self.send_response(fault.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if fault.retry_after is not None:
            self.send_header("Retry-After", fault.retry_after)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _request_body(self) -> Iterator[bytes] | None:
        """The request body, streamed (Content-Length or chunked), or None if there is none."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return _read_chunked(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return None
        return _read_exactly(self.rfile, length)

    def _drain_request_body(self) -> None:
        for _ in self._request_body() or ():
            pass

    def _upstream_headers(self, fault: Fault | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            lower = name.lower()
            if lower in _HOP_BY_HOP or lower in ("host", "content-length"):
                continue
            if fault is not None and fault.kind is FaultKind.IGNORE_RANGE and lower in (
                    "range", "if-range"):
                continue
            headers[name] = value
        headers["Host"] = self.proxy.upstream
        return headers

    def _forward(self, fault: Fault | None, record: _Recorder) -> None:
        upstream = http.client.HTTPConnection(self.proxy.upstream, timeout=_UPSTREAM_TIMEOUT)
        try:
            headers = self._upstream_headers(fault)
            body = self._request_body()
            if body is None:
                upstream.request(self.command, self.path, headers=headers)
            elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                upstream.request(self.command, self.path, body=body, headers=headers,
                                 encode_chunked=True)
            else:
                headers["Content-Length"] = self.headers["Content-Length"]
                upstream.request(self.command, self.path, body=body, headers=headers)
            try:
                response = upstream.getresponse()
            except (OSError, http.client.HTTPException):
                record(None)
                self._reset()
                return
            self._relay(response, fault, record)
        finally:
            upstream.close()

    def _relay(self, response: http.client.HTTPResponse, fault: Fault | None,
               record: _Recorder) -> None:
        """Send the upstream response on, applying a body fault."""
        has_body = self.command != "HEAD" and response.status not in (204, 304) and (
            response.status >= 200)
        length = response.getheader("Content-Length")
        chunked = has_body and length is None
        record(response.status)
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            lower = name.lower()
            if lower in _HOP_BY_HOP:
                continue
            if lower in ("location", "link"):
                value = self._rewrite_upstream_url(value)
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if not has_body:
            return
        sent = 0
        while True:
            block = response.read(_BLOCK)
            if not block:
                break
            out = self._apply_body_fault(fault, block, sent, chunked)
            if out is None:
                return
            if out:
                self._write_body(out, chunked)
            sent += len(out)
            if fault is not None and fault.kind is FaultKind.TRUNCATE and fault.offset == sent:
                self.close_connection = True
                return
        if chunked:
            self._write_raw(b"0\r\n\r\n")

    def _apply_body_fault(self, fault: Fault | None, block: bytes, sent: int,
                          chunked: bool) -> bytes | None:
        """``block`` as it should be sent; None once the connection has been given up."""
        if fault is None or fault.offset is None:
            return block
        start, end = fault.offset - sent, fault.offset - sent + max(fault.count, 1)
        if fault.kind is FaultKind.TRUNCATE:
            return block[:max(start, 0)] if start < len(block) else block
        if fault.kind is FaultKind.CORRUPT and start < len(block) and end > 0:
            data = bytearray(block)
            for i in range(max(start, 0), min(end, len(block))):
                data[i] ^= 0xFF
            return bytes(data)
        if fault.kind is FaultKind.STALL and 0 <= start < len(block):
            if start:
                self._write_body(block[:start], chunked)
            if self.proxy._sleep(fault.seconds):
                self.close_connection = True
                return None
            return block[start:]
        return block

    def _write_body(self, block: bytes, chunked: bool) -> None:
        if chunked:
            self._write_raw(f"{len(block):x}\r\n".encode() + block + b"\r\n")
        else:
            self._write_raw(block)

    def _write_raw(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as error:
            raise _ClientGoneError from error

    def _rewrite_upstream_url(self, value: str) -> str:
        for scheme in ("http://", "https://"):
            value = value.replace(f"{scheme}{self.proxy.upstream}", self.proxy.url)
        return value


def _read_exactly(stream: io.BufferedIOBase, length: int) -> Iterator[bytes]:
    while length > 0:
        block = stream.read(min(length, _BLOCK))
        if not block:
            raise _ClientGoneError("request body ended early")
        length -= len(block)
        yield block


def _read_chunked(stream: io.BufferedIOBase) -> Iterator[bytes]:
    while True:
        size_line = stream.readline()
        if not size_line:
            raise _ClientGoneError("chunked request body ended early")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while stream.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return
        yield from _read_exactly(stream, size)
        stream.readline()


@pytest.fixture
def fault_proxy(registry_plain: RegistryServer) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the session's plain HTTP registry."""
    with FaultProxy(registry_plain.host) as proxy:
        yield proxy
