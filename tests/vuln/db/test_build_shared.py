"""The database built from the real shared vulnerability data."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from hullscan.vuln.db.schema import SCHEMA_VERSION
from hullscan.vuln.db.store import VulnerabilityDatabase
from tests.vuln.conftest import BuiltDatabase

# Record counts from shared/vulndata/README.md. NSWG: the README counts 468 zip members, but
# one of them is index.json, an aggregate of the other 467 advisories (each loaded once).
EXPECTED_SOURCES = {
    "osv:PyPI": 2661,
    "osv:Go": 4291,
    "osv:crates.io": 1206,
    "osv:AlmaLinux": 5680,
    "osv:Ubuntu": 8,
    "osv:Debian": 1,
    "nswg": 467,
    "friendsofphp": 1592,
    "rubysec": 1381,
    "alpine-secdb": 12028,
    "kev": 1404,
    "epss": 360142,
    "nvd": 38 + 13,
    "cve5": 3190,
    "debian-tracker": 7,
}


@pytest.fixture(scope="module")
def database(built_database: BuiltDatabase) -> Iterator[VulnerabilityDatabase]:
    with VulnerabilityDatabase.open(built_database.path) as handle:
        yield handle


@pytest.fixture(scope="module")
def sql(built_database: BuiltDatabase) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(built_database.path)
    yield connection
    connection.close()


def test_build_reads_everything_and_is_fast(built_database: BuiltDatabase) -> None:
    report = built_database.report
    print(f"\nbuild of the shared vulndata: {report.seconds:.1f} s")
    assert report.failures == []
    assert report.seconds < 60
    assert report.unknown_ecosystems == {}
    # Everything skipped is something no loader is meant to read.
    for skipped in report.skipped:
        assert any(
            part in skipped
            for part in ("README", "SHA256SUMS", "schema", "ecosystems", "debian/", "rhsa-", "DSA")
        ), skipped


def test_per_source_record_counts(built_database: BuiltDatabase) -> None:
    assert built_database.report.sources == EXPECTED_SOURCES


def test_status_reports_sources(database: VulnerabilityDatabase) -> None:
    status = database.status()
    assert status.schema_version == SCHEMA_VERSION
    assert status.built_at
    counts = {source.name: source.records for source in status.sources}
    assert counts == EXPECTED_SOURCES
    dates = {source.name: source.data_date for source in status.sources}
    assert dates["kev"] is not None and dates["kev"].startswith("2025-08-25")
    assert dates["epss"] == "2026-08-16"
    assert dates["osv:Go"] is None  # the repo's zero timestamps are not dates


def test_row_counts(sql: sqlite3.Connection) -> None:
    def scalar(query: str) -> int:
        return int(sql.execute(query).fetchone()[0])

    assert scalar("SELECT count(*) FROM affected WHERE source = 'osv:AlmaLinux'") == 71329
    assert scalar("SELECT count(*) FROM affected WHERE source = 'osv:Go'") == 6125
    assert scalar("SELECT count(*) FROM affected WHERE source = 'alpine-secdb'") == 12028
    assert (
        scalar(
            "SELECT count(DISTINCT namespace || ' ' || package) FROM affected"
            " WHERE source = 'alpine-secdb'"
        )
        <= 1652
    )
    withdrawn = "SELECT count(*) FROM vulnerability WHERE source = '{}' AND withdrawn IS NOT NULL"
    assert scalar(withdrawn.format("osv:PyPI")) == 10
    assert scalar(withdrawn.format("osv:Go")) == 17
    assert scalar(withdrawn.format("osv:crates.io")) == 13
    assert scalar("SELECT count(*) FROM vulnerability WHERE published LIKE '0001-%'") == 0
    assert scalar("SELECT count(*) FROM cpe_match") > 0
    namespaces = {row[0] for row in sql.execute("SELECT DISTINCT namespace FROM affected")}
    assert {"pypi", "go", "crates.io", "npm", "packagist", "rubygems", "ruby"} <= namespaces
    assert {"almalinux:8", "almalinux:9", "almalinux:10", "alpine:3.11", "alpine:3.3"} <= namespaces
    assert {"ubuntu:16.04", "ubuntu-pro:18.04", "debian:7", "debian:9"} <= namespaces


def test_affected_lookup_normalises_names(database: VulnerabilityDatabase) -> None:
    rows = database.affected("pypi", "Django")
    assert rows
    assert {row.package for row in rows} == {"django"}
    assert all(row.scheme == "pep440" for row in rows)
    assert any(row.fix_state == "fixed" and row.fixed_versions for row in rows)
    assert database.affected("pypi", "no-such-package-anywhere") == []
    assert database.affected("packagist", "Symfony/Symfony")
    assert database.affected("go", "golang.org/x/net")


def test_withdrawn_records_are_flagged(
    database: VulnerabilityDatabase, sql: sqlite3.Connection
) -> None:
    vuln_id, package = sql.execute(
        "SELECT a.vuln_id, a.package FROM affected a JOIN vulnerability v ON v.id = a.vuln_id"
        " WHERE v.withdrawn IS NOT NULL AND a.namespace = 'pypi' LIMIT 1"
    ).fetchone()
    rows = [row for row in database.affected("pypi", package) if row.vuln_id == vuln_id]
    assert rows and all(row.withdrawn for row in rows)


def test_alias_join_between_cve_and_pysec(
    database: VulnerabilityDatabase, sql: sqlite3.Connection
) -> None:
    pysec, cve = sql.execute(
        "SELECT a.vuln_id, a.alias FROM alias a JOIN vulnerability v ON v.id = a.alias"
        " WHERE a.vuln_id LIKE 'PYSEC-%' AND a.alias LIKE 'CVE-%' AND v.source = 'cve5' LIMIT 1"
    ).fetchone()
    records = database.vulnerabilities([pysec, cve, "NO-SUCH-ID"])
    assert set(records) == {pysec, cve}
    assert cve in records[pysec].aliases
    assert pysec in records[cve].aliases
    assert pysec in database.aliases_of([cve])[cve]


def test_vulnerability_details(database: VulnerabilityDatabase) -> None:
    record = database.vulnerabilities(["CVE-2016-1897"])["CVE-2016-1897"]
    assert record.details and record.published
    nvd = [severity for severity in record.severities if severity.source == "nvd"]
    assert nvd and all(severity.score is not None and severity.vector for severity in nvd)
    assert record.references


def test_severities_from_each_kind_of_source(sql: sqlite3.Connection) -> None:
    sources = {row[0] for row in sql.execute("SELECT DISTINCT source FROM severity")}
    assert {"nvd", "cve5:cna", "cve5:adp", "osv:crates.io", "nswg", "rubysec"} <= sources
    assert "osv:AlmaLinux" in sources  # ratings taken from "Important: ..." summaries


def test_enrichment(database: VulnerabilityDatabase, sql: sqlite3.Connection) -> None:
    cve, due = sql.execute("SELECT cve, due_date FROM kev WHERE source = 'kev' LIMIT 1").fetchone()
    found = database.enrichment([cve, "CVE-1999-0001", "CVE-0000-0000"])
    assert found[cve].kev and found[cve].kev_due_date == due
    assert not found["CVE-1999-0001"].kev
    assert found["CVE-1999-0001"].epss_score == pytest.approx(0.03351)
    assert found["CVE-1999-0001"].epss_percentile == pytest.approx(0.8765)
    assert "CVE-0000-0000" not in found


def test_debian_tracker_sample(database: VulnerabilityDatabase) -> None:
    rows = database.affected("debian:9", "prototypejs")
    assert rows and all(row.scheme == "dpkg" for row in rows)
    fixed = [row for row in rows if row.vuln_id == "CVE-2008-7220"]
    assert fixed[0].fix_state == "fixed" and fixed[0].fixed_versions == ("1.6.0.2-1",)


def test_non_osv_range_shapes(database: VulnerabilityDatabase) -> None:
    npm = database.affected("npm", "bassmaster")
    assert npm[0].ranges[0]["type"] == "NPM_RANGE" and npm[0].ranges[0]["range"] == "<=1.5.1"
    assert npm[0].fixed_versions == ("1.5.2",)
    php = database.affected("packagist", "3f/pygmentize")
    assert php[0].ranges == ({"type": "COMPOSER", "constraints": ["<1.2"]},)
    assert php[0].fixed_versions == ("1.2",) and php[0].scheme == "composer"
    ruby = database.affected("ruby", "jruby")
    assert ruby and ruby[0].ranges[0]["type"] == "GEM"
    alpine = database.affected("alpine:3.10", "botan")
    assert {row.vuln_id for row in alpine} >= {"CVE-2018-20187", "CVE-2018-12435"}
    assert alpine[0].ranges[0]["events"][0] == {"introduced": "0"}
