"""examples/webhook_receiver.py against real deliveries, and the copy of it in
docs/service-continuous.md kept identical (the documentation cannot rot)."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from hullscan.service.operations import Service
from hullscan.service.store.models import DeliveryStatus, SubscriptionKind
from hullscan.service.webhooks import deliver_pending, enqueue, signature_header
from tests.service.test_webhooks import NAMES, delivery, subscribe

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "webhook_receiver.py"
DOC = ROOT / "docs" / "service-continuous.md"
SECRET = "receiver-example-key"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def running() -> Iterator[Any]:
    server = load_example().make_server(SECRET, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_documentation_shows_the_tested_receiver() -> None:
    assert EXAMPLE.read_text() in DOC.read_text(), \
        "copy examples/webhook_receiver.py into docs/service-continuous.md again"


def test_example_receiver_accepts_real_deliveries(service: Service, running: Any) -> None:
    url = f"http://127.0.0.1:{running.server_port}/hook"
    signed = subscribe(service, SubscriptionKind.VULN_UPDATE, "*", url, secret=SECRET)
    subscribe(service, SubscriptionKind.VULN_UPDATE, "*", url, secret="another-key")
    subscribe(service, SubscriptionKind.VULN_UPDATE, "*", url, secret=None)
    ids = enqueue(service, SubscriptionKind.VULN_UPDATE, "sha256:" + "c" * 64,
                  {"added": ["CVE-2099-0001"], "removed": []}, names=NAMES)
    outcomes = {a.subscription_id: a for a in deliver_pending(service)}
    assert outcomes[signed].status is DeliveryStatus.DELIVERED
    assert outcomes[signed].response_status == 204
    others = [a for s, a in outcomes.items() if s != signed]
    assert [a.response_status for a in others] == [401, 401]
    assert all(delivery(service, a.delivery_id).last_error == "HTTP 401" for a in others)
    [event] = running.events
    assert event["subscription_id"] == signed and event["added"] == ["CVE-2099-0001"]
    assert len(ids) == 3


def test_example_receiver_refuses_replays_and_tampering(running: Any) -> None:
    url = f"http://127.0.0.1:{running.server_port}/hook"
    body = b'{"event":"vuln_update"}'

    def post(content: bytes, header: str) -> int:
        return httpx.post(url, content=content, headers={
            "X-Hullscan-Signature": header, "X-Hullscan-Delivery": "7",
            "Content-Type": "application/json"}).status_code

    fresh = signature_header(SECRET, body, int(time.time()))
    assert post(body, fresh) == 204
    assert post(body, fresh) == 204 and len(running.events) == 1  # a retry: acked, not redone
    assert post(body + b" ", fresh) == 401
    assert post(body, signature_header(SECRET, body, int(time.time()) - 3600)) == 401
    assert post(body, signature_header("wrong", body, int(time.time()))) == 401
    assert post(body, "v1=" + fresh.split("v1=")[1]) == 401
