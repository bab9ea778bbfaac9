"""Scale-out: ``hullscan worker`` processes on a broker (RabbitMQ, Redis) and PostgreSQL analyse
every queued digest exactly once, even when one of them is killed mid-analysis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from hullscan.errors import HullscanError
from hullscan.image.copy import registry_reference
from hullscan.image.sources.interface import AcquireOptions
from hullscan.service.celery_app import (
    TASK_NAME,
    CeleryQueue,
    ClaimHeldError,
    JobRunner,
    Outcome,
    WorkerSettings,
    make_celery,
)
from hullscan.service.inventory import Inventory, analyse_inventory
from hullscan.service.operations import Service
from hullscan.service.sealing import SecretBox
from hullscan.service.settings import ALLOWED_NETWORKS_VARIABLE
from hullscan.service.store.database import Store
from hullscan.service.store.models import Analysis, AnalysisStatus, utcnow
from tests.service.conftest import LOCAL_EGRESS, LOCAL_NETWORKS, postgres_database, push
from tests.service.worker_support import (
    RABBITMQ_URL,
    REDIS_URL,
    WorkerProcess,
    analyses,
    broker_or_skip,
    build_distinct_images,
    completions,
    launch_worker,
    purged,
    results,
    running_workers,
    wait_ready,
    wait_until,
)
from tests.support.registry_servers import RegistryServer
from tests.vuln.conftest import BuiltDatabase

pytestmark = [pytest.mark.slow, pytest.mark.registry]

IMAGES = 20
ANALYSIS_DELAY = 1.0
"""Seconds each analysis sleeps (HULLSCAN_TEST_ANALYSIS_DELAY): long enough that a kill lands
while a claim is held, short enough for the run to stay well under a minute."""
KILL_AFTER = 3
"""Worker 1 is killed in the analysis after its third: both workers took jobs by then."""
STALE_AFTER = 3.0
"""--claim-stale-after of the test workers (production default: 60 s)."""
REDIS_VISIBILITY_TIMEOUT = 5.0
"""--visibility-timeout of the Redis test workers: how soon a killed worker's job returns."""


@dataclass(frozen=True)
class Broker:
    """A broker to test on and the worker options it needs."""

    url: str
    options: tuple[str, ...] = ()


BROKERS = {
    "rabbitmq": Broker(RABBITMQ_URL),
    "redis": Broker(REDIS_URL, ("--visibility-timeout", str(REDIS_VISIBILITY_TIMEOUT))),
}


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> Broker:
    chosen = BROKERS[request.param]
    broker_or_skip(chosen.url)
    return chosen


@pytest.fixture
def rabbitmq() -> Broker:
    broker_or_skip(RABBITMQ_URL)
    return BROKERS["rabbitmq"]


@pytest.fixture(scope="module")
def pushed(registry_plain: RegistryServer, tmp_path_factory: pytest.TempPathFactory
           ) -> list[tuple[str, str]]:
    """``IMAGES`` distinct images in the registry: (``host/repo:tag``, digest) each."""
    images = build_distinct_images(tmp_path_factory.mktemp("scale"), IMAGES)
    run = uuid.uuid4().hex[:8]
    return [(push(registry_plain, images.layout, f"img-{n}", f"scale{run}/img{n}", "1"),
             images.digests[f"img-{n}"]) for n in range(IMAGES)]


@pytest.fixture
def service(built_database: BuiltDatabase, tmp_path: Path) -> Iterator[Service]:
    """A service on a fresh PostgreSQL database, migrated before any worker starts."""
    for url in postgres_database():
        store = Store(url)
        yield Service(store, built_database.path, SecretBox(SecretBox.generate_key()),
                      tmp_path / "api-data", egress=LOCAL_EGRESS)
        store.close()


@pytest.fixture
def queue_name() -> str:
    """A queue of this test alone (tests purge and delete it)."""
    return f"hullscan-test-{uuid.uuid4().hex[:10]}"


def _start_workers(count: int, broker: Broker, queue: str, service: Service,
                   built_database: BuiltDatabase, tmp_path: Path,
                   workers: list[WorkerProcess]) -> None:
    environment = {"HULLSCAN_SECRET_KEY": SecretBox.generate_key(),
                   "HULLSCAN_DB": str(built_database.path),
                   "HULLSCAN_DATA_DIR": str(tmp_path / "worker-data"),
                   "HULLSCAN_TEST_ANALYSIS_DELAY": str(ANALYSIS_DELAY),
                   ALLOWED_NETWORKS_VARIABLE: " ".join(LOCAL_NETWORKS)}
    for n in range(1, count + 1):
        workers.append(launch_worker(
            tmp_path / f"worker-{n}.log", broker=broker.url, queue=queue,
            database_url=service.store.url, environment=environment,
            extra=("--claim-stale-after", str(STALE_AFTER), *broker.options)))
    for worker in workers:
        wait_ready(worker)


def test_two_workers_one_killed_every_digest_analysed_once(
        service: Service, broker: Broker, queue_name: str, pushed: list[tuple[str, str]],
        built_database: BuiltDatabase, tmp_path: Path) -> None:
    with purged(broker.url, queue_name), running_workers() as workers:
        _start_workers(2, broker, queue_name, service, built_database, tmp_path, workers)
        victim, survivor = workers
        producer = CeleryQueue(broker.url, queue_name)
        started = time.monotonic()
        for reference, digest in pushed:
            service.record_image(registry_reference(reference), digest)
            producer.submit(digest)
        producer.close()

        def victim_mid_analysis() -> str | None:
            rows = analyses(service.store).values()
            if sum(a.claimed_by == victim.holder and a.status is AnalysisStatus.ANALYSED
                   for a in rows) < KILL_AFTER:
                return None
            return next((a.digest for a in rows if a.claimed_by == victim.holder
                         and a.status is AnalysisStatus.ANALYSING), None)

        killed_digest = wait_until(victim_mid_analysis, timeout=60,
                                   what="worker 1 to be mid-analysis")
        victim.kill()
        killed_at = time.monotonic()

        expected = {digest for _, digest in pushed}
        wait_until(lambda: all(a.status is AnalysisStatus.ANALYSED
                               for a in analyses(service.store).values())
                   and results(service.store) == expected,
                   timeout=180, what="every digest analysed")
        finished = time.monotonic()
        wait_until(lambda: completions(workers, killed_digest, "rescued") == 1,
                   timeout=30, what="the rescue to be logged")

        rows = analyses(service.store)
        assert set(rows) == expected
        for digest, row in rows.items():
            assert row.status is AnalysisStatus.ANALYSED, (digest, row.error)
            assert row.inventory, digest
            assert row.analysis_count == 1, digest
            # Exactly one job completed an analysis of it (the killed one never did).
            done = completions(workers, digest, "analysed") \
                + completions(workers, digest, "rescued")
            assert done == 1, (digest, done)
        assert results(service.store) == expected
        change = service.refresh_results(pushed[0][1])
        assert not change.vulnerabilities_changed  # the stored results are the current ones
        assert change.action_before is not None

        # The killed job went back to the broker and the survivor took the claim over.
        rescued = rows[killed_digest]
        assert rescued.claimed_by == survivor.holder
        assert rescued.attempts == 2
        assert victim.process.returncode == -9
        by_victim = sum(row.claimed_by == victim.holder for row in rows.values())
        assert by_victim >= KILL_AFTER  # what the victim finished before it died stands
        print(f"\n{broker.url.split(':')[0]}: {IMAGES} digests, worker 1 killed after "
              f"{by_victim} analyses; all stored {finished - started:.1f} s after submitting "
              f"({finished - killed_at:.1f} s after the kill)")


def test_same_digest_submitted_twice_is_analysed_once(
        service: Service, rabbitmq: Broker, queue_name: str, pushed: list[tuple[str, str]],
        built_database: BuiltDatabase, tmp_path: Path) -> None:
    reference, digest = pushed[0]
    with purged(rabbitmq.url, queue_name), running_workers() as workers:
        _start_workers(2, rabbitmq, queue_name, service, built_database, tmp_path, workers)
        _, _, created = service.record_image(registry_reference(reference), digest)
        assert created
        producer = CeleryQueue(rabbitmq.url, queue_name)
        producer.submit(digest)
        producer.submit(digest)
        producer.close()
        wait_until(lambda: completions(workers, digest, "analysed")
                   + completions(workers, digest, "duplicate") == 2,
                   timeout=60, what="both jobs to finish")
    assert completions(workers, digest, "analysed") == 1
    row = analyses(service.store)[digest]
    assert row.status is AnalysisStatus.ANALYSED and row.analysis_count == 1
    assert results(service.store) == {digest}


# ----------------------------------------------------------------- the job logic, no broker


def _claimed_at(service: Service, digest: str) -> object:
    with service.store.session() as session:
        return session.scalar(select(Analysis.claimed_at).where(Analysis.digest == digest))


def test_a_live_claim_is_waited_for_and_an_abandoned_one_taken_over(
        service: Service, pushed: list[tuple[str, str]]) -> None:
    reference, digest = pushed[1]
    service.record_image(registry_reference(reference), digest)
    assert service.claim(digest, "dead-host:1")
    runner = JobRunner(service, WorkerSettings(claim_stale_after=STALE_AFTER))
    # A plain duplicate is dropped (the holder's own job is still with the broker); a
    # redelivered or retried job waits while the holder is alive.
    assert runner.run(digest, "rescuer:2", continued=False) is Outcome.DUPLICATE
    with pytest.raises(ClaimHeldError) as held:
        runner.run(digest, "rescuer:2", continued=True)
    assert 0 < held.value.wait <= STALE_AFTER + 1

    with service.store.session() as session:  # the holder's heartbeats stop
        session.execute(update(Analysis).where(Analysis.digest == digest).values(
            claimed_at=utcnow() - timedelta(seconds=STALE_AFTER + 1)))
    assert runner.run(digest, "rescuer:2", continued=True) is Outcome.RESCUED
    row = analyses(service.store)[digest]
    assert row.claimed_by == "rescuer:2" and row.analysis_count == 1
    assert results(service.store) == {digest}
    assert runner.run(digest, "late:3", continued=True) is Outcome.DUPLICATE


def test_the_holder_heartbeats_while_it_analyses(
        service: Service, pushed: list[tuple[str, str]]) -> None:
    reference, digest = pushed[2]
    service.record_image(registry_reference(reference), digest)
    seen: list[object] = []

    def slow(reference: str, options: AcquireOptions) -> Inventory:
        seen.append(_claimed_at(service, digest))
        time.sleep(1.0)  # four heartbeats at claim_stale_after=1
        seen.append(_claimed_at(service, digest))
        return analyse_inventory(reference, options)

    runner = JobRunner(service, WorkerSettings(claim_stale_after=1.0), analyse=slow)
    assert runner.run(digest, "me:1", continued=False) is Outcome.ANALYSED
    first, last = seen
    assert isinstance(first, type(utcnow())) and isinstance(last, type(utcnow()))
    assert last > first


def test_a_failing_analysis_is_retried_then_left_failed(
        service: Service, pushed: list[tuple[str, str]]) -> None:
    reference, digest = pushed[3]
    service.record_image(registry_reference(reference), digest)
    calls: list[str] = []

    def failing(reference: str, options: AcquireOptions) -> Inventory:
        calls.append(reference)
        raise HullscanError("registry said no", subject=reference)

    app = make_celery("memory://", lambda: service, analyse=failing,
                      settings=WorkerSettings(failure_retries=2, retry_backoff=0.01))
    app.conf.task_always_eager = True  # retries run inline: no broker, no delays
    outcome = app.tasks[TASK_NAME].apply(args=[digest])
    assert outcome.failed()
    assert len(calls) == 3  # the first attempt and two retries
    row = analyses(service.store)[digest]
    assert row.status is AnalysisStatus.FAILED and row.attempts == 3
    assert row.error is not None and "registry said no" in row.error
    assert row.analysis_count == 0 and results(service.store) == set()
    # A later job claims the failed analysis again and, the registry willing, stores it.
    assert service.run_analysis(digest, "later:1")
