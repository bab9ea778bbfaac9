"""Fixtures of the service tests: a store on SQLite or on the PostgreSQL server on
127.0.0.1:5432 (a fresh database per module), a Service over the session vulnerability
database, and images pushed to a real registry."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hullscan.image.acquire import open_image
from hullscan.image.push import PushTarget, push_image
from hullscan.image.registry.client import RegistryClient, RegistryOptions
from hullscan.service.egress import EgressPolicy
from hullscan.service.operations import Service
from hullscan.service.sealing import SecretBox
from hullscan.service.store.database import Store
from tests.support.registry_servers import RegistryServer
from tests.support.unavailable import unavailable
from tests.support.vulnerable_image import VulnerableImage

# The session database of the vulnerability tests (built once from ../shared/vulndata).
from tests.vuln.conftest import BuiltDatabase, built_database, vulndata  # noqa: F401

LOCAL_NETWORKS = ("127.0.0.0/8", "::1/128")
"""Where the test registries and webhook receivers listen: allowed past the egress guard."""
LOCAL_EGRESS = EgressPolicy.from_settings(LOCAL_NETWORKS)
"""The egress guard of the test services."""
POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
_repositories = itertools.count()


def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped afterwards. Yields its SQLAlchemy URL."""
    try:
        import psycopg

        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)
    except Exception as error:  # any failure means: no server here
        unavailable(f"PostgreSQL on 127.0.0.1:5432 unavailable: {error}")
    name = f"hullscan_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each service test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
    else:
        yield from postgres_database()


@pytest.fixture
def service(store_url: str, built_database: BuiltDatabase,  # noqa: F811
            tmp_path: Path) -> Iterator[Service]:
    store = Store(store_url)
    yield Service(store, built_database.path, SecretBox(SecretBox.generate_key()),
                  tmp_path / "data", egress=LOCAL_EGRESS)
    store.close()


@dataclass(frozen=True)
class StagedImages:
    """Images pushed to the plain test registry: ``host/repo:1`` references."""

    server: RegistryServer
    vulnerable: str
    clean: str


def push(server: RegistryServer, layout: Path, ref: str, repository: str, tag: str) -> str:
    """Push one image of an OCI layout; returns ``host/repository:tag``."""
    with open_image(f"oci-dir:{layout}:{ref}") as source, \
            RegistryClient(server.host, options=RegistryOptions(ca_cert=server.ca_cert)) \
            as client:
        push_image(source, PushTarget(client, repository, tag))
    return f"{server.host}/{repository}:{tag}"


@pytest.fixture(scope="module")
def staged(registry_plain: RegistryServer, vulnerable_image: VulnerableImage) -> StagedImages:
    n = next(_repositories)
    return StagedImages(
        registry_plain,
        push(registry_plain, vulnerable_image.layout, vulnerable_image.ref,
             f"svc{n}/vulnerable", "1"),
        push(registry_plain, vulnerable_image.layout, vulnerable_image.clean_ref,
             f"svc{n}/clean", "1"))
