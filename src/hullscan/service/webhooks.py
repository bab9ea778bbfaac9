"""Webhook notifications: queued as :class:`WebhookDelivery` rows, delivered by HTTP POST,
signed, retried with exponential backoff, kept as a delivery log.

Signature (``X-Hullscan-Signature: t=<unix seconds>,v1=<hex>``): ``v1`` is the lowercase hex
HMAC-SHA256, keyed with the subscription's secret, of ``"<t>.<body>"`` where ``body`` is the
exact request body bytes. Receivers recompute it with :func:`verify_signature` and reject
timestamps older than a tolerance (replay protection). ``X-Hullscan-Event`` names the kind
(``vuln_update``, ``policy_eval``) and ``X-Hullscan-Delivery`` the delivery id (the same on
every retry, so receivers can drop duplicates).

Webhook URLs are fetched from the service's network position: an URL could point at internal
services (SSRF). Only ``http``/``https`` URLs are accepted, redirects are not followed,
response bodies are never stored or returned, and every connection goes through the service's
egress guard (:class:`hullscan.service.egress.GuardedTransport`): a target resolving to a
loopback, private, link-local or metadata address is refused (the delivery fails at once with
``refused: ... resolves to a private address``) unless ``--allow-network`` lists it.
"""

from __future__ import annotations

import datetime
import fnmatch
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update

from hullscan import __version__
from hullscan.errors import HullscanError
from hullscan.service.egress import EgressRefusedError, GuardedTransport
from hullscan.service.operations import Service
from hullscan.service.store.models import (
    DeliveryStatus,
    Image,
    Subscription,
    SubscriptionKind,
    WebhookDelivery,
    utcnow,
)

LOG = logging.getLogger("hullscan.service.webhooks")

SIGNATURE_HEADER = "X-Hullscan-Signature"
EVENT_HEADER = "X-Hullscan-Event"
DELIVERY_HEADER = "X-Hullscan-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300
"""How old a signature timestamp :func:`verify_signature` accepts by default."""

NOTIFICATION_KINDS = frozenset({SubscriptionKind.VULN_UPDATE, SubscriptionKind.POLICY_EVAL})


class WebhookUrlError(HullscanError):
    """A webhook URL the service will not call."""


@dataclass(frozen=True)
class RetryPolicy:
    """How failed deliveries are retried."""

    base_seconds: float = 30.0
    """Delay after the first failed attempt; doubled after each further one."""
    cap_seconds: float = 3600.0
    """Longest delay between two attempts."""
    max_attempts: int = 8
    """Attempts before a delivery is marked failed for good."""
    timeout_seconds: float = 10.0
    """Per-request timeout (connect, read, write)."""

    def delay(self, failed_before: int) -> float:
        """Seconds to wait after a failure when ``failed_before`` attempts had already
        failed: ``base * 2**failed_before``, capped."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** failed_before))


@dataclass(frozen=True)
class DeliveryAttempt:
    """What one delivery attempt did."""

    delivery_id: int
    subscription_id: int
    status: DeliveryStatus
    """The delivery's status after the attempt."""
    attempts: int
    """Attempts made so far, this one included."""
    response_status: int | None
    """The HTTP status the receiver answered (None: no answer)."""
    error: str | None
    next_attempt_at: datetime.datetime | None
    """When it is tried again (None once delivered or failed)."""


# --------------------------------------------------------------------------- signatures


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str | None, body: bytes, *,
                     tolerance: float = DEFAULT_TOLERANCE_SECONDS,
                     now: float | None = None) -> bool:
    """True when ``header`` (an ``X-Hullscan-Signature`` value) signs ``body`` with
    ``secret`` and its timestamp is within ``tolerance`` seconds of ``now`` (Unix seconds,
    default the clock). Any ``v1`` entry may match (several during a key rotation)."""
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = signature_header(secret, body, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def validate_webhook_url(url: str) -> str:
    """``url`` if the service may call it (``http``/``https`` with a host); else an error."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlError("webhook URLs must be http:// or https:// with a host",
                              subject=url)
    if parts.username or parts.password:
        raise WebhookUrlError("credentials in webhook URLs would be stored in clear; sign "
                              "with the subscription secret instead", subject=url)
    return url


# --------------------------------------------------------------------------- queueing


def target_matches(target: str, names: Iterable[str]) -> bool:
    """Whether a subscription ``target`` (``*`` or a glob over ``host/repo:tag``) names any
    of ``names``."""
    if target.strip() == "*":
        return True
    return any(fnmatch.fnmatchcase(name, target) for name in names)


def image_names(service: Service, digest: str) -> list[str]:
    """Every ``host/repo:tag`` (or ``host/repo@digest`` when untagged) recorded for
    ``digest``, sorted."""
    return image_names_of(service, [digest]).get(digest, [])


def image_names_of(service: Service, digests: Iterable[str]) -> dict[str, list[str]]:
    """:func:`image_names` of many digests in one query."""
    wanted = sorted(set(digests))
    names: dict[str, set[str]] = {}
    images: list[Image] = []
    with service.store.session() as session:
        for start in range(0, len(wanted), 500):  # bounded IN lists
            images += session.scalars(select(Image).where(
                Image.digest.in_(wanted[start:start + 500])))
    for image in images:
        names.setdefault(image.digest, set()).add(
            f"{image.registry_host}/{image.repository}:{image.tag}" if image.tag
            else f"{image.registry_host}/{image.repository}@{image.digest}")
    return {digest: sorted(found) for digest, found in names.items()}


@dataclass(frozen=True)
class Notification:
    """Something to tell the subscribers of ``kind`` about one digest."""

    kind: SubscriptionKind
    digest: str
    payload: Mapping[str, object]
    """Kind-specific fields (see docs/service-continuous.md)."""
    names: Sequence[str]
    """The digest's image names: what subscription targets are matched against."""


def enqueue(service: Service, kind: SubscriptionKind, digest: str,
            payload: Mapping[str, object], *, names: Sequence[str] | None = None
            ) -> list[int]:
    """Queue ``payload`` for every active ``kind`` subscription with a webhook whose target
    matches one of the digest's image names (default: the recorded ones); returns the new
    delivery ids.

    The stored payload gains ``event``, ``subscription_id``, ``digest``, ``images`` and
    ``created_at``.
    """
    found = list(names) if names is not None else image_names(service, digest)
    return enqueue_all(service, [Notification(kind, digest, payload, found)])


def enqueue_all(service: Service, notifications: Sequence[Notification]) -> list[int]:
    """:func:`enqueue` for many notifications: one query for the subscriptions, one
    transaction for the deliveries."""
    kinds = {n.kind for n in notifications}
    if not kinds <= NOTIFICATION_KINDS:
        raise HullscanError("only vuln_update and policy_eval notify",
                            subject=", ".join(sorted(kinds - NOTIFICATION_KINDS)))
    if not notifications:
        return []
    created = utcnow()
    stamp = created.isoformat().replace("+00:00", "Z")
    with service.store.session() as session:
        subscriptions = session.scalars(select(Subscription).where(
            Subscription.kind.in_(kinds), Subscription.active.is_(True),
            Subscription.webhook_url.is_not(None)).order_by(Subscription.id)).all()
        deliveries = [
            WebhookDelivery(
                subscription_id=s.id, kind=str(n.kind), status=DeliveryStatus.PENDING,
                attempts=0, next_attempt_at=created, created_at=created,
                payload={**n.payload, "event": str(n.kind), "subscription_id": s.id,
                         "digest": n.digest, "images": list(n.names), "created_at": stamp})
            for n in notifications for s in subscriptions
            if s.kind == n.kind and target_matches(s.target, n.names)]
        session.add_all(deliveries)
        session.flush()
        return [d.id for d in deliveries]


# --------------------------------------------------------------------------- delivery


def aware(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` as a timezone-aware UTC datetime (SQLite hands back naive ones; everything
    stored is UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _body(payload: Mapping[str, object]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def deliver_pending(service: Service, *, now: datetime.datetime | None = None,
                    retry: RetryPolicy = RetryPolicy(), client: httpx.Client | None = None,
                    limit: int = 500) -> list[DeliveryAttempt]:
    """Attempt every pending delivery that is due at ``now`` (oldest first).

    Each delivery is claimed before it is sent (its ``next_attempt_at`` is pushed past the
    request timeout with a conditional UPDATE), so concurrent deliverers never send the same
    attempt twice. Without a ``client``, :func:`guarded_client` sends them.
    """
    now = now or utcnow()
    with service.store.session() as session:
        due = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING,
                   WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)).all()
    if not due:
        return []
    own = client is None
    http = client or guarded_client(service, retry)
    try:
        attempts = []
        for delivery_id, scheduled in due:
            attempt = _attempt(service, delivery_id, scheduled, now, retry, http)
            if attempt is not None:
                attempts.append(attempt)
        return attempts
    finally:
        if own:
            http.close()


def guarded_client(service: Service, retry: RetryPolicy = RetryPolicy()) -> httpx.Client:
    """The client webhooks are sent with: no redirects, no proxies from the environment (the
    proxy would be connected to, not the checked target), every connection through
    ``service.egress``."""
    return httpx.Client(transport=GuardedTransport(service.egress), trust_env=False,
                        timeout=retry.timeout_seconds, follow_redirects=False,
                        headers={"User-Agent": f"hullscan/{__version__}"})


def _attempt(service: Service, delivery_id: int, scheduled: datetime.datetime,
             now: datetime.datetime, retry: RetryPolicy, http: httpx.Client
             ) -> DeliveryAttempt | None:
    claim_until = now + datetime.timedelta(seconds=retry.timeout_seconds * 3 + 5)
    with service.store.session() as session:
        claimed = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id,
                   WebhookDelivery.status == DeliveryStatus.PENDING,
                   WebhookDelivery.next_attempt_at == scheduled)
            .values(next_attempt_at=claim_until)
            .execution_options(synchronize_session=False))
        if getattr(claimed, "rowcount", 0) != 1:
            return None  # another deliverer has it
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        subscription = session.get(Subscription, delivery.subscription_id)
        url = subscription.webhook_url if subscription is not None else None
        sealed = subscription.secret_encrypted if subscription is not None else None
        payload, kind, failed_before = delivery.payload, delivery.kind, delivery.attempts
        subscription_id = delivery.subscription_id
    response_status: int | None = None
    error: str | None = None
    refused = False
    if url is None:
        error = "the subscription or its webhook URL is gone"
    else:
        body = _body(payload)
        headers = {"Content-Type": "application/json", EVENT_HEADER: kind,
                   DELIVERY_HEADER: str(delivery_id)}
        try:
            if sealed is not None:
                headers[SIGNATURE_HEADER] = signature_header(
                    service.box.open(sealed), body, int(time.time()))
            response = http.post(validate_webhook_url(url), content=body, headers=headers)
            response_status = response.status_code
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        except EgressRefusedError as failure:
            error, refused = str(failure), True
        except HullscanError as failure:
            error = str(failure)
    attempts = failed_before + 1
    finished = utcnow()
    next_attempt: datetime.datetime | None = None
    if error is None:
        status = DeliveryStatus.DELIVERED
    elif attempts >= retry.max_attempts or url is None or refused:
        status = DeliveryStatus.FAILED
    else:
        status = DeliveryStatus.PENDING
        next_attempt = finished + datetime.timedelta(seconds=retry.delay(failed_before))
    with service.store.session() as session:
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
            .values(status=status, attempts=attempts, response_status=response_status,
                    last_error=error, next_attempt_at=next_attempt or finished,
                    delivered_at=finished if status is DeliveryStatus.DELIVERED else None)
            .execution_options(synchronize_session=False))
    if error is not None:
        LOG.warning("webhook delivery %s (%s) attempt %s failed: %s", delivery_id, kind,
                    attempts, error)
    return DeliveryAttempt(delivery_id, subscription_id, status, attempts, response_status,
                           error, next_attempt)


def delivery_log(service: Service, *, subscription_id: int | None = None,
                 status: DeliveryStatus | None = None, limit: int = 100
                 ) -> list[WebhookDelivery]:
    """Deliveries, newest first, optionally of one subscription or status."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    with service.store.session() as session:
        return list(session.scalars(query))
