"""``hullscan scan`` end to end: a real image with old packages against the database built from
the shared vulnerability data; what it reports, the exit codes, suppression, staleness."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.run_cli import CliRun, run_hullscan
from tests.support.vulnerable_image import SITE_PACKAGES, Expected, VulnerableImage

# The session database of the vulnerability tests (built once from /work/shared/vulndata).
from tests.vuln.conftest import BuiltDatabase, built_database, vulndata  # noqa: F401

SEVERITIES = ("Critical", "High", "Medium", "Low", "Negligible", "Unknown")
_WIDE = {"COLUMNS": "250"}  # rich wraps table cells at the default 80 columns


def _normalise(package_type: str, name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower() if package_type == "pypi" else name


def _ids(finding: dict[str, Any]) -> set[str]:
    return {finding["id"], *finding["aliases"]}


def _of_package(findings: Iterable[dict[str, Any]], expected: Expected) -> list[dict[str, Any]]:
    return [f for f in findings
            if f["package"]["type"] == expected.type
            and _normalise(expected.type, f["package"]["name"]) == expected.name
            and f["package"]["version"] == expected.version]


def _diff_ids(layout: Path, ref: str) -> list[str]:
    """The image's layer diff_ids, read straight from the OCI layout (not through hullscan)."""
    def blob(digest: str) -> dict[str, Any]:
        algorithm, _, hex_digest = digest.partition(":")
        document: dict[str, Any] = json.loads(
            (layout / "blobs" / algorithm / hex_digest).read_text())
        return document

    index = json.loads((layout / "index.json").read_text())
    manifest = next(m for m in index["manifests"]
                    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)
    config = blob(blob(manifest["digest"])["config"]["digest"])
    return list(config["rootfs"]["diff_ids"])


def _scan(*args: str, cwd: Path, env: dict[str, str] | None = None) -> CliRun:
    return run_hullscan("scan", *args, cwd=cwd, tmpdir=None, env=env)


def _json(run: CliRun) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run.stdout)
    assert document["schema"] == "hullscan-scan/1"
    return document


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty working directory (no ``.hullscan.yaml``)."""
    return tmp_path_factory.mktemp("scan-cwd")


@pytest.fixture(scope="module")
def db(built_database: BuiltDatabase) -> str:  # noqa: F811
    return str(built_database.path)


@pytest.fixture(scope="module")
def report(vulnerable_image: VulnerableImage, db: str, workdir: Path) -> dict[str, Any]:
    """``scan vulnerable:1 --format json`` (no gate: exit 0)."""
    run = _scan(vulnerable_image.target, "--db", db, "--format", "json", cwd=workdir)
    assert run.code == 0, run.stderr
    return _json(run)


# --------------------------------------------------------------------------- what is reported


def test_every_planted_package_reports_its_advisories_with_fixes(
        vulnerable_image: VulnerableImage, report: dict[str, Any]) -> None:
    findings = report["findings"]
    assert report["image"]["distro"]["id"] == "alpine"
    assert report["image"]["distro"]["version_id"] == "3.11.6"
    for expected in vulnerable_image.expected:
        found = _of_package(findings, expected)
        where = f"{expected.type}/{expected.name}@{expected.version}"
        # one finding per advisory (aliases merged), and nothing else for this package
        assert len(found) == len(expected.advisories), (where, [f["id"] for f in found])
        for advisory, cves in expected.advisories.items():
            names = {advisory, *cves}
            hits = [f for f in found if _ids(f) & names]
            assert len(hits) == 1, (where, advisory, [f["id"] for f in found])
            finding = hits[0]
            # the CVE is the primary id whenever the advisory carries one
            assert finding["id"] == (cves[0] if cves else advisory), (where, finding["id"])
            assert names <= _ids(finding), (where, finding["id"], finding["aliases"])
            fix = expected.fixes[advisory]
            if fix is None:
                assert finding["fix"] == {"state": "not-fixed", "versions": []}, where
            else:
                assert finding["fix"]["state"] == "fixed", where
                assert fix in finding["fix"]["versions"], (where, advisory, finding["fix"])
    # every finding belongs to a planted package: the transitive npm packages are clean
    assert len(findings) == sum(len(e.advisories) for e in vulnerable_image.expected)
    assert sum(report["summary"].values()) == len(findings)
    assert report["suppressed"] == []
    assert report["warnings"] == []


def test_advisories_outside_the_installed_versions_are_not_reported(
        vulnerable_image: VulnerableImage, report: dict[str, Any]) -> None:
    reported = {(_normalise(f["package"]["type"], f["package"]["name"]), i)
                for f in report["findings"] for i in _ids(f)}
    for (name, advisory), why in vulnerable_image.not_expected.items():
        assert (name, advisory) not in reported, f"{name} {advisory} reported ({why})"


def test_each_finding_names_the_layer_that_added_its_package(
        vulnerable_image: VulnerableImage, report: dict[str, Any]) -> None:
    diff_ids = _diff_ids(vulnerable_image.layout, vulnerable_image.ref)
    assert len(diff_ids) == 3
    created_by = {0: "alpine-minirootfs", 1: "pip install", 2: "npm install"}
    location = {0: "lib/apk/db/installed", 1: SITE_PACKAGES.lstrip("/") + "/",
                2: "app/node_modules/"}
    for expected in vulnerable_image.expected:
        for finding in _of_package(report["findings"], expected):
            layer = finding["package"]["layer"]
            assert layer is not None
            assert layer["index"] == expected.layer, (expected.name, finding["id"])
            assert layer["diff_id"] == diff_ids[expected.layer]
            assert created_by[expected.layer] in layer["created_by"]
            assert any(p.startswith(location[expected.layer])
                       for p in finding["package"]["locations"]), finding["package"]


def test_alpine_subpackages_are_matched_through_their_origin(report: dict[str, Any]) -> None:
    by_package: dict[str, set[str]] = {}
    for finding in report["findings"]:
        if finding["package"]["type"] == "apk":
            assert finding["namespace"] == "alpine:3.11"
            by_package.setdefault(finding["package"]["name"], set()).add(finding["matched_name"])
    # the secdb only knows the origins; libcrypto1.1/libssl1.1/ssl_client have no entry
    assert by_package == {"musl": {"musl"}, "busybox": {"busybox"}, "ssl_client": {"busybox"},
                          "libcrypto1.1": {"openssl"}, "libssl1.1": {"openssl"}}


def test_docker_archive_reports_the_same_findings_and_layers(
        vulnerable_image: VulnerableImage, report: dict[str, Any], db: str,
        workdir: Path) -> None:
    run = _scan(f"docker-archive:{vulnerable_image.docker_archive}", "--db", db,
                "--format", "json", cwd=workdir)
    assert run.code == 0, run.stderr

    def key(document: dict[str, Any]) -> set[tuple[str, str, int, str | None]]:
        return {(f["id"], f["package"]["purl"], f["package"]["layer"]["index"],
                 f["package"]["layer"]["diff_id"]) for f in document["findings"]}

    assert key(_json(run)) == key(report)


# --------------------------------------------------------------------------- exit codes, filters


def test_fail_on_high_fails_the_vulnerable_image_and_passes_the_clean_one(
        vulnerable_image: VulnerableImage, report: dict[str, Any], db: str,
        workdir: Path) -> None:
    assert report["summary"]["High"] >= 1
    assert report["summary"]["Critical"] == 0
    failed = _scan(vulnerable_image.target, "--db", db, "--fail-on", "high", "--format", "json",
                   "--scanners", "vuln", cwd=workdir)
    assert failed.code == 1, failed.stderr
    assert _json(failed)["findings"] == report["findings"]  # the report is still written
    # nothing is rated critical, so that gate passes
    assert _scan(vulnerable_image.target, "--db", db, "--fail-on", "critical",
                 "--format", "json", "--scanners", "vuln", cwd=workdir).code == 0
    clean = _scan(vulnerable_image.clean_target, "--db", db, "--fail-on", "high",
                  "--format", "json", "--scanners", "vuln", cwd=workdir)
    assert clean.code == 0, clean.stderr
    document = _json(clean)
    assert document["packages"] == 6
    assert document["findings"] == []
    assert set(document["summary"].values()) == {0}


def test_only_fixed_hides_findings_without_a_fix(vulnerable_image: VulnerableImage,
                                                 report: dict[str, Any], db: str,
                                                 workdir: Path) -> None:
    unfixed = [f for f in report["findings"] if f["fix"]["state"] != "fixed"]
    assert [(f["package"]["name"], f["id"]) for f in unfixed] == [("cryo", "CVE-2018-3784")]
    run = _scan(vulnerable_image.target, "--db", db, "--only-fixed", "--format", "json",
                cwd=workdir)
    assert run.code == 0, run.stderr
    shown = _json(run)["findings"]
    assert all(f["fix"]["state"] == "fixed" and f["fix"]["versions"] for f in shown)
    assert [f for f in report["findings"] if f not in unfixed] == shown


def test_table_groups_findings_by_severity(vulnerable_image: VulnerableImage,
                                           report: dict[str, Any], db: str,
                                           workdir: Path) -> None:
    run = _scan(vulnerable_image.target, "--db", db, cwd=workdir, env=_WIDE)
    assert run.code == 0, run.stderr
    text = run.stdout
    summary = report["summary"]
    counts = ", ".join(f"{summary[s]} {s}" for s in SEVERITIES if summary[s])
    assert f"{report['packages']} packages, {len(report['findings'])} vulnerabilities " \
           f"({counts})" in text
    positions = []
    for severity in SEVERITIES:
        title = f"{severity} ({summary[severity]})"
        if summary[severity]:
            assert title in text
            positions.append(text.index(title))
        else:
            assert f"{severity} (" not in text
    assert positions == sorted(positions)  # worst first
    for finding in report["findings"]:
        assert finding["id"] in text
    assert "#1 RUN /bin/sh -c pip install" in text


def test_bad_fail_on_value_is_one_line_and_exit_2(vulnerable_image: VulnerableImage, db: str,
                                                  workdir: Path) -> None:
    run = _scan(vulnerable_image.clean_target, "--db", db, "--fail-on", "bogus", cwd=workdir)
    assert run.code == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("hullscan: error: --fail-on bogus: ")
    assert "critical" in lines[0] and "Traceback" not in run.stderr


# --------------------------------------------------------------------------- suppression


def _suppressed(document: dict[str, Any], vulnerability: str, package: str) -> dict[str, Any]:
    hits = [s for s in document["suppressed"]
            if vulnerability in _ids(s) and s["package"]["name"] == package]
    assert len(hits) == 1, document["suppressed"]
    hit: dict[str, Any] = hits[0]
    return hit


def test_ignore_rule_in_hullscan_yaml_moves_a_finding_to_suppressed(
        vulnerable_image: VulnerableImage, report: dict[str, Any], db: str,
        tmp_path: Path) -> None:
    (tmp_path / ".hullscan.yaml").write_text(
        "ignore:\n"
        "  - vulnerability: CVE-2019-14697\n"
        "    package: {name: musl}\n"
        "    reason: musl's dynamic loader is not used by this image\n")
    run = _scan(vulnerable_image.target, "--db", db, "--format", "json", cwd=tmp_path)
    assert run.code == 0, run.stderr
    document = _json(run)
    entry = _suppressed(document, "CVE-2019-14697", "musl")
    assert entry["suppressed"]["reason"] == "musl's dynamic loader is not used by this image"
    assert entry["suppressed"]["by"].endswith(".hullscan.yaml#1")
    assert entry["package"]["layer"]["index"] == 0
    assert len(document["suppressed"]) == 1
    assert len(document["findings"]) == len(report["findings"]) - 1
    assert not any("CVE-2019-14697" in _ids(f) for f in document["findings"])


def test_ignore_rule_from_config_option_with_globs(vulnerable_image: VulnerableImage,
                                                   report: dict[str, Any], db: str,
                                                   workdir: Path, tmp_path: Path) -> None:
    config = tmp_path / "policy.yaml"
    config.write_text(
        "ignore:\n"
        "  - vulnerability: NSWG-ECO-*\n"
        "    package: {path: /app/node_modules/**}\n"
        "    reason: front-end bundle, never run on the server\n")
    run = _scan(vulnerable_image.target, "--db", db, "--config", str(config),
                "--format", "json", cwd=workdir)
    assert run.code == 0, run.stderr
    document = _json(run)
    npm = [f for f in report["findings"] if f["package"]["type"] == "npm"]
    assert len(npm) == 5
    assert sorted(s["id"] for s in document["suppressed"]) == sorted(f["id"] for f in npm)
    assert {s["suppressed"]["reason"] for s in document["suppressed"]} == {
        "front-end bundle, never run on the server"}
    assert {s["suppressed"]["by"] for s in document["suppressed"]} == {f"{config}#1"}
    assert all(f["package"]["type"] != "npm" for f in document["findings"])


def test_openvex_not_affected_moves_a_finding_to_suppressed(
        vulnerable_image: VulnerableImage, report: dict[str, Any], db: str, workdir: Path,
        tmp_path: Path) -> None:
    vex = tmp_path / "requests.openvex.json"
    vex.write_text(json.dumps({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "urn:uuid:6f5b4c5e-hullscan-test",
        "author": "hullscan tests",
        "timestamp": "2026-11-27T00:00:00Z",
        "version": 1,
        "statements": [{
            # named by its PYSEC alias: the finding's primary id is CVE-2018-18074
            "vulnerability": {"name": "PYSEC-2018-28"},
            "products": [{"@id": "pkg:oci/vulnerable",
                          "subcomponents": [{"@id": "pkg:pypi/requests@2.19.1"}]}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
        }],
    }))
    run = _scan(vulnerable_image.target, "--db", db, "--vex", str(vex), "--format", "json",
                cwd=workdir)
    assert run.code == 0, run.stderr
    document = _json(run)
    entry = _suppressed(document, "PYSEC-2018-28", "requests")
    assert entry["id"] == "CVE-2018-18074"
    assert entry["suppressed"]["reason"] == \
        "VEX not_affected: vulnerable_code_not_in_execute_path"
    assert entry["suppressed"]["by"] == f"{vex}#statement 1"
    assert len(document["suppressed"]) == 1
    # the other advisory of the same package stays
    assert any(f["id"] == "CVE-2023-32681" for f in document["findings"])
    assert len(document["findings"]) == len(report["findings"]) - 1


# --------------------------------------------------------------------------- database age


def _aged_copy(built: BuiltDatabase, target: Path, days: int) -> Path:
    """A copy of the session database whose recorded build time is ``days`` ago."""
    copy = target / "aged.db"
    shutil.copyfile(built.path, copy)
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days, hours=1)
    with sqlite3.connect(copy) as connection:
        changed = connection.execute("UPDATE meta SET value = ? WHERE key = 'built_at'",
                                     (when.strftime("%Y-%m-%dT%H:%M:%SZ"),)).rowcount
    assert changed == 1
    return copy


def test_a_fresh_database_gives_no_staleness_warning(vulnerable_image: VulnerableImage,
                                                     db: str, workdir: Path) -> None:
    # built minutes ago: 0 days old, which is within even --max-db-age 0
    run = _scan(vulnerable_image.clean_target, "--db", db, "--max-db-age", "0",
                "--fail-on-stale-db", "--format", "json", cwd=workdir)
    assert run.code == 0, run.stderr
    assert _json(run)["warnings"] == []


def test_an_old_database_warns_and_fail_on_stale_db_exits_2(
        vulnerable_image: VulnerableImage, built_database: BuiltDatabase,  # noqa: F811
        workdir: Path, tmp_path: Path) -> None:
    aged = str(_aged_copy(built_database, tmp_path, 30))
    message = "vulnerability database is 30 days old (limit 5); run hullscan db update"
    warned = _scan(vulnerable_image.clean_target, "--db", aged, "--format", "json",
                   cwd=workdir)
    assert warned.code == 0, warned.stderr
    assert _json(warned)["warnings"] == [message]
    table = _scan(vulnerable_image.clean_target, "--db", aged, cwd=workdir, env=_WIDE)
    assert table.code == 0
    assert f"warning: {message}" in table.stdout
    allowed = _scan(vulnerable_image.clean_target, "--db", aged, "--max-db-age", "45",
                    "--fail-on-stale-db", "--format", "json", cwd=workdir)
    assert allowed.code == 0, allowed.stderr
    assert _json(allowed)["warnings"] == []
    failed = _scan(vulnerable_image.clean_target, "--db", aged, "--fail-on-stale-db",
                   cwd=workdir)
    assert failed.code == 2
    assert failed.stdout == ""
    assert failed.stderr.strip().splitlines() == [f"hullscan: error: {aged}: {message}"]
