"""End to end over real HTTP: uvicorn serving create_app on a free port, a real registry,
the in-process worker pool."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from hullscan.service.api import create_app
from hullscan.service.operations import Service
from hullscan.service.queue import InProcessQueue
from hullscan.service.tokens import Scope, create_token
from tests.service.api.conftest import ANALYSIS_TIMEOUT
from tests.service.conftest import StagedImages


@pytest.fixture
def server_url(service: Service) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a uvicorn server running in a thread."""
    queue = InProcessQueue(service, workers=2)
    config = uvicorn.Config(create_app(service, queue), host="127.0.0.1", port=0,
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        queue.close()


def test_served_over_http(server_url: str, service: Service, staged: StagedImages) -> None:
    token = create_token(service.store, "e2e", [Scope.WRITE]).secret
    with httpx.Client(base_url=server_url, timeout=60) as anonymous, \
            httpx.Client(base_url=server_url, timeout=60,
                         headers={"Authorization": f"Bearer {token}"}) as client:
        assert anonymous.get("/health").json()["status"] == "ok"
        assert "/v1/images" in anonymous.get("/openapi.json").json()["paths"]
        assert anonymous.get("/v1/images").status_code == 401
        assert client.get("/v1/tokens").status_code == 403

        added = client.post("/v1/images", json={"reference": staged.vulnerable})
        assert added.status_code == 202, added.text
        image_id = added.json()["id"]
        deadline = time.monotonic() + ANALYSIS_TIMEOUT
        while (status := client.get(f"/v1/images/{image_id}").json()["status"]) in (
                "queued", "analysing") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status == "analysed"

        findings = client.get(f"/v1/images/{image_id}/vulnerabilities").json()["findings"]
        assert findings
        affected = client.get(f"/v1/vulnerabilities/{findings[0]['id']}/images").json()
        assert [i["image_id"] for i in affected["images"]] == [image_id] * len(
            affected["images"]) and affected["images"]
        sbom = client.get(f"/v1/images/{image_id}/sbom", params={"format": "spdx-json"})
        assert sbom.status_code == 200 and sbom.json()["packages"]
        too_big = client.post("/v1/policies", content=b"x" * (11 * 1024 * 1024),
                              headers={"Content-Type": "text/plain"})
        assert too_big.status_code == 413
