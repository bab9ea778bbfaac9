"""Tokens: stored hashed, shown once, scopes nest (read < write < admin), every endpoint
but /health and /openapi.json needs one."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from hullscan.errors import HullscanError
from hullscan.service.operations import Service
from hullscan.service.store.models import ApiToken
from hullscan.service.tokens import (
    Scope,
    create_token,
    delete_token,
    grants,
    list_tokens,
    parse_scopes,
    verify_token,
)
from tests.service.api.conftest import Api


def test_tokens_are_stored_hashed_and_verified(service: Service) -> None:
    issued = create_token(service.store, "ci", [Scope.WRITE])
    assert issued.secret.startswith("hs_") and len(issued.secret) == 43
    with service.store.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.id == issued.info.id))
    assert row is not None and issued.secret not in row.token_hash
    assert row.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()

    info = verify_token(service.store, issued.secret)
    assert info is not None and info.scopes == (Scope.WRITE,) and info.last_used_at
    wrong = issued.secret[:-1] + ("y" if issued.secret.endswith("x") else "x")
    assert verify_token(service.store, wrong) is None
    assert verify_token(service.store, "not-a-token") is None
    assert [t.name for t in list_tokens(service.store)] == ["ci"]
    assert delete_token(service.store, issued.info.id)
    assert verify_token(service.store, issued.secret) is None
    assert not delete_token(service.store, issued.info.id)


def test_scopes_nest() -> None:
    assert grants([Scope.ADMIN], Scope.READ) and grants([Scope.ADMIN], Scope.WRITE)
    assert grants([Scope.WRITE], Scope.READ) and not grants([Scope.WRITE], Scope.ADMIN)
    assert not grants([Scope.READ], Scope.WRITE) and not grants([Scope.HARBOR], Scope.READ)
    assert parse_scopes(["read", "WRITE", "read"]) == (Scope.READ, Scope.WRITE)
    with pytest.raises(HullscanError, match="unknown scope root"):
        parse_scopes(["root"])


def test_every_endpoint_needs_a_token(idle_api: Api) -> None:
    client = idle_api.client
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/openapi.json").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        if path == "/health":
            continue
        concrete = path.replace("{image_id}", "1").replace("{host}", "h").replace(
            "{policy_id}", "p").replace("{subscription_id}", "1").replace(
            "{token_id}", "1").replace("{vulnerability_id}", "CVE-1")
        for method in operations:
            response = client.request(method, concrete)
            assert response.status_code == 401, (method, path)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert set(response.json()) == {"error"}
    bad = client.get("/v1/images", headers={"Authorization": "Bearer hs_nope"})
    assert bad.status_code == 401 and "unknown or revoked" in bad.json()["error"]
    basic = client.get("/v1/images", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


def test_scopes_decide(idle_api: Api) -> None:
    api = idle_api
    assert api.get("/v1/images", Scope.READ).status_code == 200
    refused = api.post("/v1/images", Scope.READ, json={"reference": "x.example/a:1"})
    assert refused.status_code == 403 and "write scope" in refused.json()["error"]
    assert api.get("/v1/tokens", Scope.WRITE).status_code == 403
    assert api.get("/v1/registries", Scope.WRITE).status_code == 403
    assert api.post("/v1/policies", Scope.READ, content="x").status_code == 403
    assert api.get("/v1/tokens", Scope.ADMIN).status_code == 200
    assert api.get("/v1/images", Scope.ADMIN).status_code == 200


def test_token_endpoints(idle_api: Api) -> None:
    api = idle_api
    created = api.post("/v1/tokens", Scope.ADMIN, json={"name": "reader", "scopes": ["read"]})
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert secret.startswith("hs_") and body["scopes"] == ["read"]
    listed = api.get("/v1/tokens", Scope.ADMIN)
    assert secret not in listed.text and "token_hash" not in listed.text
    assert {t["name"] for t in listed.json()} >= {"reader", "test-admin"}
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/v1/images", headers=headers).status_code == 200
    used = next(t for t in api.get("/v1/tokens", Scope.ADMIN).json() if t["id"] == body["id"])
    assert used["last_used_at"] is not None
    assert api.delete(f"/v1/tokens/{body['id']}", Scope.ADMIN).status_code == 204
    assert api.client.get("/v1/images", headers=headers).status_code == 401
    assert api.delete(f"/v1/tokens/{body['id']}", Scope.ADMIN).status_code == 404
    wrong = api.post("/v1/tokens", Scope.ADMIN, json={"name": "x", "scopes": ["root"]})
    assert wrong.status_code == 422 and wrong.json()["problems"][0]["path"] == "body.scopes.0"
