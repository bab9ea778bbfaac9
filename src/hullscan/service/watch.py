"""Registry watches: a ``tag_update`` subscription follows one tag, a ``repo_update``
subscription discovers new tags of a repository. A digest not seen before is recorded and
its analysis queued; the subscription's ``state`` remembers what was seen.

``state`` of a tag watch: ``{"digest": "sha256:..."}``; of a repository watch:
``{"tags": {"<tag>": "sha256:..."}}``; both gain ``"error"`` when the last poll failed.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

import httpx
from sqlalchemy import update

from hullscan.errors import HullscanError
from hullscan.image.copy import registry_reference, resolve_digest
from hullscan.image.reference import RegistryReference
from hullscan.image.sources.registry import client_for
from hullscan.service.operations import Service
from hullscan.service.queue import JobQueue
from hullscan.service.store.models import Subscription, SubscriptionKind, utcnow

LOG = logging.getLogger("hullscan.service.watch")


@dataclass(frozen=True)
class SeenDigest:
    """A tag found to name a digest the watch had not seen under it."""

    reference: str
    """``host/repo:tag``."""
    digest: str
    queued: bool
    """True when the digest was new to the service and its analysis was submitted."""


@dataclass(frozen=True)
class WatchResult:
    """What one poll of a watch found."""

    subscription_id: int
    seen: tuple[SeenDigest, ...]
    error: str | None = None
    """Why the poll failed (the registry unreachable, the tag gone); None on success."""


def _record(service: Service, queue: JobQueue, parsed: RegistryReference,
            digest: str) -> SeenDigest:
    _, _, created = service.record_image(parsed, digest)
    if created:
        queue.submit(digest)
    return SeenDigest(f"{parsed.registry}/{parsed.repository}:{parsed.tag}", digest, created)


def _save(service: Service, subscription_id: int, state: dict[str, object],
          now: datetime.datetime) -> None:
    with service.store.session() as session:
        session.execute(update(Subscription).where(Subscription.id == subscription_id)
                        .values(state=state, last_checked_at=now)
                        .execution_options(synchronize_session=False))


def poll_tag(service: Service, subscription: Subscription, queue: JobQueue, *,
             now: datetime.datetime | None = None) -> WatchResult:
    """Resolve the watched ``host/repo:tag``; a digest other than the one last seen is
    recorded under the tag (and queued when the service has never analysed it)."""
    if subscription.kind is not SubscriptionKind.TAG_UPDATE:
        raise HullscanError("not a tag_update subscription", subject=str(subscription.id))
    now = now or utcnow()
    state = dict(subscription.state or {})
    try:
        parsed = registry_reference(subscription.target)
        service.check_registry(parsed)
        with service.store.session() as session:
            options = service.acquire_options(parsed.registry, session)
        digest = resolve_digest(parsed, options).digest
    except (HullscanError, httpx.HTTPError, OSError) as error:
        message = str(error) or type(error).__name__
        LOG.warning("tag watch %s (%s): %s", subscription.id, subscription.target, message)
        _save(service, subscription.id, {**state, "error": message}, now)
        return WatchResult(subscription.id, (), message)
    seen: tuple[SeenDigest, ...] = ()
    if digest != state.get("digest"):
        seen = (_record(service, queue, parsed, digest),)
    _save(service, subscription.id, {"digest": digest}, now)
    return WatchResult(subscription.id, seen)


def poll_repository(service: Service, subscription: Subscription, queue: JobQueue, *,
                    now: datetime.datetime | None = None) -> WatchResult:
    """List the watched repository's tags; each tag not seen before is resolved, recorded
    and (when its digest is new to the service) queued. Tags already seen are not
    re-resolved: a moving tag is what ``tag_update`` watches."""
    if subscription.kind is not SubscriptionKind.REPO_UPDATE:
        raise HullscanError("not a repo_update subscription", subject=str(subscription.id))
    now = now or utcnow()
    state = dict(subscription.state or {})
    known_value = state.get("tags")
    known: dict[str, str] = dict(known_value) if isinstance(known_value, dict) else {}
    seen: list[SeenDigest] = []
    error: str | None = None
    try:
        parsed = registry_reference(subscription.target.split("@")[0])
        service.check_registry(parsed)
        with service.store.session() as session:
            options = service.acquire_options(parsed.registry, session)
        with client_for(parsed, options) as client:
            tags = client.list_tags(parsed.repository)
            for tag in sorted(set(tags) - set(known)):
                tagged = RegistryReference(parsed.registry, parsed.repository, tag, None)
                fetched = client.get_manifest(parsed.repository, tag)
                seen.append(_record(service, queue, tagged, fetched.digest))
                known[tag] = fetched.digest
        for gone in set(known) - set(tags):
            del known[gone]
    except (HullscanError, httpx.HTTPError, OSError) as failure:
        error = str(failure) or type(failure).__name__
        LOG.warning("repository watch %s (%s): %s", subscription.id, subscription.target, error)
    new_state: dict[str, object] = {"tags": known}
    if error is not None:
        new_state["error"] = error
    _save(service, subscription.id, new_state, now)
    return WatchResult(subscription.id, tuple(seen), error)


def poll(service: Service, subscription: Subscription, queue: JobQueue, *,
         now: datetime.datetime | None = None) -> WatchResult:
    """Poll a ``tag_update`` or ``repo_update`` subscription."""
    if subscription.kind is SubscriptionKind.REPO_UPDATE:
        return poll_repository(service, subscription, queue, now=now)
    return poll_tag(service, subscription, queue, now=now)
