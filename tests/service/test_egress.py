"""The service's egress guard: which addresses it refuses, how it is configured, and that
webhooks, registry watches and analyses go through it (the CLI does not)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence

import httpx
import pytest
from sqlalchemy import select

from hullscan.errors import HullscanError
from hullscan.image.reference import parse_registry_reference
from hullscan.image.registry.client import RegistryClient
from hullscan.service.egress import (
    EgressPolicy,
    EgressRefusedError,
    GuardedTransport,
    parse_networks,
)
from hullscan.service.operations import Service
from hullscan.service.queue import JobQueue
from hullscan.service.store.models import (
    Analysis,
    AnalysisStatus,
    DeliveryStatus,
    Subscription,
    SubscriptionKind,
)
from hullscan.service.watch import poll
from hullscan.service.webhooks import deliver_pending, enqueue
from tests.service.conftest import LOCAL_NETWORKS, StagedImages
from tests.service.test_webhooks import NAMES, WebhookReceiver, delivery, subscribe

STRICT = EgressPolicy()
REFUSED = ["127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
           "169.254.1.1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::",
           "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1",
           "::ffff:169.254.169.254", "2002:7f00:1::1"]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def fixed(table: dict[str, Sequence[str]]) -> EgressPolicy:
    """A strict policy whose names resolve by ``table`` only."""
    return EgressPolicy(resolver=lambda host, _port: list(table.get(host, ())))


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert STRICT.refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert STRICT.refusal(ipaddress.ip_address(address)) is None


def test_allowed_networks_but_metadata_only_when_listed_exactly() -> None:
    wide = EgressPolicy.from_settings(["169.254.0.0/16", "fc00::/7", "0.0.0.0/0"],
                                      allow_private=True)
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.9", "169.254.1.1", "::1", "fd00::5"):
        assert wide.refusal(ipaddress.ip_address(address)) is None, address
    for metadata in ("169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"):
        assert wide.refusal(ipaddress.ip_address(metadata)) == "cloud metadata"
    listed = EgressPolicy.from_settings(["169.254.169.254/32"])
    assert listed.refusal(ipaddress.ip_address("169.254.169.254")) is None
    assert listed.refusal(ipaddress.ip_address("169.254.1.1")) == "link-local"
    private = EgressPolicy.from_settings(allow_private=True)
    assert private.refusal(ipaddress.ip_address("169.254.1.1")) == "link-local"
    assert private.refusal(ipaddress.ip_address("172.31.0.1")) is None


def test_configuration_from_the_environment() -> None:
    policy = EgressPolicy.from_environment({"HULLSCAN_ALLOWED_NETWORKS": "10.2.0.0/16, 10.3.0.1"})
    assert [str(n) for n in policy.allowed] == ["10.2.0.0/16", "10.3.0.1/32"]
    flagged = EgressPolicy.from_environment({"HULLSCAN_ALLOW_PRIVATE_NETWORKS": "true"})
    assert flagged.refusal(ipaddress.ip_address("192.168.3.3")) is None
    assert EgressPolicy.from_environment({}).allowed == ()
    with pytest.raises(HullscanError, match="not a network"):
        parse_networks(["10.0.0.0/33"])


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "2130706433", "0177.0.0.1",
                                  "0x7f.1", "[::1]", "169.254.169.254", "0"])
def test_resolved_forms_of_loopback_and_metadata_are_refused(host: str) -> None:
    with pytest.raises(EgressRefusedError, match="resolves to a private address"):
        STRICT.resolve(host, 80)
    with pytest.raises(EgressRefusedError):
        STRICT.check_url(f"http://{host}/hook")


def test_a_name_with_one_private_address_is_refused() -> None:
    split = fixed({"mixed.test": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(EgressRefusedError, match=r"10\.0\.0\.7"):
        split.resolve("mixed.test", 443)
    split.check_host("unresolvable.test:5000")  # fails at connect time instead


def test_transport_connects_to_the_checked_address(receiver: WebhookReceiver) -> None:
    """The name is resolved once by the guard and the socket opened to that address: the
    system resolver never sees ``hooks.rebind.test`` (it could not resolve it anyway), so a
    second, different DNS answer has no way in."""
    port = int(receiver.url().rsplit(":", 1)[1].split("/")[0])
    table = {"hooks.rebind.test": ["127.0.0.1"]}
    allowed = EgressPolicy(parse_networks(LOCAL_NETWORKS),
                           resolver=lambda host, _port: list(table.get(host, ())))
    url = f"http://hooks.rebind.test:{port}/pinned"
    with httpx.Client(transport=GuardedTransport(allowed), trust_env=False) as client:
        assert client.post(url, content=b"{}").status_code == 200
    assert [r.path for r in receiver.received] == ["/pinned"]
    with httpx.Client(transport=GuardedTransport(fixed(table)), trust_env=False) as client, \
            pytest.raises(EgressRefusedError, match=r"hooks\.rebind\.test resolves to a private"):
        client.post(url, content=b"{}")
    with httpx.Client(transport=GuardedTransport(STRICT), trust_env=False) as client, \
            pytest.raises(EgressRefusedError):
        client.post(receiver.url("/direct"), content=b"{}")
    assert [r.path for r in receiver.received] == ["/pinned"]


def test_webhook_to_a_private_address_is_refused_and_logged(
        service: Service, receiver: WebhookReceiver) -> None:
    subscription = subscribe(service, SubscriptionKind.VULN_UPDATE, "*", receiver.url("/x"))
    [delivery_id] = enqueue(service, SubscriptionKind.VULN_UPDATE, "sha256:" + "b" * 64,
                            {"added": [], "removed": []}, names=NAMES)
    service.egress = STRICT
    [attempt] = deliver_pending(service)
    assert attempt.subscription_id == subscription
    assert attempt.status is DeliveryStatus.FAILED and attempt.response_status is None
    row = delivery(service, delivery_id)
    assert row.last_error is not None
    assert row.last_error.startswith("refused: 127.0.0.1 resolves to a private address")
    assert receiver.received == []


def test_watches_and_analyses_of_private_registries_are_refused(
        service: Service, staged: StagedImages) -> None:
    class Nothing:
        def submit(self, digest: str) -> None:
            raise AssertionError(f"nothing should be queued: {digest}")

        def close(self) -> None:
            pass

    queue: JobQueue = Nothing()
    # Stored while the registry was allowed, then the allowance is withdrawn.
    _, analysis, _ = service.add_image(staged.vulnerable)
    with service.store.session() as session:
        watch = Subscription(kind=SubscriptionKind.TAG_UPDATE, target=staged.vulnerable)
        session.add(watch)
        session.flush()
        watch_id = watch.id
    service.egress = STRICT
    with pytest.raises(EgressRefusedError):
        service.add_image(staged.clean)
    with pytest.raises(EgressRefusedError):
        service.run_analysis(analysis.digest, "egress-test")
    with service.store.session() as session:
        failed = session.scalar(select(Analysis).where(Analysis.digest == analysis.digest))
        assert failed is not None and failed.status is AnalysisStatus.FAILED
        assert failed.error is not None and "resolves to a private address" in failed.error
        row = session.get(Subscription, watch_id)
        assert row is not None
        session.expunge(row)
    result = poll(service, row, queue)
    assert result.error is not None and "resolves to a private address" in result.error


def test_the_cli_registry_client_is_not_guarded(staged: StagedImages) -> None:
    """``hullscan scan`` of a registry its own user names reaches loopback as before."""
    reference = parse_registry_reference(staged.vulnerable)
    with RegistryClient(staged.server.host) as client:
        assert client.get_manifest(reference.repository, "1").digest.startswith("sha256:")


def test_registry_pulls_are_guarded_at_connect_time_redirects_included() -> None:
    """The service's registry clients get the guarded transport: a registry on an allowed
    address that redirects (a blob to "storage") to a refused one is not followed."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from hullscan.image.registry.options import RegistryOptions

    class Redirecting(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.2:9/internal-storage")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    only_this_host = EgressPolicy(parse_networks(["127.0.0.1/32"]))
    options = RegistryOptions(transport=lambda verify: GuardedTransport(only_this_host,
                                                                        verify=verify))
    try:
        with RegistryClient(f"127.0.0.1:{server.server_port}", options=options) as client, \
                pytest.raises(EgressRefusedError, match=r"127\.0\.0\.2"):
            client.get_manifest("library/app", "1")
    finally:
        server.shutdown()
        server.server_close()


def test_the_service_hands_its_registry_clients_the_guarded_transport(
        service: Service) -> None:
    from hullscan.image.registry.client import RegistryClient as Client

    with service.store.session() as session:
        options = service.acquire_options("registry.example:5000", session)
    assert options.registry.transport is not None
    with Client("registry.example:5000", options=options.registry) as client:
        assert isinstance(client._http._transport, GuardedTransport)
