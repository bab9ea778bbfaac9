"""Optional CPE matching against the NVD configurations in the shared NVD API pages.

Records used (nvd/nvd-cve-api-2.0-page-*.json, as loaded into cpe_match):
  CVE-2026-20912  cpe:2.3:a:gitea:gitea:*:...  versionEndExcluding 1.25.4
  CVE-2023-22466  cpe:2.3:a:tokio:tokio:*:...:rust:...  1.7.0 <= v < 1.18.4 (and two more)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hullscan.catalog.identity import cpe_candidates
from hullscan.catalog.model import FoundPackage
from hullscan.catalog.package import Catalog, Package, Scope
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import SourceKind
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.finding import Finding
from hullscan.vuln.matcher import match_catalog
from tests.vuln.conftest import BuiltDatabase

_IMAGE = ImageMetadata("test", SourceKind.DIRECTORY, None, None, None, None, None, None,
                       None, ())


@pytest.fixture(scope="module")
def database(built_database: BuiltDatabase) -> Iterator[VulnerabilityDatabase]:
    with VulnerabilityDatabase.open(built_database.path) as opened:
        yield opened


def _package(kind: str, name: str, version: str) -> Package:
    found = FoundPackage(name=name, version=version, ecosystem=kind, path="x")
    return Package(name=name, version=version, type=kind, purl=f"pkg:{kind}/{name}@{version}",
                   cpes=cpe_candidates(found))


def _findings(database: VulnerabilityDatabase, package: Package, cpe: bool) -> list[Finding]:
    catalog = Catalog(_IMAGE, None, Scope.SQUASHED, (package,))
    return list(match_catalog(catalog, database, cpe_matching=cpe).findings)


def test_cpe_matching_is_off_by_default_and_finds_what_feeds_do_not(
        database: VulnerabilityDatabase) -> None:
    # No PyPI advisory names a "gitea" package; only NVD's CPE configuration covers it.
    package = _package("pypi", "gitea", "1.25.0")
    assert _findings(database, package, cpe=False) == []
    [finding] = _findings(database, package, cpe=True)
    assert (finding.id, finding.fix_versions, finding.data_source) == (
        "CVE-2026-20912", ("1.25.4",), "nvd-cpe CVE-2026-20912")
    assert _findings(database, _package("pypi", "gitea", "1.25.4"), cpe=True) == []


def test_cpe_matches_merge_with_ecosystem_findings(database: VulnerabilityDatabase) -> None:
    package = _package("cargo", "tokio", "1.18.0")
    with_cpe = [f for f in _findings(database, package, cpe=True) if f.id == "CVE-2023-22466"]
    assert len(with_cpe) == 1
    assert with_cpe[0].data_source == "osv:crates.io RUSTSEC-2023-0001"
    assert "RUSTSEC-2023-0001" in with_cpe[0].aliases
    # Outside every NVD range (1.18.4 <= v < 1.19.0) nothing matches either way.
    assert not [f for f in _findings(database, _package("cargo", "tokio", "1.18.5"), cpe=True)
                if f.id == "CVE-2023-22466"]
