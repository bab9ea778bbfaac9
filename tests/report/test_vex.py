"""CycloneDX 1.6 with vulnerabilities, validated by cyclonedx-python-lib's strict validator."""

from __future__ import annotations

import json

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from hullscan.report.vex import render
from tests.report.outcome_helpers import EVIL_NAME, LOG4J_VECTOR, sample_outcome


def test_validates_and_links_every_vulnerability_to_its_component() -> None:
    for outcome in (sample_outcome(), sample_outcome(policy=False)):
        text = render(outcome)
        errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
        assert errors is None, list(errors)
        document = json.loads(text)
        refs = {c["bom-ref"]: c for c in document["components"]}
        vulnerabilities = document["vulnerabilities"]
        assert [v["id"] for v in vulnerabilities] == [f.id for f in outcome.findings]
        for vulnerability, finding in zip(vulnerabilities, outcome.findings, strict=True):
            (target,) = vulnerability["affects"]
            assert refs[target["ref"]]["name"] == finding.package.name
            assert vulnerability["analysis"]["state"] == "exploitable"
        assert refs[vulnerabilities[2]["affects"][0]["ref"]]["name"] == EVIL_NAME


def test_ratings_sources_and_analysis() -> None:
    document = json.loads(render(sample_outcome()))
    log4j, curl, evil = document["vulnerabilities"]
    rating = log4j["ratings"][0]
    assert (rating["method"], rating["score"], rating["severity"]) == ("CVSSv31", 10.0,
                                                                       "critical")
    assert rating["vector"] in (LOG4J_VECTOR, LOG4J_VECTOR.removeprefix("CVSS:3.1/"))
    assert log4j["source"]["url"] == "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"
    assert log4j["references"][0]["id"] == "GHSA-jfh8-c2jp-5v3q"
    assert log4j["analysis"]["response"] == ["update"]
    assert log4j["recommendation"] == "Upgrade log4j-core to 2.17.1"
    # Allowlisted is an accepted risk, not "not affected".
    assert curl["analysis"] == {
        "state": "exploitable", "response": ["will_not_fix"],
        "detail": "accepted risk: SOCKS5 proxy never used (allowlist accepted item item-1, "
                  "expires 2027-03-31)"}
    assert "expired on 2026-01-01, no longer suppresses" in evil["analysis"]["detail"]
    kev = {p["name"]: p["value"] for p in curl["properties"]}
    assert kev["hullscan:kev"] == "true"
