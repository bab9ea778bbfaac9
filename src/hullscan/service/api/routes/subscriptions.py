"""``/v1/subscriptions``: watches (``tag_update``, ``repo_update``) and notification
interests (``vuln_update``, ``policy_eval``). Only their records: the scheduler acts on them."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import delete, func, select

from hullscan.errors import HullscanError
from hullscan.service.api.auth import authorize
from hullscan.service.api.context import Context
from hullscan.service.api.egress_checks import check_registry_field, check_url_field
from hullscan.service.api.errors import NotFoundError
from hullscan.service.api.references import registry_only
from hullscan.service.api.schemas import (
    Page,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
)
from hullscan.service.store.models import Subscription, SubscriptionKind, WebhookDelivery
from hullscan.service.webhooks import validate_webhook_url

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"],
                   dependencies=[Depends(authorize())])


def _tag_target(target: str) -> str:
    parsed = registry_only(target)
    if parsed.digest is not None:
        raise HullscanError("a tag watch names host/repository:tag, not a digest",
                            subject=target)
    return f"{parsed.name}:{parsed.tag}"


def _repository_target(target: str) -> str:
    if ":" in target.rsplit("/", 1)[-1] or "@" in target:
        raise HullscanError("a repository watch names host/repository, without tag or digest",
                            subject=target)
    return registry_only(target).name


def _image_pattern(target: str) -> str:
    # ``*`` or a glob over host/repo:tag names (matched by the notifier), kept as written.
    return target.strip()


TARGETS: dict[SubscriptionKind, Callable[[str], str]] = {
    SubscriptionKind.TAG_UPDATE: _tag_target,
    SubscriptionKind.REPO_UPDATE: _repository_target,
    SubscriptionKind.VULN_UPDATE: _image_pattern,
    SubscriptionKind.POLICY_EVAL: _image_pattern,
}
"""Each kind's target check, returning the target as stored."""
WATCH_KINDS = frozenset({SubscriptionKind.TAG_UPDATE, SubscriptionKind.REPO_UPDATE})
"""Kinds whose target is a registry the scheduler polls."""


def subscription_out(row: Subscription) -> SubscriptionOut:
    """The response for a stored subscription: never its webhook key."""
    return SubscriptionOut(
        id=row.id, kind=row.kind, target=row.target, webhook_url=row.webhook_url,
        has_secret=row.secret_encrypted is not None, interval_seconds=row.interval_seconds,
        active=row.active, last_checked_at=row.last_checked_at, created_at=row.created_at)


@router.post("", status_code=201, response_model=SubscriptionCreated)
def create_subscription(body: SubscriptionIn, context: Context) -> SubscriptionCreated:
    """Store a subscription; a webhook key is generated (and returned once) if none is given."""
    target = TARGETS[body.kind](body.target)
    if body.kind in WATCH_KINDS:
        check_registry_field(context.service, "body.target", registry_only(target))
    url = validate_webhook_url(body.webhook_url) if body.webhook_url else None
    if url is not None:
        check_url_field(context.service, "body.webhook_url", url)
    given = body.webhook_secret.get_secret_value() if body.webhook_secret else None
    generated = secrets.token_urlsafe(32) if url and not given else None
    key = given or generated
    with context.service.store.session() as session:
        row = Subscription(kind=body.kind, target=target, webhook_url=url,
                           secret_encrypted=context.service.box.seal(key) if key else None,
                           interval_seconds=body.interval_seconds, active=body.active)
        session.add(row)
        session.flush()
        return SubscriptionCreated(**subscription_out(row).model_dump(),
                                   webhook_secret=generated)


@router.get("", response_model=Page[SubscriptionOut])
def list_subscriptions(
    context: Context, kind: SubscriptionKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[SubscriptionOut]:
    """Subscriptions, oldest first, optionally of one kind."""
    query = select(Subscription)
    if kind is not None:
        query = query.where(Subscription.kind == kind)
    with context.service.store.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(Subscription.id).limit(limit).offset(offset))
        items = [subscription_out(row) for row in rows]
    return Page[SubscriptionOut](items=items, total=total, limit=limit, offset=offset)


@router.get("/{subscription_id}", response_model=SubscriptionOut)
def get_subscription(subscription_id: int, context: Context) -> SubscriptionOut:
    """One subscription."""
    with context.service.store.session() as session:
        row = session.get(Subscription, subscription_id)
        if row is None:
            raise NotFoundError("no such subscription", subject=f"subscription {subscription_id}")
        return subscription_out(row)


@router.delete("/{subscription_id}", status_code=204)
def delete_subscription(subscription_id: int, context: Context) -> None:
    """Delete a subscription and its delivery log."""
    with context.service.store.session() as session:
        row = session.get(Subscription, subscription_id)
        if row is None:
            raise NotFoundError("no such subscription", subject=f"subscription {subscription_id}")
        session.execute(delete(WebhookDelivery)
                        .where(WebhookDelivery.subscription_id == subscription_id))
        session.delete(row)
