"""Debian packages are matched through their source package and source version.

The shared data has no bookworm tracker dump, only the tracker-JSON sample (loaded from
samples/debian-format-samples.zip); its ``sope`` and ``chromium`` entries are used here:
  sope, CVE-2025-53603, bookworm: resolved, fixed_version 5.8.0-1+deb12u1
  chromium, CVE-2022-0456, buster: open with no DSA -> wont-fix; bookworm fixed 98.0.4758.80-1
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hullscan.catalog.package import Catalog, Package, Scope
from hullscan.image.distro import Distro
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import SourceKind
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.finding import Finding, FixState
from hullscan.vuln.matcher import match_catalog
from tests.vuln.conftest import BuiltDatabase

BOOKWORM = Distro("debian", "12.4", None, "bookworm")
BUSTER = Distro("debian", "10", None, "buster")
_IMAGE = ImageMetadata("test", SourceKind.DIRECTORY, None, None, None, None, None, None,
                       None, ())


@pytest.fixture(scope="module")
def database(built_database: BuiltDatabase) -> Iterator[VulnerabilityDatabase]:
    with VulnerabilityDatabase.open(built_database.path) as opened:
        yield opened


def _deb(name: str, version: str, source: str, source_version: str | None = None) -> Package:
    return Package(name=name, version=version, type="deb",
                   purl=f"pkg:deb/debian/{name}@{version}", namespace="debian",
                   source_name=source, source_version=source_version or version)


def _findings(database: VulnerabilityDatabase, package: Package,
              distro: Distro) -> list[Finding]:
    result = match_catalog(Catalog(_IMAGE, distro, Scope.SQUASHED, (package,)), database)
    assert result.warnings == ()
    return list(result.findings)


def test_a_binary_package_is_matched_through_its_source(database: VulnerabilityDatabase
                                                         ) -> None:
    [finding] = _findings(database, _deb("libsope1", "5.8.0-1", "sope"), BOOKWORM)
    assert (finding.id, finding.matched_name, finding.namespace) == (
        "CVE-2025-53603", "sope", "debian:12")
    assert finding.fix_versions == ("5.8.0-1+deb12u1",)
    assert finding.fix_state is FixState.FIXED


def test_the_fixed_source_version_is_not_affected(database: VulnerabilityDatabase) -> None:
    assert _findings(database, _deb("libsope1", "5.8.0-1+deb12u1", "sope"), BOOKWORM) == []


def test_the_source_version_is_compared_not_the_binary_one(database: VulnerabilityDatabase
                                                           ) -> None:
    # Binaries may carry their own version (here an epoch the source lacks): compared as a
    # binary version, 2:5.8.0-1 would sort above the fix; the tracker keys source versions.
    own_version = _deb("libsope1", "2:5.8.0-1", "sope", source_version="5.8.0-1")
    assert [f.id for f in _findings(database, own_version, BOOKWORM)] == ["CVE-2025-53603"]


def test_the_release_decides(database: VulnerabilityDatabase) -> None:
    chromium = _deb("chromium", "90.0.4430.212-1~deb10u1", "chromium")
    [finding] = _findings(database, chromium, BUSTER)
    assert finding.fix_state is FixState.WONT_FIX and finding.fix_versions == ()
    fixed = _deb("chromium", "98.0.4758.80-1", "chromium")
    assert _findings(database, fixed, BOOKWORM) == []
