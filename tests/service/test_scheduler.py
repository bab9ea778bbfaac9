"""The scheduler on SQLite and PostgreSQL: one holder of the lease at a time (and a race for a
fresh lease has one winner); a round that updates the database re-matches and delivers;
an offline update is logged and the loop carries on; a database replaced behind the
scheduler's back is noticed."""

from __future__ import annotations

import datetime
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from hullscan.service.operations import Service
from hullscan.service.rematch import split_key
from hullscan.service.scheduler import Scheduler, SchedulerConfig
from hullscan.service.store.models import SubscriptionKind
from hullscan.service.webhooks import SIGNATURE_HEADER, verify_signature
from hullscan.vuln.db.download import FeedDownloadError
from tests.service.conftest import StagedImages
from tests.service.test_rematch import NEW_ID, newer_database  # noqa: F401 (fixture)
from tests.service.test_watch import T0, RecordingQueue
from tests.service.test_webhooks import SECRET, WebhookReceiver, subscribe
from tests.vuln.conftest import BuiltDatabase

LEASE = 60.0


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def scheduler(service: Service, update: Callable[[Path], bool] | None = None,
              interval: float | None = None) -> Scheduler:
    return Scheduler(service, RecordingQueue(),
                     config=SchedulerConfig(db_update_interval=interval, lease_seconds=LEASE),
                     update_database=update or (lambda _path: False))


def test_one_leader_until_the_lease_expires(service: Service) -> None:
    a, b = scheduler(service), scheduler(service)
    assert a.holder != b.holder
    assert a.run_once(at(0)).leader
    assert not b.run_once(at(1)).leader
    assert not b.run_once(at(30)).leader
    assert a.run_once(at(50)).leader  # renewed until 110
    assert not b.run_once(at(100)).leader
    assert a.holds_lease(at(100)) and not b.holds_lease(at(100))
    # a stops renewing (crashed): b takes over once the lease has expired.
    assert b.run_once(at(111)).leader
    assert not a.run_once(at(112)).leader
    assert b.holds_lease(at(112)) and not a.holds_lease(at(112))
    # A clean stop hands the lease over at once.
    b.release()
    assert a.run_once(at(113)).leader


def test_a_race_for_a_new_lease_has_one_winner(service: Service) -> None:
    contenders = [scheduler(service) for _ in range(6)]
    barrier = threading.Barrier(len(contenders))
    won: list[bool] = []

    def contend(candidate: Scheduler) -> None:
        barrier.wait()
        won.append(candidate.acquire(at(0)))

    threads = [threading.Thread(target=contend, args=(c,)) for c in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert won.count(True) == 1


def test_database_update_rematches_and_delivers(
        service: Service, staged: StagedImages, built_database: BuiltDatabase,
        newer_database: Path, tmp_path: Path) -> None:  # noqa: F811
    database = tmp_path / "current" / "vulnerability.db"
    database.parent.mkdir()
    shutil.copy(built_database.path, database)
    own = Service(service.store, database, service.box, service.data_dir,
                  egress=service.egress)
    digests = {}
    for label, reference in (("vulnerable", staged.vulnerable), ("clean", staged.clean)):
        _, analysis, _ = own.add_image(reference)
        assert own.run_analysis(analysis.digest)
        digests[analysis.digest] = label

    calls: list[str] = []

    def update(path: Path) -> bool:
        """First offline, then a newer build, then nothing new."""
        calls.append(str(path))
        if len(calls) == 1:
            raise FeedDownloadError("connection failed (offline)", subject="osv-pypi")
        if len(calls) == 2:
            staging = path.with_suffix(".incoming")
            shutil.copy(newer_database, staging)
            staging.replace(path)
            return True
        return False

    with WebhookReceiver() as receiver:
        subscribe(own, SubscriptionKind.VULN_UPDATE, "*", receiver.url())
        loop = scheduler(own, update, interval=3600)

        offline = loop.run_once(at(0))
        assert offline.leader and offline.database_updated is None
        assert offline.errors and "offline" in offline.errors[0]
        assert not offline.rematched and receiver.received == []

        assert loop.run_once(at(1800)).database_updated is None  # not due yet
        updated = loop.run_once(at(3600))
        assert updated.database_updated and updated.rematched
        assert {digests[c.digest] for c in updated.changes} == {"vulnerable", "clean"}
        assert len(updated.deliveries) == 2 and \
            all(d.response_status == 200 for d in updated.deliveries)
        payloads = {digests[r.json()["digest"]]: r.json() for r in receiver.received}
        assert all(verify_signature(SECRET, r.headers[SIGNATURE_HEADER.lower()], r.body)
                   for r in receiver.received)
        assert payloads["clean"]["added"] == [NEW_ID] and payloads["clean"]["removed"] == []
        assert NEW_ID in payloads["vulnerable"]["added"] and payloads["vulnerable"]["removed"]

        quiet = loop.run_once(at(7200))
        assert quiet.database_updated is False and not quiet.rematched
        assert calls == [str(database)] * 3

        # `hullscan db import` (or anything) puts the old data back behind the scheduler's
        # back: the next round notices the stored results are stale and re-matches.
        shutil.copy(built_database.path, database)
        back = loop.run_once(at(7300))
        assert back.database_updated is None and back.rematched
        reverted = {digests[c.digest]: c for c in back.changes}
        assert {split_key(k)["id"] for k in reverted["clean"].removed} == {NEW_ID}
        assert len(receiver.received) == 4


def test_run_forever_stops_and_hands_over(service: Service) -> None:
    rounds: list[int] = []

    def update(_path: Path) -> bool:
        rounds.append(1)
        if len(rounds) == 2:
            raise RuntimeError("a bug in a round")  # logged; the loop goes on
        return False

    loop = Scheduler(service, RecordingQueue(), update_database=update,
                     config=SchedulerConfig(poll_interval=0.01, db_update_interval=0.0001,
                                            lease_seconds=LEASE))
    stop = threading.Event()
    thread = threading.Thread(target=loop.run_forever, args=(stop,))
    thread.start()
    deadline = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=20)
    while len(rounds) < 4 and datetime.datetime.now(datetime.UTC) < deadline:
        stop.wait(0.02)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and len(rounds) >= 4
    # Released on the way out: another scheduler takes over at once.
    assert scheduler(service).acquire()
