"""Registry authentication: anonymous and credentialed Bearer tokens, given Bearer tokens,
and Basic auth.

The flow follows the Docker token authentication spec: a request without credentials gets a
401 with a challenge; for ``Bearer`` we ask the named realm for a token scoped to the
repository actions we need, with Basic credentials (or an OAuth2 refresh token) when we have
them; for ``Basic`` we send the credentials directly. Tokens are cached per scope set.

Credentials carrying a ``registry_token`` (obtained by someone else, e.g. Harbor) skip all
of that: the token goes on every request as it is, and a 401 means it was refused.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from hullscan.errors import AuthenticationError, RegistryError
from hullscan.image.registry.challenge import Challenge, parse_challenges
from hullscan.image.registry.credentials import RegistryCredentials

CLIENT_ID = "hullscan"


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


class RegistryAuthenticator:
    """Produces ``Authorization`` headers for requests to one registry host."""

    def __init__(self, host: str, credentials: RegistryCredentials | None,
                 send: Callable[[httpx.Request], httpx.Response]) -> None:
        self._host = host
        self._credentials = credentials
        self._send = send
        self._challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], _Token] = {}

    @property
    def _given_token(self) -> str | None:
        return self._credentials.registry_token if self._credentials is not None else None

    def headers(self, scopes: tuple[str, ...]) -> dict[str, str]:
        """Headers to send proactively: the given token, else from the last challenge."""
        if self._given_token is not None:
            return {"Authorization": f"Bearer {self._given_token}"}
        if self._challenge is None:
            return {}
        if self._challenge.scheme == "basic":
            return self._basic_header()
        token = self._tokens.get(scopes)
        if token is not None and token.expires_at > time.monotonic():
            return {"Authorization": f"Bearer {token.value}"}
        return {}

    def respond(self, response: httpx.Response, scopes: tuple[str, ...]) -> dict[str, str]:
        """Answer a 401: learn the challenge and return headers for the retry."""
        if self._given_token is not None:
            # The token was already sent; fetching another would not be what was asked.
            raise self.refused(response.status_code)
        challenges = parse_challenges(response.headers.get("www-authenticate", ""))
        by_scheme = {c.scheme: c for c in challenges}
        challenge = by_scheme.get("bearer") or by_scheme.get("basic")
        if challenge is None:
            raise AuthenticationError(
                f"registry {self._host} demands authentication it does not describe "
                f"(WWW-Authenticate: {response.headers.get('www-authenticate', 'missing')!r})")
        self._challenge = challenge
        if challenge.scheme == "basic":
            if self._credentials is None or self._credentials.username is None:
                raise AuthenticationError(
                    f"registry {self._host} requires credentials: use --creds, "
                    "HULLSCAN_REGISTRY_USERNAME/PASSWORD or docker login")
            return self._basic_header()
        token = self._fetch_token(challenge, scopes)
        self._tokens[scopes] = token
        return {"Authorization": f"Bearer {token.value}"}

    def refused(self, status: int) -> AuthenticationError:
        """The error for a request still refused after authenticating."""
        credentials = self._credentials
        if credentials is not None and credentials.registry_token is not None:
            return AuthenticationError(
                f"registry {self._host} refused the given token from {credentials.source} "
                f"(HTTP {status})")
        if credentials is None:
            return AuthenticationError(
                f"registry {self._host} refused anonymous access (HTTP {status}); "
                "use --creds, HULLSCAN_REGISTRY_USERNAME/PASSWORD or docker login")
        return AuthenticationError(
            f"registry {self._host} refused the credentials from {credentials.source} "
            f"(HTTP {status})")

    def _basic_header(self) -> dict[str, str]:
        credentials = self._credentials
        if credentials is None or credentials.username is None:
            return {}
        pair = f"{credentials.username}:{credentials.password or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    def _fetch_token(self, challenge: Challenge, scopes: tuple[str, ...]) -> _Token:
        realm = challenge.params.get("realm")
        if not realm or not realm.startswith(("http://", "https://")):
            raise AuthenticationError(f"registry {self._host} sent a Bearer challenge "
                                      f"without a usable realm ({realm!r})")
        service = challenge.params.get("service")
        wanted = list(scopes) or ([challenge.params["scope"]] if "scope" in challenge.params
                                  else [])
        credentials = self._credentials
        if credentials is not None and credentials.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": credentials.identity_token,
                    "client_id": CLIENT_ID, "scope": " ".join(wanted)}
            if service:
                form["service"] = service
            request = httpx.Request("POST", realm, data=form)
        else:
            params: list[tuple[str, str | int | float | bool | None]] = (
                [("service", service)] if service else [])
            params += [("scope", scope) for scope in wanted]
            headers = self._basic_header() if credentials is not None else {}
            request = httpx.Request("GET", realm, params=params, headers=headers)
        response = self._send(request)
        if response.status_code in (401, 403):
            raise self.refused(response.status_code)
        if response.status_code != 200:
            raise RegistryError(f"token server {realm} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise RegistryError(f"token server {realm} sent no JSON") from error
        value = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise RegistryError(f"token server {realm} sent no token")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 60.0
        # Renew a little early so that a token never expires mid-request.
        return _Token(value, time.monotonic() + max(lifetime - 10.0, 1.0))
