"""``GET /health``: the one endpoint without a token; says whether the store answers."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hullscan import __version__
from hullscan.service.api.context import Context
from hullscan.service.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"description": "no store"}})
def health(context: Context) -> Health:
    """``ok`` when the store answers a query (else 503)."""
    try:
        with context.service.store.session() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise HTTPException(503, "the store does not answer") from None
    return Health(status="ok", version=__version__)
