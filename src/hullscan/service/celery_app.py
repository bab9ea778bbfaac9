"""Scaled-out analysis on Celery: the API enqueues a digest, any ``hullscan worker`` analyses it.

Who analyses a digest is decided by the database claim (:meth:`Service.claim`), never by the
broker, so a job delivered twice is analysed once. The broker only has to keep a job until its
results are committed:

* ``task_acks_late``: a job is acknowledged after :meth:`Service.run_analysis` returned, i.e.
  after the inventory and the results are committed; a worker killed mid-job never acks it.
* ``task_reject_on_worker_lost``: a pool child that dies hands its job back to the broker.
* ``worker_prefetch_multiplier=1``: a worker holds one job beyond the one it runs, so a dead
  worker strands little and a busy one does not hoard.

A redelivered job (RabbitMQ: at once when the dead worker's connection closes; Redis: after
``visibility_timeout``) finds the digest still claimed by the dead worker. While a worker
analyses it refreshes ``Analysis.claimed_at`` (a heartbeat); a claim whose heartbeat is older
than ``claim_stale_after`` is abandoned and the job takes it over. A redelivered job that finds a
*fresh* foreign claim (the holder is alive: it lost its broker connection, or Redis's visibility
timeout was shorter than the analysis) waits and looks again, so the digest is still never
analysed twice at once and the job is not dropped while its fate is open.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from celery import Celery  # type: ignore[import-untyped]
from sqlalchemy import or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from hullscan.errors import HullscanError
from hullscan.image.sources.interface import AcquireOptions
from hullscan.service.inventory import Inventory, analyse_inventory
from hullscan.service.operations import Service, worker_id
from hullscan.service.sealing import SecretBox
from hullscan.service.settings import (
    BROKER_VARIABLE,
    CLAIM_STALE_AFTER,
    DATABASE_URL_VARIABLE,
    DEFAULT_QUEUE,
    VISIBILITY_TIMEOUT,
    data_dir_from,
)
from hullscan.service.store.database import Store
from hullscan.service.store.models import Analysis, AnalysisStatus, ImageResult, utcnow

LOG = logging.getLogger("hullscan.service.worker")

TASK_NAME = "hullscan.analyse"

Analyse = Callable[[str, AcquireOptions], Inventory]
"""Pull and analyse one ``host/repo@digest`` (:func:`analyse_inventory`, or a test's)."""


@dataclass(frozen=True)
class WorkerSettings:
    """How workers consume jobs and treat claims and failures."""

    queue: str = DEFAULT_QUEUE
    """The broker queue jobs are sent to and consumed from."""
    claim_stale_after: float = CLAIM_STALE_AFTER
    """Seconds without a heartbeat after which a claim counts as abandoned (its holder died).
    Must exceed the clock skew between worker hosts by a wide margin."""
    failure_retries: int = 3
    """How often a failed analysis is retried before it stays ``failed`` with its error."""
    retry_backoff: float = 10.0
    """Seconds before the first retry of a failure; doubled for each further one."""
    max_backoff: float = 300.0
    """Upper bound of any retry delay, in seconds."""
    visibility_timeout: float = VISIBILITY_TIMEOUT
    """Redis only: seconds before an unacknowledged job is handed to another worker. Keep it
    above the longest analysis; a shorter one is safe (the claim decides) but wastes polls."""
    redis_restore_interval: float = 10.0
    """Redis only: seconds between a worker's sweeps for jobs whose visibility timed out."""

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between claim heartbeats: a few per ``claim_stale_after``."""
        return max(self.claim_stale_after / 4, 0.2)


class Outcome(StrEnum):
    """What one job did."""

    ANALYSED = "analysed"
    """Claimed, analysed, inventory and results stored."""
    RESCUED = "rescued"
    """Took over the claim of a dead holder, then analysed and stored."""
    DUPLICATE = "duplicate"
    """The digest is analysed, or being analysed by a live holder: nothing to do."""
    RESULTS_STORED = "results-stored"
    """An earlier attempt committed the inventory but not the results; the results now are."""
    UNKNOWN = "unknown"
    """No analysis row for the digest (deleted since it was queued)."""


class ClaimHeldError(HullscanError):
    """A continued job found the digest claimed by a live holder; look again later."""

    def __init__(self, digest: str, holder: str, wait: float) -> None:
        super().__init__(f"claimed by live holder {holder}; looking again in {wait:.1f} s",
                         subject=digest)
        self.wait = wait


@dataclass(frozen=True)
class _ClaimState:
    status: AnalysisStatus
    claimed_by: str | None
    claimed_at_age: float | None
    """Seconds since the claim was made or last heartbeat; None when never claimed."""
    has_results: bool


class JobRunner:
    """The broker-independent part of a job: decide, claim, heartbeat, analyse, store."""

    def __init__(self, service: Service, settings: WorkerSettings,
                 analyse: Analyse = analyse_inventory) -> None:
        self.service = service
        self.settings = settings
        self.analyse = analyse

    def run(self, digest: str, holder: str, *, continued: bool) -> Outcome:
        """Analyse ``digest`` as ``holder`` unless someone else has or does.

        ``continued`` marks a job that may have left a claim behind: redelivered by the broker
        or retried. Such a job waits for a live holder (:class:`ClaimHeldError`) instead of
        being dropped as a duplicate.
        """
        state = self._state(digest)
        if state is None:
            return Outcome.UNKNOWN
        take_over = False
        if state.status is AnalysisStatus.ANALYSING:
            if state.claimed_by == holder:
                take_over = True  # our own leftover (this process did not finish it)
            elif self._take_over_stale(digest, state):
                take_over = True
            elif continued:
                age = state.claimed_at_age or 0.0
                raise ClaimHeldError(digest, state.claimed_by or "?",
                                     max(self.settings.claim_stale_after - age, 0.0) + 0.5)
            else:
                return Outcome.DUPLICATE
        with self._heartbeat(digest, holder):
            done = self.service.run_analysis(digest, holder, take_over=take_over,
                                             analyse=self.analyse)
        if done:
            return Outcome.RESCUED if take_over and state.claimed_by != holder \
                else Outcome.ANALYSED
        after = self._state(digest)
        if after is not None and after.status is AnalysisStatus.ANALYSED \
                and not after.has_results:
            self.service.refresh_results(digest)
            return Outcome.RESULTS_STORED
        return Outcome.DUPLICATE

    def _state(self, digest: str) -> _ClaimState | None:
        with self.service.store.session() as session:
            analysis = session.scalar(select(Analysis).where(Analysis.digest == digest))
            if analysis is None:
                return None
            has_results = session.get(ImageResult, digest) is not None
            age = None
            if analysis.claimed_at is not None:
                claimed_at = analysis.claimed_at
                if claimed_at.tzinfo is None:  # SQLite returns naive UTC
                    claimed_at = claimed_at.replace(tzinfo=utcnow().tzinfo)
                age = (utcnow() - claimed_at).total_seconds()
            return _ClaimState(analysis.status, analysis.claimed_by, age, has_results)

    def _take_over_stale(self, digest: str, state: _ClaimState) -> bool:
        """Atomically move an abandoned claim to ``holder``'s takeover: exactly one rescuer
        wins, and only when the recorded holder missed its heartbeats."""
        if state.claimed_at_age is not None \
                and state.claimed_at_age < self.settings.claim_stale_after:
            return False
        cutoff = utcnow() - timedelta(seconds=self.settings.claim_stale_after)
        with self.service.store.session() as session:
            result = session.execute(
                update(Analysis).where(
                    Analysis.digest == digest,
                    Analysis.status == AnalysisStatus.ANALYSING,
                    Analysis.claimed_by == state.claimed_by,
                    or_(Analysis.claimed_at.is_(None), Analysis.claimed_at < cutoff))
                .values(claimed_at=utcnow())
                .execution_options(synchronize_session=False))
            won = bool(getattr(result, "rowcount", 0) == 1)
        if won:
            LOG.warning("taking over %s from %s (no heartbeat for %.1f s)", digest,
                        state.claimed_by, state.claimed_at_age or 0.0)
        return won

    @contextmanager
    def _heartbeat(self, digest: str, holder: str) -> Iterator[None]:
        """Refresh ``claimed_at`` of ``holder``'s claim while the body runs."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.settings.heartbeat_interval):
                try:
                    with self.service.store.session() as session:
                        session.execute(update(Analysis).where(
                            Analysis.digest == digest, Analysis.claimed_by == holder,
                            Analysis.status == AnalysisStatus.ANALYSING)
                            .values(claimed_at=utcnow())
                            .execution_options(synchronize_session=False))
                except Exception:  # a missed beat is retried; staleness is judged by others
                    LOG.warning("claim heartbeat for %s failed", digest, exc_info=True)

        thread = threading.Thread(target=beat, name=f"hullscan-heartbeat-{digest[7:19]}",
                                  daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def _retry_delay(settings: WorkerSettings, failures: int) -> float:
    return float(min(settings.retry_backoff * 2 ** failures, settings.max_backoff))


def _configure(app: Celery, broker_url: str, settings: WorkerSettings) -> None:
    app.conf.update(
        broker_url=broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "unacked_restore_interval": settings.redis_restore_interval,
            "unacked_restore_throttle": 1,
        },
        task_default_queue=settings.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        # Our claim heartbeat keeps a redelivered copy from running beside a task whose
        # broker connection dropped, so running tasks need not be cancelled on that loss.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=True,
    )


def make_celery(broker_url: str, service_factory: Callable[[], Service], *,
                settings: WorkerSettings | None = None,
                analyse: Analyse = analyse_inventory) -> Celery:
    """A Celery app with the ``hullscan.analyse(digest)`` task.

    ``service_factory`` is called once per worker process, at its first job (after a prefork
    pool forked, so no database connection crosses a fork).
    """
    settings = settings or WorkerSettings()
    app = Celery("hullscan", set_as_current=False)
    _configure(app, broker_url, settings)
    runners: list[JobRunner] = []
    lock = threading.Lock()

    def runner() -> JobRunner:
        with lock:
            if not runners:
                runners.append(JobRunner(service_factory(), settings, analyse))
            return runners[0]

    def analyse_task(task: Any, digest: str, failures: int = 0) -> str:
        delivery = task.request.delivery_info or {}
        continued = bool(delivery.get("redelivered")) or task.request.retries > 0
        try:
            outcome = runner().run(digest, worker_id(), continued=continued)
        except ClaimHeldError as held:
            LOG.info("%s", held)
            raise task.retry(kwargs={"failures": failures}, countdown=held.wait,
                             max_retries=None) from None
        except (OperationalError, InterfaceError) as error:
            # The store is unreachable: the job cannot be recorded anywhere, so it must not
            # be dropped either; it waits for the database however long that takes.
            LOG.warning("store unavailable for %s: %s", digest, error)
            raise task.retry(kwargs={"failures": failures}, max_retries=None,
                             countdown=_retry_delay(settings, failures)) from None
        except Exception as error:
            if failures >= settings.failure_retries:
                LOG.error("analysis of %s failed for good: %s", digest, error)
                raise  # the job is acked; the analysis stays failed with its error
            LOG.warning("analysis of %s failed (attempt %d), retrying: %s", digest,
                        failures + 1, error)
            raise task.retry(kwargs={"failures": failures + 1}, max_retries=None,
                             countdown=_retry_delay(settings, failures)) from None
        return f"{outcome.value} {digest}"

    app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)(analyse_task)
    return app


class CeleryQueue:
    """:class:`~hullscan.service.queue.JobQueue` that sends jobs to ``hullscan worker``s."""

    def __init__(self, broker_url: str, queue: str = DEFAULT_QUEUE) -> None:
        self.queue = queue
        self.app = Celery("hullscan-producer", set_as_current=False)
        _configure(self.app, broker_url, WorkerSettings(queue=queue))

    def submit(self, digest: str) -> None:
        """Send ``hullscan.analyse(digest)`` to the queue (by name: no task code needed)."""
        self.app.send_task(TASK_NAME, args=[digest], queue=self.queue)

    def close(self) -> None:
        """Release the broker connections."""
        self.app.close()


def service_from_environment(environ: dict[str, str] | None = None) -> Service:
    """The service of ``HULLSCAN_DATABASE_URL``, ``HULLSCAN_DB``, ``HULLSCAN_DATA_DIR`` and
    ``HULLSCAN_SECRET_KEY`` (the store is not migrated: the worker command does that once)."""
    from hullscan.vuln.db.store import default_database_path

    env = dict(os.environ) if environ is None else environ
    url = env.get(DATABASE_URL_VARIABLE)
    if not url:
        raise HullscanError("not set: workers share the service's database (PostgreSQL)",
                            subject=DATABASE_URL_VARIABLE)
    return Service(Store(url, upgrade=False), default_database_path(env),
                   SecretBox.from_environment(), data_dir_from(env))


def celery_from_environment() -> Celery:
    """``make_celery`` configured from ``HULLSCAN_BROKER_URL`` and the service variables."""
    broker = os.environ.get(BROKER_VARIABLE)
    if not broker:
        raise HullscanError("not set: amqp://... (RabbitMQ) or redis://... (Redis)",
                            subject=BROKER_VARIABLE)
    return make_celery(broker, service_from_environment)
