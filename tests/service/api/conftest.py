"""Fixtures of the API tests: the application over the ``service`` fixture (SQLite and
PostgreSQL), an in-process client and tokens of each scope."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from hullscan.service.api import create_app
from hullscan.service.operations import ResultChange, Service
from hullscan.service.queue import InProcessQueue, JobQueue
from hullscan.service.tokens import Scope, create_token

with warnings.catch_warnings():
    # Starlette asks for httpx2 instead of httpx; the client works the same.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ANALYSIS_TIMEOUT = 180.0


@dataclass
class RecordingQueue:
    """A queue that only remembers what was submitted (no analysis runs)."""

    submitted: list[str] = field(default_factory=list)

    def submit(self, digest: str) -> None:
        self.submitted.append(digest)

    def close(self) -> None:
        pass


@dataclass
class Api:
    """A client of the application and a token per scope."""

    client: TestClient
    service: Service
    queue: JobQueue
    tokens: dict[Scope, str]
    changes: list[ResultChange]

    def auth(self, scope: Scope = Scope.ADMIN) -> dict[str, str]:
        """Headers carrying the token of ``scope``."""
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def get(self, url: str, scope: Scope = Scope.READ, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.auth(scope), **kwargs)

    def post(self, url: str, scope: Scope = Scope.WRITE, *,
             headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, headers={**self.auth(scope), **(headers or {})}, **kwargs)

    def delete(self, url: str, scope: Scope = Scope.WRITE) -> Any:
        return self.client.delete(url, headers=self.auth(scope))

    def wait_analysed(self, image_id: int) -> dict[str, Any]:
        """Poll the image until its analysis ended and its results are stored (the
        worker stores them just after marking the analysis done); returns the image."""
        deadline = time.monotonic() + ANALYSIS_TIMEOUT
        while True:
            image: dict[str, Any] = self.get(f"/v1/images/{image_id}").json()
            done = image["status"] == "analysed" and image["final_action"] is not None
            if done or image["status"] == "failed" or time.monotonic() > deadline:
                assert done, image
                return image
            time.sleep(0.2)


def tokens_for(service: Service) -> dict[Scope, str]:
    """One token per nesting scope."""
    return {scope: create_token(service.store, f"test-{scope}", [scope]).secret
            for scope in (Scope.READ, Scope.WRITE, Scope.ADMIN)}


def make_api(service: Service, queue: JobQueue, **options: Any) -> Iterator[Api]:
    changes: list[ResultChange] = []

    def heard(change: ResultChange, *, policy_id: str | None,
              database_built_at: str | None) -> None:
        changes.append(change)

    app = create_app(service, queue, on_change=heard, **options)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, service, queue, tokens_for(service), changes)
    queue.close()


@pytest.fixture
def api(service: Service) -> Iterator[Api]:
    """The API with an in-process worker pool."""
    yield from make_api(service, InProcessQueue(service, workers=2))


@pytest.fixture
def idle_api(service: Service) -> Iterator[Api]:
    """The API with a queue that analyses nothing."""
    yield from make_api(service, RecordingQueue())
