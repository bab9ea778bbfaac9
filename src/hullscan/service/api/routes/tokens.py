"""``/v1/tokens``: create (the secret is shown once), list, revoke (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from hullscan.service.api.auth import authorize
from hullscan.service.api.context import Context
from hullscan.service.api.errors import NotFoundError
from hullscan.service.api.schemas import TokenCreated, TokenIn, TokenOut
from hullscan.service.tokens import (
    Scope,
    TokenInfo,
    create_token,
    delete_token,
    list_tokens,
)

router = APIRouter(prefix="/v1/tokens", tags=["tokens"],
                   dependencies=[Depends(authorize(Scope.ADMIN))])


def token_out(info: TokenInfo) -> TokenOut:
    """The response for a stored token: never its secret or hash."""
    return TokenOut(id=info.id, name=info.name, scopes=list(info.scopes),
                    created_at=info.created_at, last_used_at=info.last_used_at)


@router.post("", status_code=201, response_model=TokenCreated)
def new_token(body: TokenIn, context: Context) -> TokenCreated:
    """Create a token; the response holds its secret, which is not stored."""
    issued = create_token(context.service.store, body.name, body.scopes)
    return TokenCreated(**token_out(issued.info).model_dump(), token=issued.secret)


@router.get("", response_model=list[TokenOut])
def get_tokens(context: Context) -> list[TokenOut]:
    """Every token."""
    return [token_out(info) for info in list_tokens(context.service.store)]


@router.delete("/{token_id}", status_code=204)
def revoke_token(token_id: int, context: Context) -> None:
    """Revoke a token (requests with it fail at once)."""
    if not delete_token(context.service.store, token_id):
        raise NotFoundError("no such token", subject=f"token {token_id}")
