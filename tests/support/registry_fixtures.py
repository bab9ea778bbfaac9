"""pytest plugin: session-scoped real registries (``registry_plain`` … ``registry_token``).

Each fixture starts its ``docker-registry`` process on first use and stops it at the end of
the session (per xdist worker). A missing ``docker-registry`` binary is a test failure, not
a skip: CI installs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pki import RegistryPki, make_test_pki
from tests.support.registry_servers import (
    RegistryKind,
    RegistryServer,
    missing_tools,
    start_registry,
)


def _start(
    kind: RegistryKind, factory: pytest.TempPathFactory, pki: RegistryPki | None
) -> Iterator[RegistryServer]:
    problems = missing_tools(kind)
    if problems:
        pytest.fail(
            f"cannot start the {kind!r} test registry: " + "; ".join(problems), pytrace=False
        )
    running = start_registry(kind, factory.mktemp(f"registry-{kind}"), pki=pki)
    try:
        yield running.server
    finally:
        running.stop()


@pytest.fixture(scope="session")
def registry_pki(tmp_path_factory: pytest.TempPathFactory) -> RegistryPki:
    """CA, server certificate (127.0.0.1/localhost) and token issuer for the test registries."""
    return make_test_pki(tmp_path_factory.mktemp("registry-pki"))


@pytest.fixture(scope="session")
def registry_plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """HTTP registry without authentication."""
    yield from _start("plain", tmp_path_factory, None)


@pytest.fixture(scope="session")
def registry_basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """HTTP registry with htpasswd (bcrypt) basic authentication."""
    yield from _start("basic", tmp_path_factory, None)


@pytest.fixture(scope="session")
def registry_tls(
    tmp_path_factory: pytest.TempPathFactory, registry_pki: RegistryPki
) -> Iterator[RegistryServer]:
    """HTTPS registry (certificate from the test CA, see ``server.ca_cert``), no auth."""
    yield from _start("tls", tmp_path_factory, registry_pki)


@pytest.fixture(scope="session")
def registry_token(
    tmp_path_factory: pytest.TempPathFactory, registry_pki: RegistryPki
) -> Iterator[RegistryServer]:
    """HTTP registry with Docker token auth; ``server.token_server`` records token requests."""
    yield from _start("token", tmp_path_factory, registry_pki)
