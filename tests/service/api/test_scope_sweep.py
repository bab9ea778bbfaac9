"""Every operation of the API, the Harbor adapter and the dashboard, swept for authorisation:
no token 401, a token without the needed scope 403, the right scope neither. A route added
without a line in the tables below fails the sweep."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from hullscan.service.harbor import create_harbor_app
from hullscan.service.tokens import Scope, create_token
from hullscan.service.web.routes import router as dashboard
from hullscan.service.web.session import COOKIE
from tests.service.api.conftest import Api

# The sweep is about routing and dependencies, not the store: SQLite is enough.
pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

OPEN = None
READ, WRITE, ADMIN = Scope.READ, Scope.WRITE, Scope.ADMIN
API_SCOPES: dict[tuple[str, str], Scope | None] = {
    ("GET", "/health"): OPEN,
    # Registries hold pull credentials: admin for everything, reading included.
    ("GET", "/v1/registries"): ADMIN,
    ("POST", "/v1/registries"): ADMIN,
    ("GET", "/v1/registries/{host}"): ADMIN,
    ("DELETE", "/v1/registries/{host}"): ADMIN,
    ("POST", "/v1/images"): WRITE,
    ("GET", "/v1/images"): READ,
    ("GET", "/v1/images/{image_id}"): READ,
    ("DELETE", "/v1/images/{image_id}"): WRITE,
    ("GET", "/v1/images/{image_id}/sbom"): READ,
    ("GET", "/v1/images/{image_id}/vulnerabilities"): READ,
    ("GET", "/v1/images/{image_id}/evaluation"): READ,
    ("GET", "/v1/images/{image_id}/checks"): READ,
    ("GET", "/v1/images/{image_id}/report"): READ,
    # Policies: write, as enforced today. A CI token with write can therefore deactivate or
    # delete the gating policy; see docs/service-api.md ("Scopes").
    ("POST", "/v1/policies"): WRITE,
    ("GET", "/v1/policies"): READ,
    ("GET", "/v1/policies/{policy_id}"): READ,
    ("DELETE", "/v1/policies/{policy_id}"): WRITE,
    ("POST", "/v1/policies/{policy_id}/activate"): WRITE,
    ("POST", "/v1/policies/{policy_id}/deactivate"): WRITE,
    ("POST", "/v1/subscriptions"): WRITE,
    ("GET", "/v1/subscriptions"): READ,
    ("GET", "/v1/subscriptions/{subscription_id}"): READ,
    ("DELETE", "/v1/subscriptions/{subscription_id}"): WRITE,
    ("GET", "/v1/vulnerabilities/{vulnerability_id}/images"): READ,
    ("GET", "/v1/webhooks/deliveries"): READ,
    ("GET", "/v1/tokens"): ADMIN,
    ("POST", "/v1/tokens"): ADMIN,
    ("DELETE", "/v1/tokens/{token_id}"): ADMIN,
}
"""The scope each operation of ``/openapi.json`` needs (None: no token)."""

DASHBOARD_PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
DASHBOARD_SCOPES: dict[tuple[str, str], Scope] = {
    ("GET", "/"): READ,
    ("GET", "/images"): READ,
    ("GET", "/images/{image_id}"): READ,
    ("GET", "/images/{image_id}/sbom"): READ,
    ("GET", "/vulnerabilities"): READ,
    ("GET", "/vulnerabilities/{vulnerability_id}"): READ,
    ("GET", "/policies"): READ,
    ("GET", "/subscriptions"): READ,
    ("POST", "/subscriptions"): WRITE,
}
"""The dashboard's pages (not in the OpenAPI document) and the scope each needs."""

HARBOR_OPERATIONS = {("GET", "/api/v1/metadata"), ("POST", "/api/v1/scan"),
                     ("GET", "/api/v1/scan/{scan_request_id}/report")}
HARBOR_TOKEN = "harbor-sweep-token"

PATH_VALUES = {"host": "registry.invalid", "image_id": "999999", "policy_id": "absent",
               "subscription_id": "999999", "token_id": "999999",
               "vulnerability_id": "CVE-2099-0001", "scan_request_id": "absent"}
LOWER = {READ: (), WRITE: (READ,), ADMIN: (READ, WRITE)}
"""Scopes below each scope."""


def concrete(path: str) -> str:
    """``path`` with its parameters filled in."""
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in item}


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, concrete(path), headers=headers, **kwargs).status_code


def test_every_api_operation_has_a_declared_scope(idle_api: Api) -> None:
    found = operations(idle_api.client.get("/openapi.json").json())
    assert found - API_SCOPES.keys() == set(), "new routes: declare the scope they need"
    assert API_SCOPES.keys() - found == set(), "routes gone: drop them from the table"


def test_every_api_operation_enforces_its_scope(idle_api: Api) -> None:
    harbor = create_token(idle_api.service.store, "harbor", [Scope.HARBOR]).secret
    for (method, path), needed in sorted(API_SCOPES.items()):
        where = f"{method} {path}"
        if needed is None:
            assert call(idle_api.client, method, path, {}) == 200, where
            continue
        assert call(idle_api.client, method, path, {}) == 401, where
        for secret in ("hs_" + "x" * 40, "not-a-token"):
            unknown = {"Authorization": f"Bearer {secret}"}
            assert call(idle_api.client, method, path, unknown) == 401, where
        basic = {"Authorization": "Basic dXNlcjpwYXNz"}
        assert call(idle_api.client, method, path, basic) == 401, where
        assert call(idle_api.client, method, path,
                    {"Authorization": f"Bearer {harbor}"}) == 403, where
        for lower in LOWER[needed]:
            assert call(idle_api.client, method, path, idle_api.auth(lower)) == 403, \
                f"{where} with {lower}"
        for enough in (needed, *(s for s in (WRITE, ADMIN) if needed in LOWER[s])):
            status = call(idle_api.client, method, path, idle_api.auth(enough))
            assert status not in (401, 403), f"{where} with {enough}: {status}"


def test_read_tokens_see_no_secrets(idle_api: Api) -> None:
    """What ``read`` may list: subscriptions say whether they have a key, never which."""
    created = idle_api.post("/v1/subscriptions", json={
        "kind": "vuln_update", "target": "*", "webhook_url": "http://127.0.0.1:9/hook",
        "webhook_secret": "sweep-webhook-key-0001"})
    assert created.status_code == 201, created.text
    listed = idle_api.get("/v1/subscriptions")
    assert listed.status_code == 200
    assert "sweep-webhook-key-0001" not in listed.text
    assert listed.json()["items"][0]["has_secret"] is True


def test_every_dashboard_page_needs_a_login(idle_api: Api) -> None:
    found = {(method, route.path) for route in dashboard.routes
             if isinstance(route, APIRoute) for method in route.methods - {"HEAD"}}
    assert found == DASHBOARD_SCOPES.keys() | DASHBOARD_PUBLIC
    client = idle_api.client
    harbor = create_token(idle_api.service.store, "harbor", [Scope.HARBOR]).secret
    for (method, path), needed in sorted(DASHBOARD_SCOPES.items()):
        where = f"{method} {path}"
        client.cookies.clear()
        anonymous = client.request(method, concrete(path), data={}, follow_redirects=False)
        assert anonymous.status_code == 303, where
        assert anonymous.headers["location"].startswith("/login?next="), where
        client.cookies.set(COOKIE, "hs_" + "x" * 40)
        forged = client.request(method, concrete(path), data={}, follow_redirects=False)
        assert forged.status_code == 303, where
        client.cookies.set(COOKIE, harbor)
        wrong = client.request(method, concrete(path), data={}, follow_redirects=False)
        assert wrong.status_code == 403, where
        for lower in LOWER[needed]:
            client.cookies.set(COOKIE, idle_api.tokens[lower])
            refused = client.request(method, concrete(path), data={}, follow_redirects=False)
            assert refused.status_code == 403, f"{where} with {lower}"
        client.cookies.set(COOKIE, idle_api.tokens[needed])
        allowed = client.request(method, concrete(path), data={}, follow_redirects=False)
        assert allowed.status_code not in (303, 401, 403), f"{where}: {allowed.status_code}"
    client.cookies.clear()


def test_every_harbor_operation_needs_the_harbor_token(idle_api: Api) -> None:
    app = create_harbor_app(idle_api.service, lambda _scan, _digest: None, HARBOR_TOKEN)
    assert operations(app.openapi()) == HARBOR_OPERATIONS
    with TestClient(app, raise_server_exceptions=False) as client:
        for method, path in sorted(HARBOR_OPERATIONS):
            where = f"{method} {path}"
            for headers in ({}, {"Authorization": "Bearer wrong"},
                            {"X-ScannerAdapter-API-Key": "wrong"},
                            {"Authorization": f"Basic {HARBOR_TOKEN}"},
                            idle_api.auth(ADMIN)):
                assert call(client, method, path, headers) == 401, f"{where} {headers}"
            for headers in ({"Authorization": f"Bearer {HARBOR_TOKEN}"},
                            {"X-ScannerAdapter-API-Key": HARBOR_TOKEN}):
                assert call(client, method, path, headers) not in (401, 403), where
        assert client.get("/probe/healthy").status_code == 200
