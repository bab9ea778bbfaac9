"""The adapter's answers that need no registry: authentication, unknown ids, bad requests,
report negotiation, and credentials sealed at rest."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hullscan.service.harbor import create_harbor_app
from hullscan.service.operations import Service
from hullscan.service.store.harbor_models import HarborScan, HarborScanStatus
from tests.service.harbor.conftest import (
    AUTH,
    SBOM_REPORT,
    SCAN_REQUEST_TYPE,
    TOKEN,
    VULNERABILITY_REPORT,
)

ERROR_TYPE = "application/vnd.scanner.adapter.error+json; version=1.0"
DIGEST = "sha256:" + "b" * 64


@pytest.fixture
def queued(service: Service) -> tuple[TestClient, list[tuple[str, str]]]:
    """The app with a queue that only records what it is given (jobs never run)."""
    submitted: list[tuple[str, str]] = []
    app = create_harbor_app(service, lambda scan_id, digest: submitted.append((scan_id, digest)),
                            TOKEN)
    return TestClient(app), submitted


def _body(**registry: Any) -> dict[str, Any]:
    return {"registry": {"url": "http://127.0.0.1:5000", **registry},
            "artifact": {"repository": "library/alpine", "digest": DIGEST}}


def _post(client: TestClient, body: Any) -> Any:
    if isinstance(body, bytes):
        return client.post("/api/v1/scan", content=body,
                           headers={**AUTH, "Content-Type": SCAN_REQUEST_TYPE})
    return client.post("/api/v1/scan", json=body,
                       headers={**AUTH, "Content-Type": SCAN_REQUEST_TYPE})


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Basic {base64.b64encode(f'user:{TOKEN}'.encode()).decode()}"},
    {"X-ScannerAdapter-API-Key": "wrong"},
])
def test_a_wrong_or_missing_token_is_401(queued: tuple[TestClient, Any],
                                         headers: dict[str, str]) -> None:
    client, _ = queued
    for method, path in (("GET", "/api/v1/metadata"), ("POST", "/api/v1/scan"),
                         ("GET", "/api/v1/scan/x/report")):
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"] == ERROR_TYPE
        assert response.json()["error"]["message"]


@pytest.mark.parametrize("headers", [
    AUTH,
    {"X-ScannerAdapter-API-Key": TOKEN},
    {"Authorization": f"Bearer Bearer {TOKEN}"},  # access credential typed as a full header
])
def test_the_token_as_harbor_sends_it_is_accepted(queued: tuple[TestClient, Any],
                                                  headers: dict[str, str]) -> None:
    client, _ = queued
    assert client.get("/api/v1/metadata", headers=headers).status_code == 200
    assert client.get("/probe/healthy").status_code == 200  # probes need no token


def test_no_token_configured_means_no_authentication(service: Service) -> None:
    client = TestClient(create_harbor_app(service, lambda *_: None, None))
    assert client.get("/api/v1/metadata").status_code == 200


def test_unknown_scan_request_id_is_404(queued: tuple[TestClient, Any]) -> None:
    client, _ = queued
    response = client.get("/api/v1/scan/no-such-id/report",
                          headers={**AUTH, "Accept": VULNERABILITY_REPORT})
    assert response.status_code == 404


@pytest.mark.parametrize(("body", "status", "says"), [
    (b"{not json", 400, "not JSON"),
    ([], 400, "not a JSON object"),
    ({"registry": "x", "artifact": {}}, 400, "registry is not a JSON object"),
    ({"registry": {"url": 5000}, "artifact": {}}, 400, "registry.url is not a string"),
    ({"artifact": {"repository": "a", "digest": DIGEST}}, 422, "registry is required"),
    (_body(url="INVALID_REGISTRY_URL"), 422, "invalid registry.url"),
    (_body(url="ftp://registry.example"), 422, "invalid registry.url"),
    (_body(url="https://registry.example/v2/"), 422, "invalid registry.url"),
    (_body(authorization="Digest abc"), 422, "registry.authorization"),
    (_body(authorization="Basic !!!"), 422, "registry.authorization"),
    ({**_body(), "artifact": {"repository": "Library/Alpine", "digest": DIGEST}}, 422,
     "invalid artifact"),
    ({**_body(), "artifact": {"repository": "library/alpine", "digest": "sha256:12"}}, 422,
     "invalid artifact"),
    ({**_body(), "artifact": {"repository": "library/alpine"}}, 422, "artifact.digest"),
    ({**_body(), "artifact": {"repository": "library/alpine", "digest": DIGEST,
                              "mime_type": "application/vnd.oci.image.index.v1+json"}}, 501,
     "not supported"),
    ({**_body(), "enabled_capabilities": [{"type": "malware"}]}, 422, "type must be one of"),
    ({**_body(), "enabled_capabilities": [
        {"type": "vulnerability",
         "produces_mime_types": ["application/vnd.scanner.adapter.vuln.report.raw"]}]}, 501,
     "not supported"),
    ({**_body(), "enabled_capabilities": [
        {"type": "sbom", "parameters": {"sbom_media_types": ["text/spdx"]}}]}, 501,
     "not supported"),
])
def test_bad_scan_requests_get_the_spec_errors(queued: tuple[TestClient, Any], body: Any,
                                              status: int, says: str) -> None:
    client, submitted = queued
    response = _post(client, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == ERROR_TYPE
    assert says in response.json()["error"]["message"]
    assert not submitted


def test_oversized_requests_are_refused(queued: tuple[TestClient, Any]) -> None:
    client, submitted = queued
    response = _post(client, b"{" + b" " * 70_000 + b"}")
    assert response.status_code == 413
    assert response.headers["content-type"] == ERROR_TYPE
    assert "larger than" in response.json()["error"]["message"]
    assert not submitted


def test_a_scan_is_queued_with_its_credentials_sealed(
        service: Service, queued: tuple[TestClient, Any]) -> None:
    client, submitted = queued
    authorization = "Basic " + base64.b64encode(b"robot$harbor:s3cret-pass").decode()
    response = _post(client, {**_body(authorization=authorization),
                              "enabled_capabilities": [
                                  {"type": "vulnerability",
                                   "produces_mime_types": [VULNERABILITY_REPORT]},
                                  {"type": "sbom", "produces_mime_types": [SBOM_REPORT],
                                   "parameters": {"sbom_media_types": [
                                       "application/spdx+json"]}}]})
    assert response.status_code == 202
    scan_id = response.json()["id"]
    assert submitted == [(scan_id, DIGEST)]
    with service.store.session() as session:
        scan = session.get(HarborScan, scan_id)
        assert scan is not None
        assert scan.status is HarborScanStatus.QUEUED
        assert scan.registry_url == "http://127.0.0.1:5000"
        assert scan.repository == "library/alpine"
        assert scan.media_types == [VULNERABILITY_REPORT, SBOM_REPORT, "application/spdx+json"]
        sealed = scan.authorization_encrypted
    assert sealed is not None
    assert b"s3cret" not in sealed and authorization.encode() not in sealed
    assert service.box.open(sealed) == authorization

    # Queued: Harbor is told to come back; no Location (Go's client would follow it).
    report = client.get(f"/api/v1/scan/{scan_id}/report",
                        headers={**AUTH, "Accept": VULNERABILITY_REPORT},
                        follow_redirects=False)
    assert report.status_code == 302
    assert report.headers["refresh-after"] == "5"
    assert "location" not in report.headers


@pytest.mark.parametrize(("accept", "params", "status"), [
    ("application/vnd.scanner.adapter.vuln.report.raw", None, 501),
    ("text/html", None, 501),
    (SBOM_REPORT, None, 400),
    (SBOM_REPORT, {"sbom_media_type": "text/spdx"}, 400),
    (SBOM_REPORT, {"sbom_media_type": "application/spdx+json"}, 302),
    (VULNERABILITY_REPORT, None, 302),
    ("application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0", None, 302),
    ("*/*", None, 302),
])
def test_report_negotiation(queued: tuple[TestClient, Any], accept: str,
                            params: dict[str, str] | None, status: int) -> None:
    client, _ = queued
    scan_id = _post(client, _body()).json()["id"]
    response = client.get(f"/api/v1/scan/{scan_id}/report", params=params,
                          headers={**AUTH, "Accept": accept}, follow_redirects=False)
    assert response.status_code == status
    if status != 302:
        assert response.headers["content-type"] == ERROR_TYPE


def test_registry_urls_map_to_hosts_and_schemes() -> None:
    from hullscan.service.harbor.pull import parse_registry_url

    assert parse_registry_url("http://127.0.0.1:5000").base_url == "http://127.0.0.1:5000"
    https = parse_registry_url("https://core.harbor.domain/")
    assert (https.host, https.insecure) == ("core.harbor.domain", False)
    internal = parse_registry_url("http://harbor-core")
    assert (internal.host, internal.insecure) == ("harbor-core:80", True)
    assert parse_registry_url("harbor-registry:5000").scheme == "https"
