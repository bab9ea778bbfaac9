"""Fixtures of the Harbor adapter tests: the adapter app over the ``service`` fixture (SQLite
and PostgreSQL), the vulnerable image pushed to the Basic-auth registry, and a client that
polls reports the way Harbor does."""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from hullscan.image.acquire import open_image
from hullscan.image.push import PushTarget, push_image
from hullscan.image.registry.client import RegistryClient, RegistryOptions
from hullscan.image.registry.credentials import RegistryCredentials
from hullscan.service.harbor import create_harbor_app
from hullscan.service.operations import Service
from tests.support.registry_servers import RegistryServer
from tests.support.vulnerable_image import VulnerableImage

SPEC = (Path(__file__).resolve().parents[3].parent / "shared" / "specs"
        / "harbor-scanner-adapter" / "scanner-adapter-openapi-v1.2.yaml")
TOKEN = "harbor-adapter-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SCAN_REQUEST_TYPE = "application/vnd.scanner.adapter.scan.request+json; version=1.1"
VULNERABILITY_REPORT = "application/vnd.security.vulnerability.report; version=1.1"
SBOM_REPORT = "application/vnd.security.sbom.report+json; version=1.0"
POLL_SECONDS = 180.0
_repositories = itertools.count()


def load_spec() -> dict[str, Any]:
    """The adapter API's OpenAPI document."""
    document = yaml.safe_load(SPEC.read_text())
    assert isinstance(document, dict)
    return document


@dataclass(frozen=True)
class PushedImage:
    """An image in a registry that needs Basic authorization."""

    server: RegistryServer
    repository: str
    tag: str
    digest: str

    @property
    def registry_url(self) -> str:
        """``registry.url`` as Harbor sends it."""
        return self.server.url

    def basic(self, username: str | None = None, password: str | None = None) -> str:
        """``registry.authorization``: Basic with the registry's (or the given) account."""
        pair = f"{username or self.server.username}:{password or self.server.password}"
        return "Basic " + base64.b64encode(pair.encode()).decode()


def push_authenticated(server: RegistryServer, layout: Path, ref: str, repository: str,
                       tag: str) -> str:
    """Push one image of an OCI layout with the registry's account; returns its digest."""
    assert server.username is not None
    credentials = RegistryCredentials(server.username, server.password, None, "test push")
    with open_image(f"oci-dir:{layout}:{ref}") as source, \
            RegistryClient(server.host, credentials=credentials,
                           options=RegistryOptions(ca_cert=server.ca_cert)) as client:
        return push_image(source, PushTarget(client, repository, tag)).digest


@pytest.fixture(scope="module")
def basic_vulnerable(registry_basic: RegistryServer,
                     vulnerable_image: VulnerableImage) -> PushedImage:
    """``vulnerable:1`` in the Basic-auth registry."""
    repository = f"harbor{next(_repositories)}/vulnerable"
    digest = push_authenticated(registry_basic, vulnerable_image.layout, vulnerable_image.ref,
                                repository, "1")
    return PushedImage(registry_basic, repository, "1", digest)


@pytest.fixture
def harbor(service: Service) -> Iterator[TestClient]:
    """The adapter app (its own job pool, token :data:`TOKEN`, Refresh-After 1 s)."""
    app = create_harbor_app(service, None, TOKEN, refresh_after=1)
    with TestClient(app) as client:
        yield client


def scan_request(image: PushedImage, authorization: str | None,
                 capabilities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A ``ScanRequest`` body as Harbor 2 sends it."""
    body: dict[str, Any] = {
        "registry": {"url": image.registry_url},
        "artifact": {"repository": image.repository, "digest": image.digest, "tag": image.tag,
                     "mime_type": "application/vnd.oci.image.manifest.v1+json"},
    }
    if authorization is not None:
        body["registry"]["authorization"] = authorization
    if capabilities is not None:
        body["enabled_capabilities"] = capabilities
    return body


def post_scan(client: TestClient, body: dict[str, Any]) -> str:
    """POST /scan as Harbor does; returns the scan request id."""
    response = client.post("/api/v1/scan", json=body,
                           headers={**AUTH, "Content-Type": SCAN_REQUEST_TYPE,
                                    "Accept": "application/vnd.scanner.adapter.scan.response"
                                              "+json; version=1.0"})
    assert response.status_code == 202, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.scanner.adapter.scan.response+json")
    scan_id = response.json()["id"]
    assert isinstance(scan_id, str) and scan_id
    return scan_id


def poll_report(client: TestClient, scan_id: str, accept: str,
                params: dict[str, str] | None = None) -> httpx.Response:
    """Poll GET /scan/{id}/report like Harbor's job: 302 means wait ``Refresh-After``
    seconds; stop at 200 or any other status."""
    deadline = time.monotonic() + POLL_SECONDS
    while True:
        response = client.get(f"/api/v1/scan/{scan_id}/report", params=params,
                              headers={**AUTH, "Accept": accept}, follow_redirects=False)
        if response.status_code != 302:
            return response  # type: ignore[no-any-return]  # TestClient is untyped here
        assert "location" not in response.headers  # Harbor's Go client must not follow it
        wait = int(response.headers["refresh-after"])
        assert wait >= 1
        assert time.monotonic() < deadline, "report still not ready"
        time.sleep(min(wait, 1))
