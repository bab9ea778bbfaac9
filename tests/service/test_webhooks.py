"""Webhook deliveries to a real HTTP server on 127.0.0.1: signatures, retries with backoff,
giving up, targeting; on SQLite and PostgreSQL.

:class:`WebhookReceiver` is also used by the re-match and scheduler tests.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from hullscan.service.operations import Service
from hullscan.service.store.models import (
    DeliveryStatus,
    Subscription,
    SubscriptionKind,
    WebhookDelivery,
)
from hullscan.service.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    RetryPolicy,
    WebhookUrlError,
    aware,
    deliver_pending,
    delivery_log,
    enqueue,
    signature_header,
    validate_webhook_url,
    verify_signature,
)

SECRET = "s3cr3t-webhook-key"
NAMES = ["registry.example:5000/team/app:1"]


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: datetime.datetime

    def json(self) -> dict[str, Any]:
        """The body as a JSON object."""
        document = json.loads(self.body)
        assert isinstance(document, dict)
        return document


class WebhookReceiver:
    """An HTTP server in a thread on ``127.0.0.1:<free port>`` that records every POST and
    answers with scripted statuses (then 200)."""

    def __init__(self, statuses: Sequence[int] = ()) -> None:
        self.received: list[Received] = []
        self._statuses = list(statuses)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                        datetime.datetime.now(datetime.UTC)))
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: object) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        """Where to deliver."""
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def subscribe(service: Service, kind: SubscriptionKind, target: str, url: str | None, *,
              secret: str | None = SECRET, active: bool = True) -> int:
    """A notification subscription; returns its id."""
    with service.store.session() as session:
        subscription = Subscription(
            kind=kind, target=target, webhook_url=url, active=active,
            secret_encrypted=service.box.seal(secret) if secret is not None else None)
        session.add(subscription)
        session.flush()
        return subscription.id


def delivery(service: Service, delivery_id: int) -> WebhookDelivery:
    """The stored delivery row."""
    with service.store.session() as session:
        row = session.get(WebhookDelivery, delivery_id)
    assert row is not None
    return row


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def test_signed_delivery_and_targeting(service: Service, receiver: WebhookReceiver) -> None:
    everything = subscribe(service, SubscriptionKind.VULN_UPDATE, "*", receiver.url("/all"))
    subscribe(service, SubscriptionKind.VULN_UPDATE, "registry.example:5000/team/*",
              receiver.url("/team"))
    subscribe(service, SubscriptionKind.VULN_UPDATE, "registry.example:5000/other/*",
              receiver.url("/other"))
    subscribe(service, SubscriptionKind.VULN_UPDATE, "*", receiver.url("/off"), active=False)
    subscribe(service, SubscriptionKind.POLICY_EVAL, "*", receiver.url("/policy"))
    subscribe(service, SubscriptionKind.TAG_UPDATE, "*", receiver.url("/tag"))

    ids = enqueue(service, SubscriptionKind.VULN_UPDATE, "sha256:" + "a" * 64,
                  {"added": ["CVE-2099-0001"], "removed": []}, names=NAMES)
    assert len(ids) == 2  # "*" and the team glob; not other/*, the inactive one, other kinds
    attempts = deliver_pending(service)
    assert {a.status for a in attempts} == {DeliveryStatus.DELIVERED}
    assert sorted(r.path for r in receiver.received) == ["/all", "/team"]
    for request in receiver.received:
        assert verify_signature(SECRET, request.headers[SIGNATURE_HEADER.lower()], request.body)
        assert request.headers[EVENT_HEADER.lower()] == "vuln_update"
        assert request.headers["content-type"] == "application/json"
        payload = request.json()
        assert int(request.headers[DELIVERY_HEADER.lower()]) in ids
        assert payload["event"] == "vuln_update" and payload["images"] == NAMES
        assert payload["digest"] == "sha256:" + "a" * 64
        assert payload["added"] == ["CVE-2099-0001"] and payload["removed"] == []
    first = next(r for r in receiver.received if r.path == "/all")
    assert first.json()["subscription_id"] == everything
    # Tampering, another key or a stale timestamp fail verification.
    header = first.headers[SIGNATURE_HEADER.lower()]
    assert not verify_signature("other-key", header, first.body)
    assert not verify_signature(SECRET, header, first.body + b" ")
    assert not verify_signature(SECRET, header, first.body, now=time.time() + 3600)
    assert not verify_signature(SECRET, None, first.body)
    assert not verify_signature(SECRET, "v1=abc", first.body)
    # Nothing is sent twice.
    assert deliver_pending(service) == []
    log = delivery_log(service, status=DeliveryStatus.DELIVERED)
    assert {d.id for d in log} == set(ids)
    assert all(d.attempts == 1 and d.response_status == 200 and d.delivered_at for d in log)


def test_signature_format() -> None:
    body = b'{"a":1}'
    header = signature_header("key", body, 1_700_000_000)
    # Recomputable with nothing but the documented recipe.
    import hashlib
    import hmac
    expected = hmac.new(b"key", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify_signature("key", header, body, now=1_700_000_100)
    assert not verify_signature("key", header, body, now=1_700_000_400)
    assert verify_signature("key", header, body, now=1_700_000_400, tolerance=600)
    # Several v1 values (key rotation): any may match.
    assert verify_signature("key", f"t=1700000000,v1={'0' * 64},v1={expected}", body,
                            now=1_700_000_000)


def test_retries_with_backoff_then_delivered(service: Service) -> None:
    retry = RetryPolicy(base_seconds=1.0, cap_seconds=60.0, max_attempts=5,
                        timeout_seconds=5.0)
    with WebhookReceiver(statuses=[500, 500]) as receiver:
        subscribe(service, SubscriptionKind.POLICY_EVAL, "*", receiver.url())
        (delivery_id,) = enqueue(service, SubscriptionKind.POLICY_EVAL, "sha256:" + "b" * 64,
                                 {"action_before": "GO", "action_after": "STOP"}, names=NAMES)
        delays: list[float] = []
        for attempt in (1, 2):
            (result,) = deliver_pending(service, retry=retry)
            row = delivery(service, delivery_id)
            assert result.status is DeliveryStatus.PENDING and result.attempts == attempt
            assert row.attempts == attempt and row.response_status == 500
            assert row.last_error == "HTTP 500"
            next_at = aware(row.next_attempt_at)
            delays.append((next_at - receiver.received[-1].at).total_seconds())
            # Not due before its time; due at it.
            assert deliver_pending(service, now=next_at - datetime.timedelta(seconds=0.5),
                                   retry=retry) == []
            time.sleep(max(0.0, (next_at - datetime.datetime.now(datetime.UTC))
                           .total_seconds()) + 0.05)
        (result,) = deliver_pending(service, retry=retry)
        assert result.status is DeliveryStatus.DELIVERED and result.attempts == 3
    assert len(receiver.received) == 3
    # base * 2**failures: about 1 s, then about 2 s.
    assert 0.5 < delays[0] < 1.5 and 1.5 < delays[1] < 2.5 and delays[1] > delays[0]
    row = delivery(service, delivery_id)
    assert row.status is DeliveryStatus.DELIVERED and row.delivered_at is not None
    assert row.response_status == 200 and row.attempts == 3
    # The same delivery id and a fresh, valid signature on each attempt.
    assert {r.headers[DELIVERY_HEADER.lower()] for r in receiver.received} == {str(delivery_id)}
    assert all(verify_signature(SECRET, r.headers[SIGNATURE_HEADER.lower()], r.body)
               for r in receiver.received)
    assert receiver.received[0].json()["action_after"] == "STOP"


def test_gives_up_after_max_attempts(service: Service) -> None:
    retry = RetryPolicy(base_seconds=0.01, cap_seconds=0.02, max_attempts=3,
                        timeout_seconds=2.0)
    with WebhookReceiver(statuses=[503] * 10) as receiver:
        subscribe(service, SubscriptionKind.VULN_UPDATE, "*", receiver.url())
        # A port nothing listens on (the receiver's own port once it is closed is racy).
        dead = subscribe(service, SubscriptionKind.VULN_UPDATE, "*", "http://127.0.0.1:9/x")
        ids = enqueue(service, SubscriptionKind.VULN_UPDATE, "sha256:" + "c" * 64,
                      {"added": [], "removed": ["CVE-1"]}, names=NAMES)
        for _ in range(retry.max_attempts + 2):
            later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
            deliver_pending(service, now=later, retry=retry)
    assert len(receiver.received) == retry.max_attempts
    rows = {delivery(service, i).subscription_id: delivery(service, i) for i in ids}
    answered = next(row for sid, row in rows.items() if sid != dead)
    assert answered.status is DeliveryStatus.FAILED and answered.attempts == 3
    assert answered.last_error == "HTTP 503" and answered.response_status == 503
    assert answered.delivered_at is None
    refused = rows[dead]
    assert refused.status is DeliveryStatus.FAILED and refused.attempts == 3
    assert refused.response_status is None and "ConnectError" in (refused.last_error or "")
    # Failed deliveries stay in the log.
    assert {d.id for d in delivery_log(service, status=DeliveryStatus.FAILED)} == set(ids)
    with service.store.session() as session:
        assert session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.status == DeliveryStatus.PENDING)) is None


def test_webhook_urls() -> None:
    assert validate_webhook_url("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook"
    assert validate_webhook_url("https://hooks.example/x")
    for bad in ("file:///etc/passwd", "ftp://example/x", "http://", "https://u:p@example/x"):
        with pytest.raises(WebhookUrlError):
            validate_webhook_url(bad)
