"""``hullscan serve`` as users run it: the console script with the API, the in-process
workers and scheduler, and the Harbor adapter on its own port and token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hullscan.service.sealing import SecretBox
from hullscan.service.settings import ALLOWED_NETWORKS_VARIABLE
from tests.service.conftest import LOCAL_NETWORKS, StagedImages

# The session database of the vulnerability tests (built once from ../shared/vulndata).
from tests.vuln.conftest import BuiltDatabase, built_database, vulndata  # noqa: F401

HULLSCAN = Path(sys.executable).with_name("hullscan")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def running(tmp_path: Path, built_database: BuiltDatabase  # noqa: F811
            ) -> Iterator[tuple[str, str, str]]:
    env = {**os.environ, "HULLSCAN_SECRET_KEY": SecretBox.generate_key(),
           "HULLSCAN_DATA_DIR": str(tmp_path / "data"),
           ALLOWED_NETWORKS_VARIABLE: " ".join(LOCAL_NETWORKS)}
    token = subprocess.run([str(HULLSCAN), "serve", "--create-token", "ci"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    api, harbor = _free_port(), _free_port()
    process = subprocess.Popen(
        [str(HULLSCAN), "serve", "--db", str(built_database.path), "--port", str(api),
         "--harbor-port", str(harbor), "--harbor-token", "harbor-secret",
         "--db-update-interval", "0", "--poll-interval", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{api}/health").status_code == 200 and \
                        httpx.get(f"http://127.0.0.1:{harbor}/probe/healthy").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("hullscan serve did not come up")
        yield f"http://127.0.0.1:{api}", f"http://127.0.0.1:{harbor}", token
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_analyses_an_added_image_and_serves_harbor(
        running: tuple[str, str, str], staged: StagedImages) -> None:
    api, harbor, token = running
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{api}/v1/images").status_code == 401
    added = httpx.post(f"{api}/v1/images", json={"reference": staged.vulnerable}, headers=auth)
    assert added.status_code == 202, added.text
    image_id = added.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = httpx.get(f"{api}/v1/images/{image_id}", headers=auth).json()
        if status["status"] in {"analysed", "failed"}:
            break
        time.sleep(0.5)
    assert status["status"] == "analysed", status
    vulnerabilities = httpx.get(f"{api}/v1/images/{image_id}/vulnerabilities", headers=auth)
    assert vulnerabilities.status_code == 200 and vulnerabilities.json()
    # The Harbor adapter answers on its own port, with its own token only.
    assert httpx.get(f"{harbor}/api/v1/metadata", headers=auth).status_code == 401
    metadata = httpx.get(f"{harbor}/api/v1/metadata",
                         headers={"Authorization": "Bearer harbor-secret"})
    assert metadata.status_code == 200 and metadata.json()["scanner"]["name"] == "hullscan"
