"""Input size limits on every route that takes input: bodies over the limit get 413 whether
announced or streamed (API, dashboard forms, Harbor scan requests), page sizes are capped."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hullscan.service.harbor import create_harbor_app
from hullscan.service.harbor.app import MAX_REQUEST_BYTES
from hullscan.service.operations import Service
from hullscan.service.tokens import Scope
from hullscan.service.web.session import COOKIE
from tests.service.api.conftest import Api, RecordingQueue, make_api
from tests.service.api.test_scope_sweep import DASHBOARD_SCOPES, concrete

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

LIMIT = 2048
MAX_PAGE = 1000


@pytest.fixture
def small_api(service: Service) -> Iterator[Api]:
    yield from make_api(service, RecordingQueue(), max_request_bytes=LIMIT)


def chunks(total: int) -> Iterator[bytes]:
    """A body of ``total`` bytes sent chunked (no Content-Length)."""
    for start in range(0, total, 512):
        yield b"x" * min(512, total - start)


def mutating(api: Api) -> dict[tuple[str, str], bool]:
    """Every route but GETs, and whether it reads a body."""
    document = api.client.get("/openapi.json").json()
    found = {(method.upper(), path): "requestBody" in operation
             for path, item in document["paths"].items()
             for method, operation in item.items() if method != "get"}
    dashboard = {key: True for key in DASHBOARD_SCOPES if key[0] != "GET"}
    return {**found, **dashboard, ("POST", "/login"): True, ("POST", "/logout"): False}


def test_every_mutating_route_refuses_large_bodies(small_api: Api) -> None:
    routes = mutating(small_api)
    small_api.client.cookies.set(COOKIE, small_api.tokens[Scope.ADMIN])  # the dashboard's
    assert routes[("POST", "/v1/images")] and routes[("POST", "/subscriptions")]
    for (method, path), reads_body in sorted(routes.items()):
        # A body announced too large is refused before routing; a streamed one as soon as it
        # passes the limit, by the routes that read it (the others never buffer it).
        for content in (b"{" + b" " * LIMIT + b"}", *([chunks(LIMIT * 4)] * reads_body)):
            response = small_api.client.request(
                method, concrete(path), content=content,
                headers={**small_api.auth(Scope.ADMIN), "Content-Type": "application/json"},
                follow_redirects=False)
            assert response.status_code == 413, f"{method} {path}: {response.status_code}"
            assert response.json() == {"error": f"request body larger than {LIMIT} bytes"}


def test_harbor_scan_requests_are_limited(idle_api: Api) -> None:
    app = create_harbor_app(idle_api.service, lambda _scan, _digest: None, "t")
    headers = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    with TestClient(app) as client:
        for content in (b" " * (MAX_REQUEST_BYTES + 1), chunks(MAX_REQUEST_BYTES * 2)):
            response = client.post("/api/v1/scan", content=content, headers=headers)
            assert response.status_code == 413, response.text
            assert "larger than" in response.json()["error"]["message"]


def test_page_sizes_are_capped(idle_api: Api) -> None:
    document = idle_api.client.get("/openapi.json").json()
    paged = []
    for path, item in document["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["name"] == "limit":
                assert parameter["schema"]["maximum"] <= MAX_PAGE, path
                assert parameter["schema"]["minimum"] >= 1, path
                paged.append(path)
    assert sorted(paged) == ["/v1/images", "/v1/subscriptions", "/v1/webhooks/deliveries"]
    for path in paged:
        url = concrete(path)
        assert idle_api.get(url, params={"limit": MAX_PAGE + 1}).status_code == 422, path
        assert idle_api.get(url, params={"limit": 0}).status_code == 422, path
        assert idle_api.get(url, params={"offset": -1}).status_code == 422, path
        assert idle_api.get(url, params={"limit": MAX_PAGE}).status_code == 200, path


def test_string_fields_are_bounded(idle_api: Api) -> None:
    """Validation errors name the field and never echo the (possibly huge) input."""
    huge = "a" * 5000
    for url, body, field in (
            ("/v1/images", {"reference": huge}, "body.reference"),
            ("/v1/registries", {"host": huge}, "body.host"),
            ("/v1/subscriptions", {"kind": "vuln_update", "target": huge}, "body.target"),
            ("/v1/tokens", {"name": huge}, "body.name")):
        response = idle_api.post(url, Scope.ADMIN, json=body)
        assert response.status_code == 422, url
        assert response.json()["problems"][0]["path"] == field
        assert not re.search("a{100}", response.text), url
