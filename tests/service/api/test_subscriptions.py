"""Subscriptions (records only; the scheduler acts on them) and the delivery log."""

from __future__ import annotations

from sqlalchemy import select

from hullscan.service.store.models import (
    DeliveryStatus,
    Subscription,
    SubscriptionKind,
    WebhookDelivery,
)
from tests.service.api.conftest import Api

SECRET = "hook-key-1234567890"


def test_subscription_crud(idle_api: Api) -> None:
    api = idle_api
    tag = api.post("/v1/subscriptions", json={
        "kind": "tag_update", "target": "127.0.0.1:5000/team/app:stable",
        "interval_seconds": 60})
    assert tag.status_code == 201, tag.text
    assert tag.json()["target"] == "127.0.0.1:5000/team/app:stable"
    assert tag.json()["webhook_secret"] is None and not tag.json()["has_secret"]

    given = api.post("/v1/subscriptions", json={
        "kind": "vuln_update", "target": "127.0.0.1:5000/team/*",
        "webhook_url": "https://hooks.example/hullscan", "webhook_secret": SECRET})
    assert given.status_code == 201 and SECRET not in given.text
    assert given.json()["has_secret"] and given.json()["webhook_secret"] is None
    generated = api.post("/v1/subscriptions", json={
        "kind": "policy_eval", "target": "*", "webhook_url": "http://127.0.0.1:9/hook"})
    key = generated.json()["webhook_secret"]
    assert generated.status_code == 201 and key and generated.json()["has_secret"]

    with api.service.store.session() as session:
        rows = {row.id: row for row in session.scalars(select(Subscription))}
    sealed = rows[given.json()["id"]].secret_encrypted
    assert sealed is not None and SECRET.encode() not in sealed
    assert api.service.box.open(sealed) == SECRET
    stored_key = rows[generated.json()["id"]].secret_encrypted
    assert stored_key is not None and api.service.box.open(stored_key) == key

    listed = api.get("/v1/subscriptions").json()
    assert listed["total"] == 3 and SECRET not in str(listed) and key not in str(listed)
    only = api.get("/v1/subscriptions", params={"kind": "repo_update"}).json()
    assert only["total"] == 0
    assert api.get(f"/v1/subscriptions/{tag.json()['id']}").json()["kind"] == "tag_update"

    refused = [
        {"kind": "tag_update", "target": "/etc/passwd"},
        {"kind": "repo_update", "target": "127.0.0.1:5000/team/app:1"},
        {"kind": "vuln_update", "target": "*", "webhook_url": "https://u:p@hooks.example/"},
    ]
    for body in refused:
        response = api.post("/v1/subscriptions", json=body)
        assert response.status_code == 400, body
        assert ":p@" not in response.text
    assert api.post("/v1/subscriptions", json={
        "kind": "nonsense", "target": "*"}).status_code == 422
    assert api.post("/v1/subscriptions", json={
        "kind": "vuln_update", "target": "*", "webhook_url": "ftp://x"}).status_code == 422

    assert api.delete(f"/v1/subscriptions/{tag.json()['id']}").status_code == 204
    assert api.get(f"/v1/subscriptions/{tag.json()['id']}").status_code == 404


def test_delivery_log(idle_api: Api) -> None:
    api = idle_api
    with api.service.store.session() as session:
        subscription = Subscription(kind=SubscriptionKind.VULN_UPDATE, target="*",
                                    webhook_url="http://127.0.0.1:9/hook")
        session.add(subscription)
        session.flush()
        session.add_all([
            WebhookDelivery(subscription_id=subscription.id, kind="vuln_update",
                            payload={"added": ["CVE-1"]}, status=DeliveryStatus.DELIVERED,
                            attempts=1, response_status=200),
            WebhookDelivery(subscription_id=subscription.id, kind="vuln_update",
                            payload={"added": ["CVE-2"]}, status=DeliveryStatus.FAILED,
                            attempts=5, last_error="connection refused")])
        subscription_id = subscription.id

    log = api.get("/v1/webhooks/deliveries").json()
    assert log["total"] == 2 and [d["payload"]["added"] for d in log["items"]] == [
        ["CVE-2"], ["CVE-1"]]
    failed = api.get("/v1/webhooks/deliveries", params={"status": "failed"}).json()
    assert [d["last_error"] for d in failed["items"]] == ["connection refused"]
    mine = api.get("/v1/webhooks/deliveries",
                   params={"subscription_id": subscription_id, "limit": 1}).json()
    assert mine["total"] == 2 and len(mine["items"]) == 1
    assert api.get("/v1/webhooks/deliveries",
                   params={"subscription_id": subscription_id + 1}).json()["total"] == 0
    # Deleting the subscription deletes its log.
    assert api.delete(f"/v1/subscriptions/{subscription_id}").status_code == 204
    assert api.get("/v1/webhooks/deliveries").json()["total"] == 0
