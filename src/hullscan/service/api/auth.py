"""Bearer-token authorisation: GETs need ``read``, anything else ``write``; some routers
(registries, tokens) need ``admin`` for everything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hullscan.service.api.context import Context
from hullscan.service.api.errors import ForbiddenError, UnauthorizedError
from hullscan.service.tokens import Scope, TokenInfo, grants, verify_token

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(auto_error=False, scheme_name="token",
                    description="An API token (`hs_...`), made with `POST /v1/tokens` or "
                                "`hullscan serve --create-token`.")


def required_scope(method: str, minimum: Scope | None) -> Scope:
    """``read`` for reading methods, ``write`` otherwise, raised to ``minimum``."""
    by_method = Scope.READ if method.upper() in READ_METHODS else Scope.WRITE
    order = (Scope.READ, Scope.WRITE, Scope.ADMIN)
    if minimum is None:
        return by_method
    return max(by_method, minimum, key=order.index)


def authorize(minimum: Scope | None = None) -> Callable[..., TokenInfo]:
    """A dependency admitting tokens with the scope the request's method (and
    ``minimum``) needs."""

    def dependency(request: Request, context: Context,
                   credentials: Annotated[HTTPAuthorizationCredentials | None,
                                          Depends(bearer)]) -> TokenInfo:
        if credentials is None:
            raise UnauthorizedError("send Authorization: Bearer <token>")
        token = verify_token(context.service.store, credentials.credentials)
        if token is None:
            raise UnauthorizedError("unknown or revoked token")
        needed = required_scope(request.method, minimum)
        if not grants(token.scopes, needed):
            raise ForbiddenError(f"this needs a token with the {needed} scope")
        return token

    return dependency
