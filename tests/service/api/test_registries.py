"""Registries: credentials sealed at rest and never returned, not even in errors."""

from __future__ import annotations

from sqlalchemy import select

from hullscan.service.store.models import Registry
from hullscan.service.tokens import Scope
from tests.service.api.conftest import Api

PASSWORD = "s3cret-Pa55word!"


def test_credentials_are_sealed_and_never_returned(idle_api: Api) -> None:
    api = idle_api
    body = {"host": "registry.example:5000", "username": "robot", "password": PASSWORD,
            "insecure": True, "ca_cert": None}
    created = api.post("/v1/registries", Scope.ADMIN, json=body)
    assert created.status_code == 201, created.text
    assert PASSWORD not in created.text and '"password"' not in created.text
    assert created.json()["has_password"] is True and created.json()["username"] == "robot"

    with api.service.store.session() as session:
        row = session.scalar(select(Registry).where(Registry.host == body["host"]))
    assert row is not None and row.password_encrypted is not None
    assert PASSWORD.encode() not in row.password_encrypted
    assert api.service.box.open(row.password_encrypted) == PASSWORD
    with api.service.store.session() as session:
        options = api.service.acquire_options(body["host"], session)
    assert options.registry.insecure

    listed = api.get("/v1/registries", Scope.ADMIN)
    one = api.get("/v1/registries/registry.example:5000", Scope.ADMIN)
    assert listed.status_code == one.status_code == 200
    assert PASSWORD not in listed.text + one.text
    assert [r["host"] for r in listed.json()] == ["registry.example:5000"]

    # Replacing keeps one row; an invalid request does not echo the password.
    replaced = api.post("/v1/registries", Scope.ADMIN, json={**body, "password": None})
    assert replaced.status_code == 200 and replaced.json()["has_password"] is False
    invalid = api.post("/v1/registries", Scope.ADMIN, json={**body, "insecure": "maybe"})
    assert invalid.status_code == 422 and PASSWORD not in invalid.text
    assert invalid.json()["problems"][0]["path"] == "body.insecure"

    assert api.delete("/v1/registries/registry.example:5000", Scope.ADMIN).status_code == 204
    gone = api.delete("/v1/registries/registry.example:5000", Scope.ADMIN)
    assert gone.status_code == 404 and set(gone.json()) == {"error"}
