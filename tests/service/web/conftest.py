"""Fixtures of the dashboard tests: a service on SQLite with several analysed test images,
served by a real uvicorn on a free port, and tokens to log in with."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from hullscan.image.reference import parse_registry_reference
from hullscan.service.api import create_app
from hullscan.service.operations import Service
from hullscan.service.queue import InProcessQueue
from hullscan.service.sealing import SecretBox
from hullscan.service.store.database import Store
from hullscan.service.tokens import Scope, create_token
from tests.service.conftest import LOCAL_EGRESS, StagedImages
from tests.vuln.conftest import BuiltDatabase

STARTUP_TIMEOUT = 20.0


@dataclass(frozen=True)
class Site:
    """A running dashboard over analysed images."""

    url: str
    service: Service
    tokens: dict[Scope, str]
    vulnerable_id: int
    """The image id of ``.../vulnerable:1``."""
    clean_id: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def analysed_service(directory: Path, database: BuiltDatabase, staged: StagedImages
                     ) -> tuple[Service, int, int]:
    """A SQLite service holding both staged images, analysed, and two more names."""
    store = Store(f"sqlite:///{directory / 'service.db'}")
    service = Service(store, database.path, SecretBox(SecretBox.generate_key()),
                      directory / "data", egress=LOCAL_EGRESS)
    vulnerable, analysis, _ = service.add_image(staged.vulnerable)
    clean, clean_analysis, _ = service.add_image(staged.clean)
    for digest in (analysis.digest, clean_analysis.digest):
        assert service.run_analysis(digest, "web-tests")
    # More names for the same digests: a release tag and a second build of the app.
    service.record_image(parse_registry_reference(
        staged.vulnerable.replace(":1", ":release")), analysis.digest)
    service.record_image(parse_registry_reference(
        staged.clean.replace("/clean:1", "/web:2")), clean_analysis.digest)
    return service, vulnerable.id, clean.id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, built_database: BuiltDatabase,
         staged: StagedImages) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("dashboard")
    service, vulnerable_id, clean_id = analysed_service(directory, built_database, staged)
    tokens = {scope: create_token(service.store, f"web-{scope}", [scope]).secret
              for scope in (Scope.READ, Scope.WRITE, Scope.HARBOR)}
    queue = InProcessQueue(service, workers=1)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service, queue), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", service, tokens, vulnerable_id, clean_id)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        queue.close()
        service.store.close()
