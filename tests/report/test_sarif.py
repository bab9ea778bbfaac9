"""SARIF 2.1.0: schema-valid, rules for every result, Dockerfile locations, policy facts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from hullscan.report.sarif import render
from tests.report.outcome_helpers import sample_outcome, write_dockerfile
from tests.support.unavailable import unavailable

SCHEMA = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs" / "sarif" \
    / "sarif-schema-2.1.0.json"


def _validator() -> jsonschema.protocols.Validator:
    if not SCHEMA.exists():
        unavailable(f"the SARIF 2.1.0 schema is not at {SCHEMA}")
    schema = json.loads(SCHEMA.read_text())
    # The schema declares draft-04: validate with that draft's rules and format checker.
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.fixture(params=["dockerfile", "image-paths", "no-policy"])
def document(request: pytest.FixtureRequest, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.chdir(tmp_path)
    dockerfile = write_dockerfile(tmp_path) if request.param == "dockerfile" else None
    outcome = sample_outcome(dockerfile, policy=request.param != "no-policy")
    parsed: dict[str, object] = json.loads(render(outcome))
    return parsed


def test_validates_against_the_sarif_schema(document: dict[str, object]) -> None:
    errors = sorted(_validator().iter_errors(document), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_every_result_has_a_rule_with_a_numeric_security_severity(
        document: dict[str, object]) -> None:
    run = document["runs"][0]  # type: ignore[index]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    for rule in rules:
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
        assert "security" in rule["properties"]["tags"]
        assert rule["help"]["text"]
    for result in run["results"]:
        assert result["ruleId"] in ids
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        assert result["partialFingerprints"]["hullscan/v1"]


def _results(document: dict[str, object]) -> dict[str, dict[str, object]]:
    return {r["ruleId"]: r for r in document["runs"][0]["results"]}  # type: ignore[index]


def test_dockerfile_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    document = json.loads(render(sample_outcome(write_dockerfile(tmp_path))))
    results = _results(document)

    def where(rule_id: str) -> tuple[str, int]:
        physical = results[rule_id]["locations"][0]["physicalLocation"]  # type: ignore[index]
        return physical["artifactLocation"]["uri"], physical["region"]["startLine"]

    assert where("CVE-2021-44228") == ("Dockerfile", 5)  # RUN ... npm install
    assert where("CVE-2023-38545") == ("Dockerfile", 3)  # RUN apt-get (continued line)
    assert where("GHSA-xxxx-yyyy-zzzz") == ("Dockerfile", 6)
    assert where("HS-CFG-013") == ("Dockerfile", 3)  # the check's own line
    assert where("hullscan-policy/default/root") == ("Dockerfile", 1)  # no layer
    log4j = results["CVE-2021-44228"]
    rule = document["runs"][0]["tool"]["driver"]["rules"][log4j["ruleIndex"]]
    assert rule["properties"]["security-severity"] == "10.0"
    assert "Upgrade log4j-core to 2.17.1" in rule["help"]["text"]
    assert "log4j-core 2.14.1" in log4j["message"]["text"]
    assert "layer #2" in log4j["message"]["text"]


def test_paths_inside_the_image_without_a_dockerfile() -> None:
    results = _results(json.loads(render(sample_outcome())))
    secret = results["HS-SEC-AWS-ACCESS-KEY"]["locations"][0]  # type: ignore[index]
    assert secret["physicalLocation"]["artifactLocation"]["uri"] == \
        "app/%3Cscript%3Ealert%281%29%3C/script%3E/.env"
    assert secret["physicalLocation"]["region"]["startLine"] == 3


def test_policy_properties_and_suppressions() -> None:
    document = json.loads(render(sample_outcome()))
    run = document["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["properties"]["policy"]["final_action"] == "STOP"
    results = _results(document)
    assert results["CVE-2021-44228"]["properties"]["policy"]["action"] == "STOP"
    curl = results["CVE-2023-38545"]
    assert curl["properties"]["policy"] == {
        "action": "GO", "allowlisted": True, "rules": [{
            "policy_id": "default", "rule_id": "kev", "gate": "vulnerabilities",
            "trigger": "package", "action": "STOP", "effective_action": "GO",
            "trigger_id": "CVE-2023-38545+curl", "allowlisted": {
                "allowlist_id": "accepted", "item_id": "item-1",
                "reason": "SOCKS5 proxy never used"}}]}
    assert curl["suppressions"][0]["status"] == "accepted"
    assert "suppressions" not in results["CVE-2021-44228"]
    no_policy = json.loads(render(sample_outcome(policy=False)))
    assert all("policy" not in r.get("properties", {}) for r in no_policy["runs"][0]["results"])
