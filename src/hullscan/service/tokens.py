"""API tokens: random secrets shown once, stored only as their SHA-256, with scopes.

Scopes nest: ``admin`` implies ``write`` implies ``read``. ``harbor`` stands alone (the
Harbor adapter's token) and grants nothing on ``/v1``.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select

from hullscan.errors import HullscanError
from hullscan.service.store.database import Store
from hullscan.service.store.models import ApiToken, utcnow

PREFIX = "hs_"
SECRET_BYTES = 30
"""30 random bytes are 40 url-safe base64 characters."""
LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)
"""``last_used_at`` is written at most this often per token (every request would be a write)."""


class Scope(enum.StrEnum):
    """What a token may do."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    HARBOR = "harbor"


IMPLIED: dict[Scope, frozenset[Scope]] = {
    Scope.READ: frozenset({Scope.READ}),
    Scope.WRITE: frozenset({Scope.WRITE, Scope.READ}),
    Scope.ADMIN: frozenset({Scope.ADMIN, Scope.WRITE, Scope.READ}),
    Scope.HARBOR: frozenset({Scope.HARBOR}),
}
"""Each scope and the scopes it grants."""


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, without its secret."""

    id: int
    name: str
    scopes: tuple[Scope, ...]
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: the only time its secret exists outside the client."""

    info: TokenInfo
    secret: str
    """``hs_`` + 40 url-safe characters."""


def parse_scopes(names: Iterable[str]) -> tuple[Scope, ...]:
    """Scopes from their names (an error naming the unknown ones)."""
    wanted = [name.strip().lower() for name in names if name.strip()]
    unknown = sorted({name for name in wanted if name not in Scope._value2member_map_})
    if unknown:
        raise HullscanError(f"unknown scope {', '.join(unknown)} (choose from "
                            f"{', '.join(Scope)})", subject="scopes")
    if not wanted:
        raise HullscanError("name at least one scope", subject="scopes")
    return tuple(Scope(name) for name in dict.fromkeys(wanted))


def grants(held: Iterable[Scope], needed: Scope) -> bool:
    """Whether tokens with ``held`` scopes may do what ``needed`` guards."""
    return any(needed in IMPLIED[scope] for scope in held)


def token_hash(secret: str) -> str:
    """The hex SHA-256 stored for ``secret``."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(store: Store, name: str, scopes: Iterable[Scope]) -> IssuedToken:
    """Make and store a new token; its secret is returned once and never stored."""
    chosen = tuple(dict.fromkeys(scopes))
    if not name.strip():
        raise HullscanError("a token needs a name", subject="name")
    if not chosen:
        raise HullscanError("name at least one scope", subject="scopes")
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    with store.session() as session:
        row = ApiToken(name=name.strip(), token_hash=token_hash(secret),
                       scopes=" ".join(chosen), created_at=utcnow())
        session.add(row)
        session.flush()
        return IssuedToken(_info(row), secret)


def verify_token(store: Store, secret: str) -> TokenInfo | None:
    """The token ``secret`` is, or None; notes when it was last used."""
    if not secret.startswith(PREFIX):
        return None
    presented = token_hash(secret)
    with store.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == presented))
        # The lookup is by hash, so timing reveals nothing of the secret; compare anyway.
        if row is None or not hmac.compare_digest(row.token_hash, presented):
            return None
        now = utcnow()
        last = row.last_used_at
        if last is None or now - _aware(last) >= LAST_USED_RESOLUTION:
            row.last_used_at = now
        return _info(row)


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token, oldest first."""
    with store.session() as session:
        return [_info(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def delete_token(store: Store, token_id: int) -> bool:
    """Revoke a token; False when there is no such token."""
    with store.session() as session:
        result = session.execute(delete(ApiToken).where(ApiToken.id == token_id))
        return bool(getattr(result, "rowcount", 0))


def _aware(moment: datetime.datetime) -> datetime.datetime:
    """SQLite returns naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, tuple(Scope(s) for s in row.scopes.split()),
                     _aware(row.created_at),
                     _aware(row.last_used_at) if row.last_used_at else None)
