"""The application's edges: request size limit, OpenAPI document, health, error shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hullscan.service.operations import Service
from hullscan.service.tokens import Scope
from tests.service.api.conftest import Api, RecordingQueue, make_api

LIMIT = 4096


@pytest.fixture
def small_api(service: Service) -> Iterator[Api]:
    """The API refusing bodies over LIMIT bytes."""
    yield from make_api(service, RecordingQueue(), max_request_bytes=LIMIT)


def test_request_size_limit(small_api: Api) -> None:
    api = small_api
    big = "x" * (LIMIT + 1)
    declared = api.post("/v1/policies", content=big, headers={"Content-Type": "text/plain"})
    assert declared.status_code == 413
    assert declared.json() == {"error": f"request body larger than {LIMIT} bytes"}

    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b"y" * 1024

    streamed = api.post("/v1/policies", content=chunks(),
                        headers={"Content-Type": "text/plain"})
    assert streamed.status_code == 413
    json_streamed = api.post("/v1/images", content=chunks(),
                             headers={"Content-Type": "application/json"})
    assert json_streamed.status_code == 413
    # Under the limit, the request goes through.
    assert api.post("/v1/images", json={"reference": "/etc"}).status_code == 400


def test_openapi_lists_v1(idle_api: Api) -> None:
    document = idle_api.client.get("/openapi.json").json()
    assert document["info"]["title"] == "hullscan service" and document["info"]["version"]
    paths = set(document["paths"])
    assert {"/health", "/v1/images", "/v1/images/{image_id}", "/v1/images/{image_id}/sbom",
            "/v1/images/{image_id}/vulnerabilities", "/v1/images/{image_id}/evaluation",
            "/v1/images/{image_id}/checks", "/v1/registries", "/v1/registries/{host}",
            "/v1/policies", "/v1/policies/{policy_id}/activate", "/v1/subscriptions",
            "/v1/vulnerabilities/{vulnerability_id}/images", "/v1/webhooks/deliveries",
            "/v1/tokens", "/v1/tokens/{token_id}"} <= paths
    assert all(p == "/health" or p.startswith("/v1/") for p in paths)
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert document["paths"]["/v1/images"]["get"]["security"] == [{"token": []}]
    registry = document["components"]["schemas"]["RegistryOut"]["properties"]
    assert "password" not in registry and "has_password" in registry


def test_errors_are_one_json_line(idle_api: Api) -> None:
    api = idle_api
    unknown = api.get("/v1/nothing")
    assert unknown.status_code == 404 and set(unknown.json()) == {"error"}
    wrong_method = api.client.put("/v1/images", headers=api.auth(Scope.ADMIN))
    assert wrong_method.status_code == 405 and set(wrong_method.json()) == {"error"}
    assert api.get("/v1/images/abc").status_code == 422
