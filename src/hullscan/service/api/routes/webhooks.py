"""``/v1/webhooks/deliveries``: the webhook delivery log (written by the notifier)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from hullscan.service.api.auth import authorize
from hullscan.service.api.context import Context
from hullscan.service.api.schemas import DeliveryOut, Page
from hullscan.service.store.models import DeliveryStatus, WebhookDelivery

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"],
                   dependencies=[Depends(authorize())])


def delivery_out(row: WebhookDelivery) -> DeliveryOut:
    """The response for one delivery."""
    return DeliveryOut(
        id=row.id, subscription_id=row.subscription_id, kind=row.kind, status=row.status,
        attempts=row.attempts, next_attempt_at=row.next_attempt_at, last_error=row.last_error,
        response_status=row.response_status, created_at=row.created_at,
        delivered_at=row.delivered_at, payload=dict(row.payload))


@router.get("/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    context: Context, subscription_id: int | None = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[DeliveryOut]:
    """Deliveries, newest first, optionally of one subscription or status."""
    wanted = [(WebhookDelivery.subscription_id, subscription_id),
              (WebhookDelivery.status, status)]
    query = select(WebhookDelivery).where(*(column == value for column, value in wanted
                                            if value is not None))
    with context.service.store.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(WebhookDelivery.id.desc())
                               .limit(limit).offset(offset))
        items = [delivery_out(row) for row in rows]
    return Page[DeliveryOut](items=items, total=total, limit=limit, offset=offset)
