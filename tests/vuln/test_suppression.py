"""Ignore rules (reasons, expiry) and OpenVEX statements."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from hullscan.errors import CorruptContentError
from hullscan.vuln.finding import AffectedPackage, Finding, FixState
from hullscan.vuln.severity import Severity
from hullscan.vuln.suppression import apply_suppressions, load_ignore_rules, load_vex

TODAY = datetime.date(2026, 11, 27)


def _finding(
    vuln: str,
    purl: str,
    *,
    aliases: tuple[str, ...] = (),
    state: FixState = FixState.FIXED,
    location: str = "var/lib/dpkg/status",
) -> Finding:
    name = purl.split("/")[-1].split("@")[0]
    version = purl.split("@")[1].split("?")[0]
    package = AffectedPackage(
        name, version, purl.split(":")[1].split("/")[0], purl, (location,), None
    )
    return Finding(
        vuln,
        aliases,
        package,
        Severity.HIGH,
        "test",
        7.5,
        None,
        None,
        None,
        False,
        None,
        ("9",),
        state,
        "test",
        "ns",
        name,
    )


OPENSSL = _finding("CVE-2023-0001", "pkg:deb/debian/openssl@3.0.11-1?arch=amd64&distro=debian-12")
REQUESTS = _finding(
    "CVE-2023-32681",
    "pkg:pypi/requests@2.25.0",
    aliases=("PYSEC-2023-74",),
    location="opt/venv/lib/python3.11/site-packages/requests-2.25.0.dist-info/METADATA",
)
ZLIB = _finding(
    "CVE-2022-9999", "pkg:deb/debian/zlib1g@1.2.13?arch=amd64", state=FixState.NOT_FIXED
)


def test_ignore_rules_by_id_package_path_and_fix_state(tmp_path: Path) -> None:
    config = tmp_path / ".hullscan.yaml"
    config.write_text("""
ignore:
  - vulnerability: PYSEC-2023-*
    package: {path: "/opt/venv/**"}
    reason: the venv is only used at build time
  - fix-state: not-fixed
    package: {type: deb}
    reason: nothing to do until Debian fixes it
  - vulnerability: CVE-2023-0001
    reason: expired exception
    expires: 2026-01-01
""")
    rules = load_ignore_rules(config)
    result = apply_suppressions([OPENSSL, REQUESTS, ZLIB], rules, [], TODAY)
    assert result.kept == (OPENSSL,)
    assert [(s.finding.id, s.reason) for s in result.suppressed] == [
        ("CVE-2023-32681", "the venv is only used at build time"),
        ("CVE-2022-9999", "nothing to do until Debian fixes it"),
    ]
    assert [r.origin for r in result.expired] == [f"{config}#3"]
    assert apply_suppressions([OPENSSL], rules, [], datetime.date(2025, 12, 31)).kept == ()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ignore:\n  - vulnerability: CVE-1\n", "needs a reason"),
        ("ignore:\n  - reason: x\n    expires: soon\n", "not a date"),
        ("ignore:\n  - reason: x\n    colour: red\n", "unknown keys"),
        ("ignore:\n  - reason: x\n    fix-state: maybe\n", "fix-state must be"),
        ("ignore: [unclosed\n", "YAML"),
    ],
)
def test_bad_configuration_names_the_rule(tmp_path: Path, text: str, reason: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    with pytest.raises(CorruptContentError, match=reason) as error:
        load_ignore_rules(config)
    assert str(config) in str(error.value)


def _vex(tmp_path: Path, statements: list[dict[str, object]]) -> Path:
    path = tmp_path / "doc.vex.json"
    path.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.invalid/vex/1",
                "author": "sec team",
                "timestamp": "2026-11-01T00:00:00Z",
                "version": 1,
                "statements": statements,
            }
        )
    )
    return path


def test_vex_not_affected_and_fixed_suppress_affected_keeps(tmp_path: Path) -> None:
    path = _vex(
        tmp_path,
        [
            {
                "vulnerability": {"name": "CVE-2023-0001"},
                "products": [{"@id": "pkg:deb/debian/openssl"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            },
            {
                "vulnerability": {"name": "PYSEC-2023-74"},
                "products": [
                    {
                        "@id": "pkg:oci/app?repository_url=registry.invalid/app",
                        "subcomponents": [{"@id": "pkg:pypi/requests@2.25.0"}],
                    }
                ],
                "status": "fixed",
            },
            {
                "vulnerability": {"name": "CVE-2022-9999"},
                "products": [{"@id": "pkg:deb/debian/zlib1g@1.2.13"}],
                "status": "affected",
            },
        ],
    )
    result = apply_suppressions([OPENSSL, REQUESTS, ZLIB], [], load_vex(path), TODAY)
    assert result.kept == (ZLIB,)
    assert {s.finding.id: s.reason for s in result.suppressed} == {
        "CVE-2023-0001": "VEX not_affected: vulnerable_code_not_in_execute_path",
        "CVE-2023-32681": "VEX fixed",
    }


def test_the_latest_vex_statement_wins_and_versions_must_match(tmp_path: Path) -> None:
    path = _vex(
        tmp_path,
        [
            {
                "vulnerability": {"name": "CVE-2023-0001"},
                "timestamp": "2026-11-20T00:00:00Z",
                "products": [{"@id": "pkg:deb/debian/openssl"}],
                "status": "affected",
            },
            {
                "vulnerability": {"name": "CVE-2023-0001"},
                "timestamp": "2026-11-10T00:00:00Z",
                "products": [{"@id": "pkg:deb/debian/openssl"}],
                "status": "not_affected",
            },
            {
                "vulnerability": {"name": "CVE-2023-32681"},
                "products": [{"@id": "pkg:pypi/requests@2.31.0"}],
                "status": "not_affected",
            },
        ],
    )
    result = apply_suppressions([OPENSSL, REQUESTS], [], load_vex(path), TODAY)
    assert result.kept == (OPENSSL, REQUESTS)


def test_a_document_that_is_not_openvex_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"statements": []}')
    with pytest.raises(CorruptContentError, match="not an OpenVEX document"):
        load_vex(path)
