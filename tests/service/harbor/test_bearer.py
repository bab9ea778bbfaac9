"""A Bearer ``registry.authorization`` (what older Harbors send: a registry token already
scoped to the repository) is sent to the registry as it is, never exchanged: the registry
client gets it as ``RegistryCredentials.registry_token`` and fetches no token of its own."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.service.harbor.conftest import (
    VULNERABILITY_REPORT,
    PushedImage,
    poll_report,
    post_scan,
    push_authenticated,
    scan_request,
)
from tests.support.registry_servers import RegistryServer
from tests.support.token_server import ResourceAccess
from tests.support.vulnerable_image import VulnerableImage

pytestmark = pytest.mark.registry


@pytest.fixture(scope="module")
def token_vulnerable(registry_token: RegistryServer,
                     vulnerable_image: VulnerableImage) -> PushedImage:
    """``vulnerable:1`` in the token-auth registry (not under its anonymous prefix)."""
    digest = push_authenticated(registry_token, vulnerable_image.layout, vulnerable_image.ref,
                                "harbor-bearer/vulnerable", "1")
    return PushedImage(registry_token, "harbor-bearer/vulnerable", "1", digest)


def test_a_bearer_registry_token_is_sent_as_it_is(harbor: TestClient,
                                                 token_vulnerable: PushedImage) -> None:
    tokens = token_vulnerable.server.token_server
    assert tokens is not None and token_vulnerable.server.username is not None
    token, _ = tokens.issue_token(token_vulnerable.server.username, [
        ResourceAccess.parse(f"repository:{token_vulnerable.repository}:pull")])
    tokens.clear_requests()
    scan_id = post_scan(harbor, scan_request(token_vulnerable, f"Bearer {token}"))
    report = poll_report(harbor, scan_id, VULNERABILITY_REPORT)
    assert report.status_code == 200, report.text
    assert report.json()["vulnerabilities"]
    assert tokens.requests == ()  # pulled with Harbor's token, none fetched


def test_a_refused_bearer_token_fails_the_report(harbor: TestClient,
                                                token_vulnerable: PushedImage) -> None:
    tokens = token_vulnerable.server.token_server
    assert tokens is not None
    tokens.clear_requests()
    scan_id = post_scan(harbor, scan_request(token_vulnerable, "Bearer not-a-token"))
    report = poll_report(harbor, scan_id, VULNERABILITY_REPORT)
    assert report.status_code == 500
    message = report.json()["error"]["message"]
    assert f"registry {token_vulnerable.server.host} refused the given token" in message
    assert "not-a-token" not in message
    assert tokens.requests == ()  # the refused token was not exchanged for another
