"""Registries, images, watches and webhook targets named through the API: refused with a 422
naming the field when they resolve to a non-public address, accepted once allowed."""

from __future__ import annotations

from typing import Any

import pytest

from hullscan.service.egress import EgressPolicy
from hullscan.service.tokens import Scope
from hullscan.service.web.session import COOKIE
from tests.service.api.conftest import Api
from tests.service.conftest import LOCAL_EGRESS, StagedImages

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

PRIVATE_HOSTS = ["169.254.169.254", "127.0.0.1:5000", "localhost:5000", "[::1]:5000",
                 "2130706433:5000", "0177.0.0.1:5000", "10.0.0.8", "192.168.10.1:443",
                 "[fe80::1]:5000", "[fd00:ec2::254]"]
PRIVATE_URLS = ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/hook",
                "http://localhost/hook", "http://[::1]:8080/hook", "http://2130706433/",
                "http://0177.0.0.1/", "https://10.1.2.3/hook", "http://[fd00:ec2::254]/",
                "http://0.0.0.0:80/"]


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["problems"][0]["path"] == field
    assert "resolves to a private address" in body["problems"][0]["message"]
    assert "resolves to a private address" in body["error"]


@pytest.fixture
def strict(idle_api: Api) -> Api:
    idle_api.service.egress = EgressPolicy()
    return idle_api


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_registry_hosts(strict: Api, host: str) -> None:
    refused(strict.post("/v1/registries", Scope.ADMIN, json={
        "host": host, "username": "u", "password": "p"}), "body.host")
    assert strict.get("/v1/registries", Scope.ADMIN).json() == []


def test_registry_urls_are_not_hosts(strict: Api) -> None:
    response = strict.post("/v1/registries", Scope.ADMIN,
                           json={"host": "http://169.254.169.254/"})
    assert response.status_code == 422 and response.json()["problems"][0]["path"] == "body.host"


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_image_references(strict: Api, host: str) -> None:
    refused(strict.post("/v1/images", json={"reference": f"{host}/team/app:1"}),
            "body.reference")
    assert strict.get("/v1/images").json()["total"] == 0


@pytest.mark.parametrize("kind,target", [("tag_update", "127.0.0.1:5000/team/app:1"),
                                         ("repo_update", "localhost:5000/team/app"),
                                         ("tag_update", "169.254.169.254/latest/meta:1")])
def test_watch_targets(strict: Api, kind: str, target: str) -> None:
    refused(strict.post("/v1/subscriptions", json={"kind": kind, "target": target}),
            "body.target")


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_webhook_targets(strict: Api, url: str) -> None:
    refused(strict.post("/v1/subscriptions", json={
        "kind": "vuln_update", "target": "*", "webhook_url": url}), "body.webhook_url")
    assert strict.get("/v1/subscriptions").json()["total"] == 0


def test_the_same_targets_work_when_allowed(idle_api: Api, staged: StagedImages) -> None:
    idle_api.service.egress = LOCAL_EGRESS
    host = staged.server.host
    assert idle_api.post("/v1/registries", Scope.ADMIN,
                         json={"host": host}).status_code == 201
    added = idle_api.post("/v1/images", json={"reference": staged.vulnerable})
    assert added.status_code == 202, added.text
    watch = idle_api.post("/v1/subscriptions", json={"kind": "tag_update",
                                                     "target": staged.clean})
    assert watch.status_code == 201, watch.text
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook",
                "http://2130706433:9/"):
        hook = idle_api.post("/v1/subscriptions", json={
            "kind": "vuln_update", "target": "*", "webhook_url": url})
        assert hook.status_code == 201, (url, hook.text)
    # Metadata stays refused under a wide allowance.
    idle_api.service.egress = EgressPolicy.from_settings(["169.254.0.0/16"],
                                                         allow_private=True)
    refused(idle_api.post("/v1/subscriptions", json={
        "kind": "vuln_update", "target": "*",
        "webhook_url": "http://169.254.169.254/latest/meta-data/"}), "body.webhook_url")


def test_dashboard_subscription_form_is_guarded(strict: Api) -> None:
    strict.client.cookies.set(COOKIE, strict.tokens[Scope.WRITE])
    try:
        response = strict.client.post("/subscriptions", data={
            "kind": "vuln_update", "target": "*", "webhook_url": "http://127.0.0.1:9/"},
            follow_redirects=False)
    finally:
        strict.client.cookies.clear()
    assert response.status_code == 400
    assert "resolves to a private address" in response.text
