"""JUnit XML, read back with junitparser."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from junitparser import Failure, JUnitXml, Skipped

from hullscan.report.junit import render
from tests.report.outcome_helpers import SCRIPT, sample_outcome


def _read(tmp_path: Path, text: str) -> JUnitXml:
    path = tmp_path / "junit.xml"
    path.write_text(text)
    return JUnitXml.fromfile(str(path))


def _results(xml: JUnitXml) -> dict[str, tuple[str, str]]:
    out = {}
    for suite in xml:
        for case in suite:
            kinds = [type(r).__name__ for r in case.result]
            out[case.name] = (suite.name, kinds[0] if kinds else "passed")
    return out


def test_policy_fires_are_testcases_per_gate(tmp_path: Path) -> None:
    xml = _read(tmp_path, render(sample_outcome()))
    assert (xml.tests, xml.failures, xml.skipped, xml.errors) == (5, 2, 1, 0)
    results = _results(xml)
    assert results["crit-fix: CVE-2021-44228+log4j-core"] == ("vulnerabilities", "Failure")
    assert results["kev: CVE-2023-38545+curl"] == ("vulnerabilities", "Skipped")
    assert results[f"secrets: HS-SEC-AWS-ACCESS-KEY+app/{SCRIPT}/.env"] == (
        "secret_scans", "Failure")
    assert results["root: effective_user+root"] == ("config", "passed")
    suites = {suite.name: suite for suite in xml}
    assert suites["vulnerabilities"].failures == 1 and suites["vulnerabilities"].skipped == 1
    case = next(c for c in suites["vulnerabilities"] if c.name.startswith("kev:"))
    skipped = case.result[0]
    assert isinstance(skipped, Skipped)
    assert skipped.message == ("allowlisted by accepted/item-1: SOCKS5 proxy never used, "
                               "expires 2027-03-31")
    warn = next(c for c in suites["vulnerabilities"] if c.name.startswith("medium:"))
    assert warn.is_passed and warn.system_out.startswith("WARN: ")
    assert "expired on 2026-01-01, no longer suppresses" in warn.system_out
    failure = next(c for c in suites["vulnerabilities"] if c.name.startswith("crit-fix:")
                   ).result[0]
    assert isinstance(failure, Failure) and failure.type == "STOP"
    assert "recommendation: Upgrade the package" in (failure.text or "")


def test_without_policy_high_findings_fail(tmp_path: Path) -> None:
    xml = _read(tmp_path, render(sample_outcome(policy=False)))
    assert [suite.name for suite in xml] == ["vulnerabilities", "checks"]
    assert (xml.tests, xml.failures, xml.skipped) == (5, 3, 0)
    results = _results(xml)
    assert results["CVE-2023-38545: curl 7.88.1-10+deb12u5"] == ("vulnerabilities", "Failure")
    assert results["HS-CFG-013: Dockerfile:3"] == ("checks", "passed")


def test_control_characters_in_image_text_stay_valid_xml(tmp_path: Path) -> None:
    outcome = sample_outcome(policy=False)
    finding = outcome.findings[0]
    bad = dataclasses.replace(finding, summary="bell \x07 and nul \x00")
    xml = _read(tmp_path, render(dataclasses.replace(outcome, findings=(bad,))))
    assert xml.tests == 3
