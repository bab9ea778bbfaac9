"""Where analysis jobs go: an in-process worker pool (one machine, the default) or Celery
(``hullscan.service.celery_app``, scaled out). Either way the database claim decides who
analyses a digest, so a job submitted twice is analysed once."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from hullscan.service.operations import Service

LOG = logging.getLogger("hullscan.service")


class JobQueue(Protocol):
    """Accepts analysis jobs by digest."""

    def submit(self, digest: str) -> None:
        """Queue the analysis of ``digest`` (returns at once)."""

    def close(self) -> None:
        """Stop accepting jobs; let running ones finish."""


class InProcessQueue:
    """A thread pool in the serving process (the embedded default).

    Analysis is I/O and C-heavy (downloads, decompression, hashing), so threads overlap
    usefully; CPU-bound scale-out is Celery's job.
    """

    def __init__(self, service: Service, workers: int = 2) -> None:
        self.service = service
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hullscan-job")
        self.futures: list[Future[bool]] = []

    def submit(self, digest: str) -> None:
        """Run the analysis on a pool thread; failures are stored on the analysis row."""
        future = self._pool.submit(self._run, digest)
        self.futures.append(future)

    def _run(self, digest: str) -> bool:
        try:
            return self.service.run_analysis(digest)
        except Exception:
            LOG.exception("analysis of %s failed", digest)
            return False

    def close(self) -> None:
        """Wait for running jobs and stop."""
        self._pool.shutdown(wait=True)
