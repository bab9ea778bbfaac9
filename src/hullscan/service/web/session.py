"""Login by API token: the token is kept in an HttpOnly, SameSite=Strict cookie (Secure over
https) and checked like a bearer token on every page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from hullscan.service.api.context import api_context
from hullscan.service.tokens import Scope, TokenInfo, grants, verify_token

COOKIE = "hullscan_token"
COOKIE_MAX_AGE = 8 * 3600
"""Seconds a login lasts in the browser (the token itself may live longer)."""


class LoginRequiredError(Exception):
    """No valid token in the cookie: the handler redirects to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class ScopeMissingError(Exception):
    """The token lacks the scope an action needs."""

    def __init__(self, needed: Scope) -> None:
        super().__init__(str(needed))
        self.needed = needed


def login_location(next_path: str) -> str:
    """``/login?next=...`` for a local path (anything else goes to the overview)."""
    safe = next_path if next_path.startswith("/") and not next_path.startswith("//") else "/"
    return f"/login?next={quote(safe, safe='/')}"


def safe_next(value: str | None) -> str:
    """Where to go after logging in: only paths of this site (no ``//host`` or schemes)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def token_of(request: Request) -> TokenInfo | None:
    """The token the cookie carries, if it is valid."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    return verify_token(api_context(request).service.store, secret)


def viewer(request: Request) -> TokenInfo:
    """A dependency: the logged-in token, which must grant ``read``."""
    token = token_of(request)
    if token is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequiredError(path)
    if not grants(token.scopes, Scope.READ):
        raise ScopeMissingError(Scope.READ)
    return token


Viewer = Annotated[TokenInfo, Depends(viewer)]
"""A page parameter receiving the logged-in token."""


def require(token: TokenInfo, needed: Scope) -> None:
    """ScopeMissingError unless ``token`` grants ``needed``."""
    if not grants(token.scopes, needed):
        raise ScopeMissingError(needed)


def remember(response: Response, request: Request, secret: str) -> None:
    """Keep ``secret`` in the login cookie."""
    response.set_cookie(COOKIE, secret, max_age=COOKIE_MAX_AGE, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def forget(response: Response, request: Request) -> None:
    """Drop the login cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
