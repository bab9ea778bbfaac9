"""Registry watches against a real registry, on SQLite and PostgreSQL: a watched tag that
moves to a new image is analysed by the scheduler without any API call; a watched repository
yields its new tags; an unreachable registry is recorded, not raised."""

from __future__ import annotations

import datetime
import itertools

from sqlalchemy import select

from hullscan.service.operations import Service
from hullscan.service.queue import InProcessQueue
from hullscan.service.scheduler import Scheduler, SchedulerConfig
from hullscan.service.store.models import (
    Analysis,
    AnalysisStatus,
    Image,
    Subscription,
    SubscriptionKind,
)
from hullscan.service.watch import poll_repository, poll_tag
from tests.service.conftest import push
from tests.support.registry_servers import RegistryServer
from tests.support.vulnerable_image import VulnerableImage

_repositories = itertools.count()
T0 = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


class RecordingQueue:
    """A queue that only remembers what it was given."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, digest: str) -> None:
        self.submitted.append(digest)

    def close(self) -> None:
        """Nothing to release."""


def watch(service: Service, kind: SubscriptionKind, target: str, interval: int = 60
          ) -> Subscription:
    with service.store.session() as session:
        subscription = Subscription(kind=kind, target=target, interval_seconds=interval)
        session.add(subscription)
        session.flush()
    return reload(service, subscription.id)


def reload(service: Service, subscription_id: int) -> Subscription:
    with service.store.session() as session:
        subscription = session.get(Subscription, subscription_id)
    assert subscription is not None
    return subscription


def analysed(service: Service) -> dict[str, int]:
    with service.store.session() as session:
        return dict(session.execute(select(Analysis.digest, Analysis.analysis_count).where(
            Analysis.status == AnalysisStatus.ANALYSED)).all())


def test_tag_watch_analyses_a_pushed_image(service: Service, registry_plain: RegistryServer,
                                           vulnerable_image: VulnerableImage) -> None:
    repository = f"watch{next(_repositories)}/app"
    target = push(registry_plain, vulnerable_image.layout, vulnerable_image.ref, repository,
                  "latest")
    subscription = watch(service, SubscriptionKind.TAG_UPDATE, target, interval=60)
    queue = InProcessQueue(service)
    scheduler = Scheduler(service, queue, config=SchedulerConfig(db_update_interval=None))
    try:
        first = scheduler.run_once(T0)
        assert first.leader and len(first.watches) == 1
        (seen,) = first.watches[0].seen
        assert seen.queued and seen.reference == target
        queue.close()  # waits for the analysis
        assert analysed(service) == {seen.digest: 1}

        # A different image is pushed to the watched tag; nobody calls any API.
        push(registry_plain, vulnerable_image.layout, vulnerable_image.clean_ref, repository,
             "latest")
        queue = InProcessQueue(service)
        scheduler.queue = queue
        assert scheduler.run_once(T0 + datetime.timedelta(seconds=30)).watches == ()  # not due
        second = scheduler.run_once(T0 + datetime.timedelta(seconds=61))
        (moved,) = second.watches[0].seen
        assert moved.queued and moved.digest != seen.digest
        queue.close()
        assert analysed(service) == {seen.digest: 1, moved.digest: 1}
        with service.store.session() as session:
            tagged = set(session.scalars(select(Image.digest).where(
                Image.repository == repository, Image.tag == "latest")))
        assert tagged == {seen.digest, moved.digest}
        state = reload(service, subscription.id).state
        assert state == {"digest": moved.digest}

        # Unchanged tag: nothing new.
        third = scheduler.run_once(T0 + datetime.timedelta(seconds=130))
        assert third.watches[0].seen == () and third.watches[0].error is None
    finally:
        queue.close()


def test_repository_watch_finds_new_tags(service: Service, registry_plain: RegistryServer,
                                         vulnerable_image: VulnerableImage) -> None:
    repository = f"watch{next(_repositories)}/repo"
    host = registry_plain.host
    push(registry_plain, vulnerable_image.layout, vulnerable_image.ref, repository, "1.0")
    push(registry_plain, vulnerable_image.layout, vulnerable_image.ref, repository, "1.0-alias")
    subscription = watch(service, SubscriptionKind.REPO_UPDATE, f"{host}/{repository}")
    queue = RecordingQueue()
    first = poll_repository(service, subscription, queue, now=T0)
    assert first.error is None
    assert sorted(s.reference for s in first.seen) == [
        f"{host}/{repository}:1.0", f"{host}/{repository}:1.0-alias"]
    # One digest under two tags: queued once.
    assert len(queue.submitted) == 1 and [s.queued for s in first.seen].count(True) == 1

    push(registry_plain, vulnerable_image.layout, vulnerable_image.clean_ref, repository, "2.0")
    second = poll_repository(service, reload(service, subscription.id), queue, now=T0)
    assert [s.reference for s in second.seen] == [f"{host}/{repository}:2.0"]
    assert len(queue.submitted) == 2 and queue.submitted[1] == second.seen[0].digest
    state = reload(service, subscription.id).state
    assert state is not None and sorted(state["tags"]) == ["1.0", "1.0-alias", "2.0"]  # type: ignore[call-overload]
    assert poll_repository(service, reload(service, subscription.id), queue).seen == ()


def test_unreachable_registry_is_recorded(service: Service) -> None:
    subscription = watch(service, SubscriptionKind.TAG_UPDATE, "127.0.0.1:9/gone/app:latest")
    queue = RecordingQueue()
    result = poll_tag(service, subscription, queue, now=T0)
    assert result.error and result.seen == ()
    stored = reload(service, subscription.id)
    assert stored.state is not None and stored.state.get("error")
    assert stored.last_checked_at is not None and queue.submitted == []
