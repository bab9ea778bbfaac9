"""Helpers of the scale-out tests: ``hullscan worker`` processes, distinct test images, the
broker queue and waiting for the store to reach a state."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kombu.connection import Connection
from sqlalchemy import select

from hullscan.service.store.database import Store
from hullscan.service.store.models import Analysis, ImageResult
from tests.support.image_builder import File, ImageSpec, LayerSpec, WrittenImage, write_oci_layout
from tests.support.unavailable import unavailable
from tests.support.vulnerable_image import ALPINE_VULNERABLE, alpine_layer

T = TypeVar("T")

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
REDIS_URL = "redis://127.0.0.1:6379/0"


def broker_or_skip(url: str) -> str:
    """``url`` when its broker answers, else the test is unavailable."""
    try:
        with Connection(url, connect_timeout=3) as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(max_retries=1)
    except Exception as error:  # any failure means: no broker here
        unavailable(f"broker {url} unavailable: {error}")
    return url


@contextlib.contextmanager
def purged(broker: str, queue: str) -> Iterator[None]:
    """At the end (after the workers stopped: enter this first), drop every message of
    ``queue``, retries waiting for their ETA included, and the queue itself."""
    try:
        yield
    finally:
        connection = Connection(broker, connect_timeout=3)  # type: ignore[no-untyped-call]
        with connection, contextlib.suppress(Exception):
            channel = connection.channel()  # type: ignore[no-untyped-call]
            channel.queue_purge(queue)
            channel.queue_delete(queue)


# --------------------------------------------------------------------------- images


@dataclass(frozen=True)
class DistinctImages:
    """``count`` images in one OCI layout: the same vulnerable Alpine root plus one unique
    file each, so each has its own digest and real findings."""

    layout: Path
    digests: dict[str, str]
    """ref name -> manifest digest."""


def build_distinct_images(root: Path, count: int, payload_bytes: int = 64 * 1024
                          ) -> DistinctImages:
    """Write the images under ``root/layout`` (refs ``img-0`` ... ``img-{count-1}``)."""
    base = alpine_layer(ALPINE_VULNERABLE, "scale-out base")
    specs = {}
    for n in range(count):
        payload = (f"job {n}\n".encode() * (payload_bytes // 6 + 1))[:payload_bytes]
        specs[f"img-{n}"] = ImageSpec(layers=[
            base, LayerSpec([File(f"srv/job-{n}.txt", payload)], created_by=f"job {n}")])
    written = write_oci_layout(root / "layout", specs)
    digests = {}
    for ref, image in written.items():
        assert isinstance(image, WrittenImage)
        digests[ref] = image.manifest.digest
    return DistinctImages(root / "layout", digests)


# --------------------------------------------------------------------------- workers


@dataclass
class WorkerProcess:
    """One ``hullscan worker`` process (solo pool: the job runs in it)."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def holder(self) -> str:
        """The ``host:pid`` its claims carry (see ``operations.worker_id``)."""
        return f"{socket.gethostname()}:{self.process.pid}"

    def output(self) -> str:
        """Everything it logged so far."""
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """``kill -9``: no shutdown, no ack, the broker connection just drops."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop it if it still runs (TERM, then KILL)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def launch_worker(log: Path, *, broker: str, queue: str, database_url: str,
                  environment: Mapping[str, str], extra: tuple[str, ...] = ()) -> WorkerProcess:
    """Start a worker process (see :func:`wait_ready`)."""
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("hullscan")), "worker", "--broker", broker,
             "--database-url", database_url, "--queue", queue, "--concurrency", "1", *extra],
            stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **environment})
    return WorkerProcess(process, log)


def wait_ready(worker: WorkerProcess) -> None:
    """Return once ``worker`` consumes from its queue; fail when it exited."""
    wait_until(lambda: " ready." in worker.output() or worker.process.poll() is not None,
               timeout=60, what="the worker to start")
    if worker.process.poll() is not None:
        raise AssertionError(
            f"worker exited with {worker.process.returncode}:\n{worker.output()}")


@contextlib.contextmanager
def running_workers() -> Iterator[list[WorkerProcess]]:
    """A list to add started workers to; all are stopped at the end."""
    workers: list[WorkerProcess] = []
    try:
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def completions(workers: list[WorkerProcess], digest: str, outcome: str) -> int:
    """How many jobs of ``digest`` ended with ``outcome`` (``analysed``, ``rescued``,
    ``duplicate``), read from the workers' ``Task ... succeeded`` log lines."""
    return sum(line.count(f"'{outcome} {digest}'") for worker in workers
               for line in worker.output().splitlines() if "succeeded in" in line)


# --------------------------------------------------------------------------- the store


def wait_until(check: Callable[[], T | None], *, timeout: float, what: str,
               interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy (returned) or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def analyses(store: Store) -> dict[str, Analysis]:
    """Every analysis row by digest."""
    with store.session() as session:
        return {a.digest: a for a in session.scalars(select(Analysis))}


def results(store: Store) -> set[str]:
    """Digests with stored results."""
    with store.session() as session:
        return set(session.scalars(select(ImageResult.digest)))
