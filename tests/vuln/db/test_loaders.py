"""Loaders on small documents: recognition by content, range shapes, fix states."""

from __future__ import annotations

import gzip
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hullscan.vuln.db.build import build_database
from hullscan.vuln.db.loaders import find_loader
from hullscan.vuln.db.namespaces import (
    distro_namespace,
    normalise_package,
    osv_namespace,
    version_scheme,
)
from hullscan.vuln.db.store import VulnerabilityDatabase


def _build(tmp_path: Path, files: dict[str, bytes]) -> tuple[Path, Any]:
    folder = tmp_path / "in"
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    destination = tmp_path / "db" / "v.db"
    return destination, build_database([folder], destination)


@pytest.mark.parametrize(
    ("ecosystem", "namespace"),
    [
        ("PyPI", "pypi"),
        ("npm", "npm"),
        ("Go", "go"),
        ("crates.io", "crates.io"),
        ("Maven", "maven"),
        ("NuGet", "nuget"),
        ("RubyGems", "rubygems"),
        ("Packagist", "packagist"),
        ("Debian:12", "debian:12"),
        ("Ubuntu:22.04:LTS", "ubuntu:22.04"),
        ("Ubuntu:Pro:18.04:LTS", "ubuntu-pro:18.04"),
        ("Alpine:v3.11", "alpine:3.11"),
        ("AlmaLinux:9", "almalinux:9"),
        ("Rocky Linux:9", "rocky:9"),
        ("Red Hat:enterprise_linux:9::appstream", "redhat:9"),
        ("NoSuchEcosystem", None),
        ("", None),
    ],
)
def test_osv_namespace(ecosystem: str, namespace: str | None) -> None:
    assert osv_namespace(ecosystem) == namespace


def test_normalise_package() -> None:
    assert normalise_package("pypi", "Zope.Interface__x") == "zope-interface-x"
    assert normalise_package("packagist", "Symfony/Symfony") == "symfony/symfony"
    assert normalise_package("nuget", "Newtonsoft.Json") == "newtonsoft.json"
    assert normalise_package("maven", "org.apache : log4j") == "org.apache:log4j"
    assert normalise_package("npm", "JSONStream") == "JSONStream"
    assert normalise_package("go", "github.com/Foo/Bar") == "github.com/Foo/Bar"
    assert normalise_package("debian:12", "libc6") == "libc6"
    assert distro_namespace("alpine", "v3.11") == "alpine:3.11"
    assert version_scheme("debian:12") == "dpkg" and version_scheme("almalinux:9") == "rpm"


def _loader_name(head: bytes) -> str | None:
    loader = find_loader("any-name.txt", head)
    return None if loader is None else loader.name


def test_recognition_is_by_content_not_name() -> None:
    osv = b'{"id": "GO-2020-0001", "modified": "0001-01-01T00:00:00Z", "affected": []}'
    assert _loader_name(osv) == "osv"
    epss = b"#model_version:v2025.03.14,score_date:2026-01-01\ncve,epss,percentile\n"
    assert _loader_name(epss) == "epss"
    assert _loader_name(b"cve,epss,percentile\nCVE-1,0.1,0.2\n") == "epss"
    assert _loader_name(b'{"$id": "https://x", "properties": {"modified": {}}}') is None
    assert _loader_name(b"---\ngem: rack\ncve: 2020-1\n") == "rubysec"
    assert _loader_name(b"title: t\nbranches: {}\nreference: composer://a/b\n") == "friendsofphp"
    assert _loader_name(b'{"cveMetadata": {"cveId": "CVE-1"}}') == "cve5"
    assert _loader_name(b'{"resultsPerPage": 1, "vulnerabilities": []}') == "nvd"
    assert _loader_name(b'{"catalogVersion": "1", "vulnerabilities": []}') == "kev"
    assert _loader_name(b'{"p": {"CVE-2000-1": {"releases": {}}}}') == "debian-tracker"
    assert _loader_name(b'{"1": {"id": 1, "module_name": "m", "vulnerable_versions": "*"}}') == (
        "nswg"
    )


def _osv(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode()


def test_osv_quirks(tmp_path: Path) -> None:
    go = {
        "schema_version": "1.3.1",
        "id": "GO-2099-0001",
        "modified": "0001-01-01T00:00:00Z",
        "published": "0001-01-01T00:00:00Z",
        "aliases": ["CVE-2099-1"],
        "affected": [
            {
                "package": {"name": "example.com/Mod", "ecosystem": "Go"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}],
            }
        ],
    }
    pypi = {
        "id": "PYSEC-2099-1",
        "modified": "2024-01-01T00:00:00Z",
        "withdrawn": "2024-02-01T00:00:00Z",
        "affected": [
            {
                "package": {"name": "Some_Pkg", "ecosystem": "PyPI"},
                "ranges": [
                    {
                        "type": "GIT",
                        "repo": "r",
                        "events": [{"introduced": "0"}, {"fixed": "ab.patch"}],
                    }
                ],
                "versions": ["1.0"],
            },
            {"package": {"name": "x", "ecosystem": "Unheard-Of"}, "versions": ["1"]},
        ],
    }
    destination, report = _build(
        tmp_path, {"a/go.data": _osv(go), "b/pysec": _osv(pypi), "c/notes.txt": b"hello"}
    )
    assert report.failures == [] and report.skipped[0].endswith("notes.txt")
    assert report.unknown_ecosystems == {"Unheard-Of": 1}
    with VulnerabilityDatabase.open(destination) as database:
        record = database.vulnerabilities(["GO-2099-0001"])["GO-2099-0001"]
        assert record.published is None and record.modified is None
        row = database.affected("go", "example.com/Mod")[0]
        assert row.fixed_versions == ("1.2.3",) and row.fix_state == "fixed"
        pysec = database.affected("pypi", "some-pkg")[0]
        assert pysec.withdrawn and pysec.fixed_versions == () and pysec.fix_state == "not-fixed"


def _tracker(release: dict[str, Any]) -> bytes:
    return json.dumps(
        {"openssl": {"CVE-2099-0001": {"description": "d", "releases": {"bookworm": release}}}}
    ).encode()


@pytest.mark.parametrize(
    ("release", "state", "fixed", "rating"),
    [
        (
            {"status": "resolved", "fixed_version": "3.0.1-1", "urgency": "medium"},
            "fixed",
            ["3.0.1-1"],
            "Medium",
        ),
        (
            {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"},
            "not-affected",
            [],
            "Negligible",
        ),
        ({"status": "open", "urgency": "high**"}, "not-fixed", [], "High"),
        (
            {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "ignored"},
            "wont-fix",
            [],
            "Low",
        ),
        (
            {"status": "open", "urgency": "low", "nodsa": "x", "nodsa_reason": "postponed"},
            "not-fixed",
            [],
            "Low",
        ),
        ({"status": "open", "urgency": "end-of-life"}, "wont-fix", [], None),
        ({"status": "undetermined", "urgency": "not yet assigned"}, "unknown", [], None),
    ],
)
def test_debian_tracker_fix_states(
    tmp_path: Path, release: dict[str, Any], state: str, fixed: list[str], rating: str | None
) -> None:
    destination, report = _build(tmp_path, {"json": _tracker(release)})
    assert report.sources == {"debian-tracker": 1}
    with VulnerabilityDatabase.open(destination) as database:
        (row,) = database.affected("debian:12", "openssl")
        assert row.fix_state == state and list(row.fixed_versions) == fixed
        severities = database.vulnerabilities(["CVE-2099-0001"])["CVE-2099-0001"].severities
        assert [severity.rating for severity in severities] == ([rating] if rating else [])


def test_alpine_zero_means_not_affected(tmp_path: Path) -> None:
    secdb = {
        "distroversion": "v3.20",
        "reponame": "main",
        "packages": [
            {
                "pkg": {
                    "name": "musl",
                    "secfixes": {"1.2.5-r1": ["CVE-2099-1"], "0": ["CVE-2099-2"]},
                }
            },
            {"pkg": {"name": "empty", "secfixes": None}},
        ],
    }
    destination, report = _build(tmp_path, {"main.json": json.dumps(secdb).encode()})
    assert report.sources == {"alpine-secdb": 2}
    with VulnerabilityDatabase.open(destination) as database:
        rows = {row.vuln_id: row for row in database.affected("alpine:3.20", "musl")}
        assert rows["CVE-2099-1"].fix_state == "fixed" and rows["CVE-2099-1"].scheme == "apk"
        assert rows["CVE-2099-2"].fix_state == "not-affected" and rows["CVE-2099-2"].ranges == ()


def test_epss_with_model_line_gzipped_and_kev(tmp_path: Path) -> None:
    epss = (
        b"#model_version:v2025.03.14,score_date:2026-01-02T12:55:00Z\n"
        b"cve,epss,percentile\nCVE-2099-1,0.5,0.9\n"
    )
    kev = {
        "catalogVersion": "1",
        "dateReleased": "2026-01-01T00:00:00Z",
        "vulnerabilities": [
            {"cveID": "CVE-2099-1", "dateAdded": "2026-01-01", "dueDate": "2026-01-22"}
        ],
    }
    archive = tmp_path / "feeds.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("nested/kev", json.dumps(kev))
    destination = tmp_path / "v.db"
    (tmp_path / "scores").write_bytes(gzip.compress(epss))
    report = build_database([tmp_path / "scores", archive], destination)
    assert report.sources == {"epss": 1, "kev": 1}
    assert report.data_dates["epss"] == "2026-01-02"
    with VulnerabilityDatabase.open(destination) as database:
        found = database.enrichment(["CVE-2099-1"])["CVE-2099-1"]
        assert found.kev and found.kev_due_date == "2026-01-22" and found.epss_score == 0.5


def test_yaml_feeds(tmp_path: Path) -> None:
    php = (
        b"title: Bug\nlink: https://example.com/a\ncve: CVE-2099-7777\nbranches:\n"
        b"    2.x:\n        time: 2020-01-01 00:00:00\n        versions: ['>=2.0.0', '<2.0.5']\n"
        b"    master:\n        time: ~\n        versions: ['>=3.0']\n"
        b"reference: composer://Vendor/Pkg\n"
    )
    gem = (
        b"---\ngem: rack\ncve: 2099-8\nghsa: aaaa-bbbb-cccc\ntitle: t\ndate: 2020-01-02\n"
        b'cvss_v3: 7.5\npatched_versions:\n  - "~> 2.1.4, >= 2.1.4.1"\n  - ">= 2.2.3"\n'
        b'unaffected_versions:\n  - "< 1.0"\n'
    )
    destination, report = _build(
        tmp_path, {"vendor/pkg/CVE-2099-7777.yaml": php, "gems/rack/x.yml": gem}
    )
    assert report.failures == [] and report.sources == {"friendsofphp": 1, "rubysec": 1}
    with VulnerabilityDatabase.open(destination) as database:
        (row,) = database.affected("packagist", "vendor/pkg")
        assert row.ranges == ({"type": "COMPOSER", "constraints": [">=2.0.0,<2.0.5", ">=3.0"]},)
        assert row.fixed_versions == ("2.0.5",) and row.fix_state == "not-fixed"
        assert database.vulnerabilities([row.vuln_id])[row.vuln_id].aliases == ("CVE-2099-7777",)
        (gem_row,) = database.affected("rubygems", "rack")
        assert gem_row.ranges[0]["patched"] == ["~> 2.1.4, >= 2.1.4.1", ">= 2.2.3"]
        assert gem_row.ranges[0]["unaffected"] == ["< 1.0"]
        assert gem_row.fixed_versions == ("2.1.4.1", "2.2.3") and gem_row.fix_state == "fixed"
        record = database.vulnerabilities([gem_row.vuln_id])[gem_row.vuln_id]
        assert set(record.aliases) == {"CVE-2099-8", "GHSA-aaaa-bbbb-cccc"}


def test_bad_document_is_reported_and_rolled_back(tmp_path: Path) -> None:
    broken = (
        b'{"id": "PYSEC-1", "modified": "2020", "affected":'
        b' [{"package": {"name": "a", "ecosystem": "PyPI"}, "ranges": 5'
    )
    destination, report = _build(tmp_path, {"broken.json": broken})
    assert len(report.failures) == 1 and "osv" in report.failures[0]
    assert report.sources == {}
    assert sqlite3.connect(destination).execute("SELECT count(*) FROM affected").fetchone() == (0,)
