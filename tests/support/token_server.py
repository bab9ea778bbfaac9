"""A tiny Docker registry token server (token authentication spec) for tests.

Rules: the configured user gets every action asked for; anonymous clients get only ``pull``
on repositories whose name starts with the public prefix; wrong credentials get 401.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
import types
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

import jwt

from tests.support.pki import (
    TokenIssuerCertificate,
    certificate_der_b64,
    libtrust_key_id,
    load_certificate,
    load_private_key,
)

KeyIdMode = Literal["x5c", "kid"]
"""How the JWT names its signing key: ``x5c`` (certificate chain) or ``kid`` (libtrust ID)."""

DEFAULT_ISSUER = "hullscan-test-token-issuer"
DEFAULT_SERVICE = "hullscan-test-registry"


@dataclass(frozen=True)
class ResourceAccess:
    """One entry of the token's ``access`` claim."""

    type: str
    name: str
    actions: tuple[str, ...]

    @classmethod
    def parse(cls, scope: str) -> ResourceAccess:
        """Parse ``type:name:action,action`` (the name may itself contain colons)."""
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if not kind or not name:
            raise ValueError(f"malformed scope: {scope!r}")
        return cls(kind, name, tuple(a for a in actions.split(",") if a))

    def claim(self) -> dict[str, object]:
        """The JSON form used in the ``access`` claim."""
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


@dataclass(frozen=True)
class TokenRequest:
    """What the token server saw and answered for one request."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    basic_auth: bool
    username: str | None
    status: int
    granted: tuple[ResourceAccess, ...] = ()

    @property
    def scopes(self) -> tuple[str, ...]:
        """The raw ``scope`` values asked for (query string or OAuth2 form body)."""
        return self.query.get("scope", ())

    @property
    def service(self) -> str | None:
        """The ``service`` parameter, if any."""
        values = self.query.get("service", ())
        return values[0] if values else None


@dataclass(frozen=True)
class AuthResult:
    """Outcome of checking a request's credentials."""

    status: int
    username: str | None
    basic_auth: bool
    granted: tuple[ResourceAccess, ...] = ()


class TokenServer:
    """Threaded HTTP token server; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        issuer_cert: TokenIssuerCertificate,
        *,
        users: Mapping[str, str],
        service: str = DEFAULT_SERVICE,
        issuer: str = DEFAULT_ISSUER,
        public_prefix: str = "public/",
        key_id_mode: KeyIdMode = "x5c",
        expires_in: int = 300,
        host: str = "127.0.0.1",
    ) -> None:
        self.issuer_cert = issuer_cert
        self.users = dict(users)
        self.service = service
        self.issuer = issuer
        self.public_prefix = public_prefix
        self.key_id_mode: KeyIdMode = key_id_mode
        self.expires_in = expires_in
        self._key = load_private_key(issuer_cert.key)
        self._headers = self._jws_headers()
        self._lock = threading.Lock()
        self._requests: list[TokenRequest] = []
        self.host = host
        self._httpd = ThreadingHTTPServer((host, 0), _handler_class(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> TokenServer:
        """Serve in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"token-server-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40000``."""
        return f"http://{self.host}:{self.port}"

    @property
    def realm(self) -> str:
        """The token endpoint URL to put in the registry's ``auth.token.realm``."""
        return f"{self.url}/token"

    @property
    def root_cert_bundle(self) -> Path:
        """The file the registry's ``auth.token.rootcertbundle`` must point at for this mode."""
        if self.key_id_mode == "x5c":
            return self.issuer_cert.ca_cert
        return self.issuer_cert.cert

    # -- request log -------------------------------------------------------------------------

    @property
    def requests(self) -> tuple[TokenRequest, ...]:
        """Snapshot of every request seen so far, oldest first."""
        with self._lock:
            return tuple(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    def _record(self, request: TokenRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # -- tokens ------------------------------------------------------------------------------

    def _jws_headers(self) -> dict[str, object]:
        if self.key_id_mode == "x5c":
            return {"typ": "JWT", "x5c": [certificate_der_b64(self.issuer_cert.cert)]}
        public_key = load_certificate(self.issuer_cert.cert).public_key()
        return {"typ": "JWT", "kid": libtrust_key_id(public_key)}

    def issue_token(
        self, subject: str, access: Sequence[ResourceAccess], *, audience: str | None = None
    ) -> tuple[str, int]:
        """Sign a registry JWT; returns (token, issued_at)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience if audience is not None else self.service,
            "exp": now + self.expires_in,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": [item.claim() for item in access],
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers=self._headers)
        return token, now

    def grant(self, username: str | None, scopes: Sequence[str]) -> tuple[ResourceAccess, ...]:
        """Apply the access rules to the requested scopes."""
        granted: list[ResourceAccess] = []
        for scope in scopes:
            wanted = ResourceAccess.parse(scope)
            if username is not None:
                granted.append(wanted)
            elif wanted.type == "repository" and wanted.name.startswith(self.public_prefix):
                actions = tuple(a for a in wanted.actions if a == "pull")
                if actions:
                    granted.append(ResourceAccess(wanted.type, wanted.name, actions))
        return tuple(granted)

    def authenticate(self, authorization: str | None) -> AuthResult:
        """Check the Authorization header: anonymous, a valid user, or 401."""
        if not authorization or not authorization.lower().startswith("basic "):
            return AuthResult(HTTPStatus.OK, None, basic_auth=False)
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return AuthResult(HTTPStatus.UNAUTHORIZED, None, basic_auth=True)
        username, sep, password = raw.partition(":")
        if not sep or self.users.get(username) is None:
            return AuthResult(HTTPStatus.UNAUTHORIZED, username or None, basic_auth=True)
        if not secrets.compare_digest(self.users[username].encode(), password.encode()):
            return AuthResult(HTTPStatus.UNAUTHORIZED, username, basic_auth=True)
        return AuthResult(HTTPStatus.OK, username, basic_auth=True)

    def handle(
        self, method: str, path: str, params: Mapping[str, tuple[str, ...]], auth: AuthResult
    ) -> tuple[int, dict[str, object]]:
        """Answer one token request; returns (status, JSON body) and records it."""
        status, body, granted = self._answer(path, params, auth)
        self._record(
            TokenRequest(
                method=method,
                path=path,
                query=types.MappingProxyType(dict(params)),
                basic_auth=auth.basic_auth,
                username=auth.username,
                status=status,
                granted=granted,
            )
        )
        return status, body

    def _answer(
        self, path: str, params: Mapping[str, tuple[str, ...]], auth: AuthResult
    ) -> tuple[int, dict[str, object], tuple[ResourceAccess, ...]]:
        if path != "/token":
            return HTTPStatus.NOT_FOUND, _error("NOT_FOUND", "no such endpoint"), ()
        if auth.status != HTTPStatus.OK:
            return auth.status, _error("UNAUTHORIZED", "invalid username or password"), ()
        try:
            granted = self.grant(auth.username, params.get("scope", ()))
        except ValueError as exc:
            return HTTPStatus.BAD_REQUEST, _error("INVALID_SCOPE", str(exc)), ()
        token, issued_at = self.issue_token(auth.username or "", granted)
        body: dict[str, object] = {
            "token": token,
            "access_token": token,
            "expires_in": self.expires_in,
            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued_at)),
        }
        return HTTPStatus.OK, body, granted


def _parse_params(text: str) -> dict[str, tuple[str, ...]]:
    """Parse a query string / form body keeping repeated keys (e.g. several ``scope``)."""
    grouped: dict[str, list[str]] = {}
    for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    return {key: tuple(values) for key, values in grouped.items()}


def _error(code: str, message: str) -> dict[str, object]:
    return {"errors": [{"code": code, "message": message}]}


def _handler_class(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    """Build a request handler bound to ``server`` (no module-level state)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            params = _parse_params(url.query)
            auth = server.authenticate(self.headers.get("Authorization"))
            self._reply(*server.handle("GET", url.path, params, auth))

        def do_POST(self) -> None:
            """OAuth2 password grant (``grant_type=password``) as some clients use it."""
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = _parse_params(self.rfile.read(length).decode("utf-8"))
            params = {**_parse_params(url.query), **form}
            if "scope" in form:  # OAuth2 scopes are space separated
                params["scope"] = tuple(s for v in form["scope"] for s in v.split(" ") if s)
            auth = server.authenticate(self.headers.get("Authorization"))
            if params.get("grant_type") == ("password",):
                user = params.get("username", ("",))[0]
                password = params.get("password", ("",))[0]
                basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
                auth = server.authenticate(f"Basic {basic}")
            self._reply(*server.handle("POST", url.path, params, auth))

        def _reply(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == HTTPStatus.UNAUTHORIZED:
                self.send_header("WWW-Authenticate", f'Basic realm="{server.realm}"')
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Keep pytest output quiet."""

    return Handler
