"""Credentials never leak: a registry password, a webhook key and API tokens are used for
real (pulls from a Basic-auth registry, a failing pull with a wrong password, signed webhook
deliveries), then every API response, the dashboard's pages, the logs and every stored value
are searched for them."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select

from hullscan.image.acquire import open_image
from hullscan.image.push import PushTarget, push_image
from hullscan.image.registry.client import RegistryClient
from hullscan.image.registry.credentials import RegistryCredentials
from hullscan.service.harbor import create_harbor_app
from hullscan.service.store.models import SubscriptionKind
from hullscan.service.tokens import Scope
from hullscan.service.web.session import COOKIE
from hullscan.service.webhooks import deliver_pending, enqueue
from tests.service.api.conftest import Api
from tests.service.harbor.conftest import (
    AUTH as HARBOR_AUTH,
)
from tests.service.harbor.conftest import (
    SCAN_REQUEST_TYPE,
    VULNERABILITY_REPORT,
    PushedImage,
    poll_report,
    scan_request,
)
from tests.service.harbor.conftest import (
    TOKEN as HARBOR_TOKEN,
)
from tests.service.test_webhooks import WebhookReceiver
from tests.support.registry_servers import RegistryServer, start_registry
from tests.support.vulnerable_image import VulnerableImage

pytestmark = [pytest.mark.registry,
              pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)]

USERNAME = "leak-canary-user"
PASSWORD = "Pw-LeakCanary-3f9a1c"
WRONG_PASSWORD = "Pw-WrongCanary-77e0b2"
WEBHOOK_KEY = "Wh-LeakCanary-c41d0e"
LOGGERS = ("hullscan", "httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access",
           "fastapi", "sqlalchemy")


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory,
           vulnerable_image: VulnerableImage) -> Iterator[tuple[RegistryServer, str, str]]:
    """A Basic-auth registry with the canary password; the vulnerable and clean images."""
    running = start_registry("basic", tmp_path_factory.mktemp("locked"), username=USERNAME,
                             password=PASSWORD)
    try:
        server = running.server
        references = []
        for ref, name in ((vulnerable_image.ref, "leak/vulnerable"),
                          (vulnerable_image.clean_ref, "leak/clean")):
            with open_image(f"oci-dir:{vulnerable_image.layout}:{ref}") as source, \
                    RegistryClient(server.host, credentials=RegistryCredentials(
                        USERNAME, PASSWORD, None, "test push")) as client:
                pushed = push_image(source, PushTarget(client, name, "1"))
            references.append(f"{server.host}/{name}@{pushed.digest}")
        yield server, references[0], references[1]
    finally:
        running.stop()


def forbidden(api: Api) -> dict[str, str]:
    """Every secret, by what it is."""
    return {"password": PASSWORD, "wrong password": WRONG_PASSWORD, "webhook key": WEBHOOK_KEY,
            "basic auth": basic(USERNAME, PASSWORD),
            "wrong basic auth": basic(USERNAME, WRONG_PASSWORD),
            **{f"{scope} token": secret for scope, secret in api.tokens.items()},
            **{f"{scope} token hash tail": secret[3:] for scope, secret in api.tokens.items()}}


def assert_clean(where: str, text: str, secrets: dict[str, str]) -> None:
    for what, secret in secrets.items():
        assert secret not in text, f"{what} leaks in {where}"


def wait_failed(api: Api, image_id: int) -> dict[str, Any]:
    """Poll the image until its analysis failed; returns the image."""
    deadline = time.monotonic() + 120
    while True:
        image: dict[str, Any] = api.get(f"/v1/images/{image_id}").json()
        if image["status"] == "failed" or time.monotonic() > deadline:
            assert image["status"] == "failed", image
            return image
        time.sleep(0.2)


def stored_text(api: Api) -> str:
    """Every value of every table, as text."""
    metadata = MetaData()
    metadata.reflect(api.service.store.engine)
    parts = []
    with api.service.store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                parts.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(parts)


def test_no_credential_leaks(api: Api, locked: tuple[RegistryServer, str, str],
                             caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    server, vulnerable, clean = locked
    responses: list[tuple[str, Any]] = []

    def record(where: str, response: Any) -> Any:
        responses.append((where, response))
        return response

    with WebhookReceiver() as receiver:
        record("add registry", api.post("/v1/registries", Scope.ADMIN, json={
            "host": server.host, "username": USERNAME, "password": PASSWORD}))
        record("add subscription", api.post("/v1/subscriptions", json={
            "kind": "vuln_update", "target": "*", "webhook_url": receiver.url("/hook"),
            "webhook_secret": WEBHOOK_KEY}))
        good = record("add image", api.post("/v1/images", json={"reference": vulnerable}))
        assert good.status_code == 202, good.text
        analysed = api.wait_analysed(good.json()["id"])
        assert analysed["status"] == "analysed"
        by_tag = record("add tagged image", api.post(
            "/v1/images", json={"reference": f"{server.host}/leak/vulnerable:1"}))
        assert by_tag.status_code == 202, by_tag.text
        enqueue(api.service, SubscriptionKind.VULN_UPDATE, analysed["digest"],
                {"added": ["CVE-2099-0001"], "removed": []})
        assert [a.response_status for a in deliver_pending(api.service)] == [200]

        # The wrong password: resolving a tag fails now, an analysis by digest fails later.
        record("replace registry", api.post("/v1/registries", Scope.ADMIN, json={
            "host": server.host, "username": USERNAME, "password": WRONG_PASSWORD}))
        refused = record("add image, wrong password", api.post(
            "/v1/images", json={"reference": f"{server.host}/leak/clean:1"}))
        assert refused.status_code == 502, refused.text
        failing = record("add image by digest, wrong password",
                         api.post("/v1/images", json={"reference": clean}))
        assert failing.status_code == 202
        failed = wait_failed(api, failing.json()["id"])
        assert "refused the credentials" in failed["error"], failed

        # Harbor hands over its own Basic authorization per scan request.
        record("invalid registry", api.post("/v1/registries", Scope.ADMIN, json={
            "host": "not a host", "password": PASSWORD}))
    harbor_app = create_harbor_app(api.service, None, HARBOR_TOKEN, refresh_after=1)
    with TestClient(harbor_app) as harbor:
        for reference, password in ((clean, WRONG_PASSWORD), (vulnerable, PASSWORD)):
            repository = reference.split("/", 1)[1].split("@")[0]
            image = PushedImage(server, repository, "1", reference.split("@")[1])
            authorization = "Basic " + basic(USERNAME, password)
            response = record("harbor scan", harbor.post(
                "/api/v1/scan", json=scan_request(image, authorization),
                headers={**HARBOR_AUTH, "Content-Type": SCAN_REQUEST_TYPE}))
            assert response.status_code == 202, response.text
            report = record("harbor report", poll_report(harbor, response.json()["id"],
                                                         VULNERABILITY_REPORT))
            assert report.status_code == (500 if password == WRONG_PASSWORD else 200)
    assert "refused the credentials" in caplog.text  # the failures were logged

    image_ids = [item["id"] for item in api.get("/v1/images").json()["items"]]
    for url in ("/v1/registries", f"/v1/registries/{server.host}", "/v1/images",
                "/v1/subscriptions", "/v1/webhooks/deliveries", "/v1/tokens", "/v1/policies",
                *(f"/v1/images/{i}" for i in image_ids),
                *(f"/v1/images/{good.json()['id']}/{part}" for part in
                  ("sbom", "vulnerabilities", "evaluation", "checks", "report"))):
        record(url, api.get(url, Scope.ADMIN))
    client = api.client
    client.cookies.set(COOKIE, api.tokens[Scope.ADMIN])
    try:
        for page in ("/", "/images", "/policies", "/subscriptions",
                     *(f"/images/{i}" for i in image_ids)):
            record(f"dashboard {page}", client.get(page))
    finally:
        client.cookies.clear()

    secrets = forbidden(api)
    for where, response in responses:
        assert "internal error" not in response.text, where
        assert_clean(where, response.text, secrets)
        assert_clean(f"{where} headers", str(dict(response.headers)), secrets)
    assert_clean("logs", caplog.text, secrets)
    assert_clean("logs (arguments)", "\n".join(repr(r.args) for r in caplog.records), secrets)
    assert_clean("stored values", stored_text(api), secrets)
    assert_clean("data directory", "\n".join(
        p.read_text(errors="replace") for p in api.service.data_dir.rglob("*")
        if p.is_file() and p.stat().st_size < 1_000_000), secrets)
    [delivery] = receiver.received
    assert_clean("webhook request", delivery.body.decode() + str(delivery.headers), secrets)
