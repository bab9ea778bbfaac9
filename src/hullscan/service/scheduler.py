"""The continuous loop: poll watched tags and repositories, update the vulnerability
database on a schedule, re-match every stored inventory after a change, deliver webhooks.

Exactly one scheduler is active across processes and machines: each round starts by taking
or renewing the ``scheduler`` row of the ``lease`` table (a conditional UPDATE, or an INSERT
when the row does not exist yet; two INSERTs race on the primary key and one loses). A
holder that stops renewing (crashed, partitioned) loses the lease when it expires.
"""

from __future__ import annotations

import datetime
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hullscan.errors import HullscanError
from hullscan.service.operations import ResultChange, Service, worker_id
from hullscan.service.queue import JobQueue
from hullscan.service.rematch import rematch_all
from hullscan.service.store.models import (
    Analysis,
    AnalysisStatus,
    ImageResult,
    Lease,
    Subscription,
    SubscriptionKind,
    utcnow,
)
from hullscan.service.watch import WatchResult, poll
from hullscan.service.webhooks import DeliveryAttempt, RetryPolicy, aware, deliver_pending
from hullscan.vuln.db.store import VulnerabilityDatabase

LOG = logging.getLogger("hullscan.service.scheduler")

LEASE_NAME = "scheduler"

DatabaseUpdate = Callable[[Path], bool]
"""Brings the database file at the given path up to date; returns whether it changed."""


def download_update(cache_dir: Path | None = None, *, include_nvd: bool = False
                    ) -> DatabaseUpdate:
    """The production update: ``hullscan db update`` (conditional downloads of the default
    feeds, ``HULLSCAN_FEED_*`` overrides honoured, then an atomic rebuild). Reports a change
    when a feed was downloaded anew or the database did not exist."""

    def update_file(destination: Path) -> bool:
        from hullscan.vuln.db.download import default_feeds, update_database

        existed = destination.is_file()
        destination.parent.mkdir(parents=True, exist_ok=True)
        report = update_database(destination, default_feeds(include_nvd=include_nvd),
                                 cache_dir or destination.parent / "feeds")
        return bool(report.downloaded) or not existed

    return update_file


@dataclass(frozen=True)
class SchedulerConfig:
    """How often the scheduler does what (seconds)."""

    poll_interval: float = 30.0
    """Pause between rounds of :meth:`Scheduler.run_forever` (watches keep their own
    ``interval_seconds``; a round polls those that are due)."""
    db_update_interval: float | None = 6 * 3600.0
    """Time between database updates; None: never update (someone else replaces the file)."""
    lease_seconds: float = 120.0
    """How long a lease lasts without renewal; longer than a round's slowest step."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """Webhook retries."""


@dataclass(frozen=True)
class RoundReport:
    """What one round did."""

    leader: bool
    """False: another scheduler holds the lease; nothing else was done."""
    watches: tuple[WatchResult, ...] = ()
    database_updated: bool | None = None
    """True/False: an update ran and changed / did not change the file; None: not due or it
    failed (see ``errors``)."""
    rematched: bool = False
    changes: tuple[ResultChange, ...] = ()
    deliveries: tuple[DeliveryAttempt, ...] = ()
    errors: tuple[str, ...] = ()


class Scheduler:
    """One participant in the scheduler election; runs rounds while it holds the lease."""

    def __init__(self, service: Service, queue: JobQueue, *,
                 config: SchedulerConfig | None = None,
                 update_database: DatabaseUpdate | None = None,
                 holder: str | None = None) -> None:
        self.service = service
        self.queue = queue
        self.config = config or SchedulerConfig()
        self.update_database = update_database or download_update()
        self.holder = holder or f"{worker_id()}:{uuid.uuid4().hex[:8]}"
        self._last_update: datetime.datetime | None = None

    # ----------------------------------------------------------------- lease

    def acquire(self, now: datetime.datetime | None = None) -> bool:
        """Take or renew the lease until ``now + lease_seconds``; True when held."""
        now = now or utcnow()
        expires = now + datetime.timedelta(seconds=self.config.lease_seconds)
        with self.service.store.session() as session:
            renewed = session.execute(
                update(Lease).where(Lease.name == LEASE_NAME,
                                    or_(Lease.expires_at < now, Lease.holder == self.holder))
                .values(holder=self.holder, expires_at=expires)
                .execution_options(synchronize_session=False))
            if getattr(renewed, "rowcount", 0) == 1:
                return True
            if session.get(Lease, LEASE_NAME) is not None:
                return False  # held by another, not expired
        try:
            with self.service.store.session() as session:
                session.add(Lease(name=LEASE_NAME, holder=self.holder, expires_at=expires))
        except IntegrityError:
            return False  # another scheduler inserted it first
        return True

    def release(self) -> None:
        """Give the lease up at once (on a clean stop), if held."""
        with self.service.store.session() as session:
            session.execute(
                update(Lease).where(Lease.name == LEASE_NAME, Lease.holder == self.holder)
                .values(expires_at=utcnow() - datetime.timedelta(seconds=1))
                .execution_options(synchronize_session=False))

    def holds_lease(self, now: datetime.datetime | None = None) -> bool:
        """Whether this scheduler holds an unexpired lease at ``now``."""
        with self.service.store.session() as session:
            lease = session.get(Lease, LEASE_NAME)
        return lease is not None and lease.holder == self.holder and \
            aware(lease.expires_at) > (now or utcnow())

    # ----------------------------------------------------------------- rounds

    def run_once(self, now: datetime.datetime | None = None) -> RoundReport:
        """One round at ``now``: watches due, the database update when due, a re-match when
        the database (or the active policy) differs from the one the stored results were
        computed with, then webhook deliveries. Does nothing without the lease."""
        now = now or utcnow()
        if not self.acquire(now):
            return RoundReport(leader=False)
        errors: list[str] = []
        watches = self._poll_watches(now)
        updated = self._update_database(now, errors)
        rematched = False
        changes: list[ResultChange] = []
        if self.acquire(now) and (updated or self.results_stale()):
            changes = rematch_all(self.service)
            rematched = True
        deliveries: list[DeliveryAttempt] = []
        if self.acquire(now):
            deliveries = deliver_pending(self.service, retry=self.config.retry)
        return RoundReport(True, tuple(watches), updated, rematched, tuple(changes),
                           tuple(deliveries), tuple(errors))

    def run_forever(self, stop: threading.Event) -> None:
        """Run rounds every ``poll_interval`` seconds until ``stop`` is set; a failing round
        is logged and the next one runs as usual. Releases the lease on the way out."""
        try:
            while not stop.is_set():
                try:
                    report = self.run_once()
                    if report.leader and (report.changes or report.errors):
                        LOG.info("round: %d changes, errors: %s", len(report.changes),
                                 "; ".join(report.errors) or "none")
                except Exception:
                    LOG.exception("scheduler round failed")
                stop.wait(self.config.poll_interval)
        finally:
            self.release()

    def _poll_watches(self, now: datetime.datetime) -> list[WatchResult]:
        with self.service.store.session() as session:
            watches = session.scalars(select(Subscription).where(
                Subscription.active.is_(True),
                Subscription.kind.in_([SubscriptionKind.TAG_UPDATE,
                                       SubscriptionKind.REPO_UPDATE]))
                .order_by(Subscription.id)).all()
        results = []
        for watch in watches:
            last = watch.last_checked_at
            if last is not None and \
                    aware(last) + datetime.timedelta(seconds=watch.interval_seconds) > now:
                continue
            results.append(poll(self.service, watch, self.queue, now=now))
        return results

    def _update_database(self, now: datetime.datetime, errors: list[str]) -> bool | None:
        interval = self.config.db_update_interval
        if interval is None or (self._last_update is not None and
                                self._last_update + datetime.timedelta(seconds=interval) > now):
            return None
        self._last_update = now  # also after a failure: retried at the next interval
        try:
            return self.update_database(self.service.database_path)
        except (HullscanError, httpx.HTTPError, OSError) as error:
            # Offline or a feed down: the current database stays; results stay as they are.
            message = f"database update failed, keeping the current database: {error}"
            LOG.warning("%s", message)
            errors.append(message)
            return None

    def results_stale(self) -> bool:
        """Whether some analysed digest's stored results were computed with another database
        build or another policy than the current ones (e.g. after `hullscan db update` ran
        outside the scheduler, a restart, or a policy activation)."""
        path = self.service.database_path
        if not path.is_file():
            return False
        with VulnerabilityDatabase.open(path) as database:
            built_at = database.status().built_at
        policy_id = self.service.active_bundle().id
        # Digests without results are still finishing their analysis, which stores them.
        with self.service.store.session() as session:
            stale = session.scalar(
                select(func.count()).select_from(ImageResult)
                .join(Analysis, ImageResult.digest == Analysis.digest)
                .where(Analysis.status == AnalysisStatus.ANALYSED,
                       or_(ImageResult.database_built_at.is_(None),
                           ImageResult.database_built_at != built_at,
                           ImageResult.policy_id.is_(None),
                           ImageResult.policy_id != policy_id)))
        return bool(stale)
