"""The vulnerabilities gate: package conditions, feed freshness, data coverage, denylist."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from hullscan.policy.context import DatabaseFacts
from hullscan.policy.evaluate import evaluate
from hullscan.policy.gates.vulnerabilities import GATE
from hullscan.policy.load import parse_bundle
from hullscan.policy.model import Action
from hullscan.vuln.finding import FixState
from hullscan.vuln.severity import Severity
from tests.policy.gates.context_helpers import (
    NOW,
    context,
    finding,
    fires,
    layer,
    package,
    problems,
)

OPENSSL = package("openssl", "3.0.11-1~deb12u1", index=0)
REQUESTS = package("requests", "2.25.0", "pypi", index=2,
                   locations=("usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA",))
V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
V4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def _ids(params: dict[str, Any], *findings: Any, **kwargs: Any) -> list[str]:
    ctx = context(packages=(OPENSSL, REQUESTS), vulnerabilities=findings, **kwargs)
    return [f.trigger_id for f in fires(GATE, "package", ctx, params)]


def test_package_fire_names_the_finding() -> None:
    critical = finding("CVE-2023-1234", OPENSSL, Severity.CRITICAL, cvss_score=9.8,
                       cvss_vector=V3, kev=True, fix_versions=("3.0.13-1~deb12u1",),
                       fix_state=FixState.FIXED, aliases=("DSA-5000-1",),
                       published="2023-03-01T00:00:00Z")
    [fire] = fires(GATE, "package", context(packages=(OPENSSL,), vulnerabilities=(critical,)),
                   {"severity": "high"})
    assert fire.trigger_id == "CVE-2023-1234+openssl"
    assert fire.message == ("critical CVE-2023-1234 in openssl 3.0.11-1~deb12u1 (deb), "
                            "fixed in 3.0.13-1~deb12u1; CVSS 9.8; in KEV")
    assert fire.layer == layer(0)
    assert fire.severity is Severity.CRITICAL
    assert fire.package == "openssl 3.0.11-1~deb12u1 (deb)"
    assert fire.path == "var/lib/dpkg/status"
    assert fire.finding_id == "CVE-2023-1234"
    assert fire.details["aliases"] == ["DSA-5000-1"]
    assert fire.details["fix_versions"] == ["3.0.13-1~deb12u1"]


def test_severity_comparison() -> None:
    high = finding("CVE-1", OPENSSL, Severity.HIGH)
    medium = finding("CVE-2", OPENSSL, Severity.MEDIUM)
    assert _ids({"severity": "high"}, high, medium) == ["CVE-1+openssl"]
    assert _ids({"severity": "high", "severity_comparison": "<"}, high, medium) == \
        ["CVE-2+openssl"]
    assert _ids({"severity": "critical"}, high, medium) == []


def test_no_conditions_fire_for_every_finding_and_none_without_matching() -> None:
    assert _ids({}, finding("CVE-1", OPENSSL), finding("CVE-2", REQUESTS)) == \
        ["CVE-1+openssl", "CVE-2+requests"]
    ctx = context(packages=(OPENSSL,), vulnerabilities=None)
    assert fires(GATE, "package", ctx, {}) == []


@pytest.mark.parametrize(("package_type", "expected"), [
    ("all", ["CVE-1+openssl", "CVE-2+requests"]), ("os", ["CVE-1+openssl"]),
    ("non-os", ["CVE-2+requests"])])
def test_package_type(package_type: str, expected: list[str]) -> None:
    assert _ids({"package_type": package_type},
                finding("CVE-1", OPENSSL), finding("CVE-2", REQUESTS)) == expected


def test_cvss_v3_score_needs_a_v3_vector() -> None:
    v3 = finding("CVE-1", OPENSSL, cvss_score=9.8, cvss_vector=V3)
    v4 = finding("CVE-2", OPENSSL, cvss_score=9.3, cvss_vector=V4)
    low = finding("CVE-3", OPENSSL, cvss_score=5.0, cvss_vector=V3)
    assert _ids({"cvss_v3_base_score": 9}, v3, v4, low) == ["CVE-1+openssl"]
    assert _ids({"cvss_v3_base_score": 9, "cvss_v3_base_score_comparison": "<"},
                v3, v4, low) == ["CVE-3+openssl"]


def test_fix_available() -> None:
    fixed = finding("CVE-1", OPENSSL, fix_versions=("3.0.13",), fix_state=FixState.FIXED)
    open_ = finding("CVE-2", OPENSSL)
    assert _ids({"fix_available": True}, fixed, open_) == ["CVE-1+openssl"]
    assert _ids({"fix_available": "false"}, fixed, open_) == ["CVE-2+openssl"]


def test_vendor_only_skips_wont_fix_by_default() -> None:
    wont = finding("CVE-1", OPENSSL, fix_state=FixState.WONT_FIX)
    assert _ids({}, wont) == []
    assert _ids({"vendor_only": False}, wont) == ["CVE-1+openssl"]


def test_max_days_since_creation_means_older_than() -> None:
    old = finding("CVE-1", OPENSSL, published="2026-10-01T00:00:00Z")
    new = finding("CVE-2", OPENSSL, published="2026-11-20")
    unknown = finding("CVE-3", OPENSSL)
    assert _ids({"max_days_since_creation": 30}, old, new, unknown) == ["CVE-1+openssl"]


def test_max_days_since_fix_is_unmet_without_fix_dates() -> None:
    fixed = finding("CVE-1", OPENSSL, fix_versions=("3.0.13",), fix_state=FixState.FIXED,
                    published="2020-01-01")
    assert _ids({"max_days_since_fix": 0}, fixed) == []


def test_epss_and_kev() -> None:
    likely = finding("CVE-1", OPENSSL, epss_score=0.9, epss_percentile=0.99, kev=True)
    unlikely = finding("CVE-2", OPENSSL, epss_score=0.01, epss_percentile=0.2)
    unscored = finding("CVE-3", OPENSSL)
    assert _ids({"epss_score": 0.5}, likely, unlikely, unscored) == ["CVE-1+openssl"]
    assert _ids({"epss_percentile": 0.5, "epss_percentile_comparison": "<"},
                likely, unlikely, unscored) == ["CVE-2+openssl"]
    assert _ids({"in_kev": True}, likely, unlikely) == ["CVE-1+openssl"]
    assert _ids({"in_kev": False}, likely, unlikely) == ["CVE-2+openssl"]


def test_package_path_exclude() -> None:
    found = (finding("CVE-1", OPENSSL), finding("CVE-2", REQUESTS))
    assert _ids({"package_path_exclude": r"dist-packages/"}, *found) == ["CVE-1+openssl"]


def test_inherited_from_base() -> None:
    found = (finding("CVE-1", OPENSSL), finding("CVE-2", REQUESTS))
    assert _ids({"inherited_from_base": True}, *found, base_layer_count=1) == ["CVE-1+openssl"]
    assert _ids({"inherited_from_base": False}, *found, base_layer_count=1) == \
        ["CVE-2+requests"]
    assert _ids({"inherited_from_base": True}, *found) == []  # base unknown


def test_all_conditions_must_hold() -> None:
    both = finding("CVE-1", OPENSSL, Severity.CRITICAL, kev=True)
    one = finding("CVE-2", OPENSSL, Severity.CRITICAL)
    assert _ids({"severity": "critical", "in_kev": True}, both, one) == ["CVE-1+openssl"]


@pytest.mark.parametrize(("built", "fired"), [
    (NOW - datetime.timedelta(days=10), True), (NOW - datetime.timedelta(days=2), False),
    (None, True)])
def test_stale_feed_data(built: datetime.datetime | None, fired: bool) -> None:
    ctx = context(database=DatabaseFacts(built, frozenset({"debian:12"})))
    result = fires(GATE, "stale_feed_data", ctx, {"max_days_since_sync": 7})
    assert [f.trigger_id for f in result] == (["stale_feed_data"] if fired else [])


def test_stale_feed_data_leaves_missing_database_to_unavailable() -> None:
    ctx = context(database=None, vulnerabilities=None)
    assert fires(GATE, "stale_feed_data", ctx, {"max_days_since_sync": 7}) == []
    assert [f.trigger_id for f in fires(GATE, "vulnerability_data_unavailable", ctx)] == \
        ["vulnerability_data_unavailable"]


def test_vulnerability_data_unavailable_for_uncovered_release() -> None:
    covered = context(packages=(OPENSSL,))
    assert fires(GATE, "vulnerability_data_unavailable", covered) == []
    uncovered = context(packages=(OPENSSL,), database=DatabaseFacts(NOW, frozenset({"pypi"})))
    [fire] = fires(GATE, "vulnerability_data_unavailable", uncovered)
    assert "debian:12" in fire.message
    language_only = context(packages=(REQUESTS,),
                            database=DatabaseFacts(NOW, frozenset({"pypi"})))
    assert fires(GATE, "vulnerability_data_unavailable", language_only) == []
    no_distro = context(packages=(OPENSSL,), distro=None)
    assert len(fires(GATE, "vulnerability_data_unavailable", no_distro)) == 1


def test_denylist_matches_ids_and_aliases_with_globs() -> None:
    log4shell = finding("CVE-2021-44228", REQUESTS, aliases=("GHSA-jfh8-c2jp-5v3q",))
    other = finding("CVE-2023-1", OPENSSL)
    wont = finding("CVE-2021-44999", OPENSSL, fix_state=FixState.WONT_FIX)
    ctx = context(packages=(OPENSSL, REQUESTS), vulnerabilities=(log4shell, other, wont))
    assert [f.trigger_id for f in fires(GATE, "denylist", ctx, {
        "vulnerability_ids": "ghsa-jfh8-*"})] == ["CVE-2021-44228+requests"]
    assert [f.trigger_id for f in fires(GATE, "denylist", ctx, {
        "vulnerability_ids": ["CVE-2021-44*"], "vendor_only": False})] == \
        ["CVE-2021-44228+requests", "CVE-2021-44999+openssl"]
    assert fires(GATE, "denylist", ctx, {"vulnerability_ids": ["CVE-2020-*"]}) == []


def test_parameter_validation() -> None:
    assert "expected one of" in problems(GATE, "package", {"severity": "severe"})["severity"]
    assert "expected one of" in problems(GATE, "package", {
        "severity": "high", "severity_comparison": "=>"})["severity_comparison"]
    assert "at most" in problems(GATE, "package", {"cvss_v3_base_score": 11})[
        "cvss_v3_base_score"]
    assert "at most" in problems(GATE, "package", {"epss_score": 2})["epss_score"]
    assert "invalid regular" in problems(GATE, "package", {"package_path_exclude": "("})[
        "package_path_exclude"]
    assert "unknown parameter" in problems(GATE, "package", {"severty": "high"})["severty"]
    assert "missing" in problems(GATE, "stale_feed_data", {})["max_days_since_sync"]
    assert "missing" in problems(GATE, "denylist", {})["vulnerability_ids"]


def test_every_trigger_and_param_is_described() -> None:
    for trigger in GATE.triggers:
        assert trigger.description
        assert all(p.description for p in trigger.params)


BUNDLE = b"""
version: "1"
id: test-bundle
policies:
  - id: vulns
    rules:
      - id: block-high
        gate: vulnerabilities
        trigger: package
        action: STOP
        params: {severity_comparison: ">=", severity: high}
      - id: warn-medium
        gate: vulnerabilities
        trigger: package
        action: warn
        params:
          - {name: severity, value: medium}
          - {name: severity_comparison, value: "="}
allowlists:
  - id: accepted
    items:
      - {id: openssl, gate: vulnerabilities, trigger_id: "CVE-*+openssl",
         reason: mitigated by configuration}
      - {id: curl, gate: vulnerabilities, trigger_id: "CVE-2023-0003+curl",
         reason: waiting for the vendor, expires_on: 2026-01-01}
"""


def test_bundle_worst_action_wins_and_allowlists_apply() -> None:
    bundle = parse_bundle(BUNDLE, "test.yaml")
    curl, zlib = package("curl", "7.88.1-10"), package("zlib1g", "1:1.2.13")
    found = [finding("CVE-2023-0001", OPENSSL, Severity.CRITICAL),
             finding("CVE-2023-0002", zlib, Severity.MEDIUM),
             finding("CVE-2023-0003", curl, Severity.HIGH)]
    packages = (OPENSSL, curl, zlib)

    result = evaluate(bundle, context(packages=packages, vulnerabilities=found))
    assert result.final_action is Action.STOP
    by_id = {t.fire.trigger_id: t for t in result.triggered}
    assert by_id["CVE-2023-0001+openssl"].allowlisted is not None
    assert by_id["CVE-2023-0003+curl"].allowlisted is None
    assert by_id["CVE-2023-0003+curl"].expired_allowlist is not None
    assert by_id["CVE-2023-0002+zlib1g"].action is Action.WARN

    without_curl = evaluate(bundle, context(packages=packages,
                                            vulnerabilities=found[:2]))
    assert without_curl.final_action is Action.WARN
    assert [t.fire.trigger_id for t in without_curl.active()] == ["CVE-2023-0002+zlib1g"]
