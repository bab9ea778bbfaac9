"""``scan --policy`` and ``hullscan policy`` end to end: verdicts, exit codes, every report
format from one run (validated with real validators), precise bundle errors."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from hullscan.policy.schema import BUNDLE_SCHEMA
from tests.cli.run_cli import CliRun, run_hullscan
from tests.support.vulnerable_image import VulnerableImage

# The session database of the vulnerability tests (built once from ../shared/vulndata).
from tests.vuln.conftest import BuiltDatabase, built_database, vulndata  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = ROOT.parent / "shared" / "specs" / "sarif" / "sarif-schema-2.1.0.json"
GATES = {"always", "config", "distro", "dockerfile", "files", "licenses", "metadata",
         "packages", "passwd_file", "secret_scans", "vulnerabilities"}
STRICT = {
    "version": "1", "id": "strict",
    "policies": [{"id": "p", "rules": [
        {"gate": "vulnerabilities", "trigger": "package", "params": {"fix_available": True},
         "action": "STOP", "recommendation": "Upgrade"},
        {"gate": "config", "trigger": "effective_user",
         "params": {"users": "root", "type": "denylist"}, "action": "WARN"}]}],
}
REPORTS = ("json", "sarif", "junit", "cyclonedx", "markdown", "html")


def _hullscan(*args: str, cwd: Path) -> CliRun:
    return run_hullscan(*args, cwd=cwd)


@pytest.fixture(scope="module")
def db(built_database: BuiltDatabase) -> str:  # noqa: F811
    return str(built_database.path)


@pytest.fixture(scope="module")
def strict_run(vulnerable_image: VulnerableImage, db: str,
               tmp_path_factory: pytest.TempPathFactory) -> tuple[CliRun, Path]:
    work = tmp_path_factory.mktemp("policy-scan")
    (work / "policy.yaml").write_text(yaml.safe_dump(STRICT))
    outputs = [arg for name in REPORTS for arg in (f"--output-{name}", str(work / name))]
    run = _hullscan("scan", vulnerable_image.target, "--db", db, "--policy", "policy.yaml",
                    "--base-layers", "1", *outputs, cwd=work)
    return run, work


def test_stop_fails_with_exit_1_and_a_verdict_line(strict_run: tuple[CliRun, Path]) -> None:
    run, _ = strict_run
    assert run.code == 1, run.stderr
    assert "FAIL: STOP" in run.stdout
    assert "policy bundle strict" in run.stdout


def test_json_report_explains_each_fire(strict_run: tuple[CliRun, Path]) -> None:
    _, work = strict_run
    policy: dict[str, Any] = json.loads((work / "json").read_text())["policy"]
    assert policy["final_action"] == "STOP" and policy["base_layer_count"] == 1
    stops = [t for t in policy["triggered"] if t["action"] == "STOP"]
    assert stops and all(t["recommendation"] == "Upgrade" for t in stops)
    # Alpine's packages come from layer 0 (the base), the pip and npm ones from own layers.
    origin = {t["from_base_image"] for t in stops}
    assert origin == {True, False}
    assert all((t["layer"]["index"] == 0) == t["from_base_image"] for t in stops)
    assert any(t["gate"] == "config" and t["trigger_id"] == "root" for t in policy["triggered"])


def test_sarif_validates_against_the_schema(strict_run: tuple[CliRun, Path]) -> None:
    _, work = strict_run
    sarif = json.loads((work / "sarif").read_text())
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    run = sarif["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert run["results"] and all(r["ruleId"] in rules for r in run["results"])
    assert all(0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
               for rule in rules.values())


def test_junit_and_cyclonedx_and_html_are_well_formed(strict_run: tuple[CliRun, Path]) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from junitparser import JUnitXml

    _, work = strict_run
    suites = JUnitXml.fromfile(str(work / "junit"))
    failures = sum(suite.failures for suite in suites)
    assert failures >= 1
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str((work / "cyclonedx").read_text())
    assert errors is None, errors
    bom = json.loads((work / "cyclonedx").read_text())
    assert bom["vulnerabilities"]
    html = (work / "html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "STOP" in html
    markdown = (work / "markdown").read_text()
    assert "**FAIL**" in markdown and len(markdown.splitlines()) < 80
    ElementTree.fromstring((work / "junit").read_text())


def test_no_policy_restores_the_plain_scan(vulnerable_image: VulnerableImage, db: str,
                                           tmp_path: Path) -> None:
    run = _hullscan("scan", vulnerable_image.target, "--db", db, "--no-policy", "--format",
                    "json", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["policy"] is None


def test_bad_bundle_is_exit_2_and_writes_no_report(vulnerable_image: VulnerableImage, db: str,
                                                  tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text('version: "1"\nid: b\npolicies:\n  - id: p\n'
                                       '    rules:\n      - {gate: vulnerabilities, '
                                       'trigger: package, params: {severity: dire}, '
                                       'action: STOP}\n')
    run = _hullscan("scan", vulnerable_image.target, "--db", db, "--policy", "bad.yaml",
                    "--output-sarif", "out.sarif", cwd=tmp_path)
    assert run.code == 2
    assert run.stderr.strip() == (
        "hullscan: error: bad.yaml:6: policies[0].rules[0].params.severity: expected one of "
        "critical, high, medium, low, negligible, unknown, got 'dire'")
    assert not (tmp_path / "out.sarif").exists()


def test_one_file_for_two_reports_is_refused(tmp_path: Path) -> None:
    run = _hullscan("scan", "oci-dir:/nonexistent", "--output-json", "same",
                    "--output-html", "same", cwd=tmp_path)
    assert run.code == 2
    assert "--output-html same: also given for --output-json" in run.stderr


def test_policy_gates_catalogue(tmp_path: Path) -> None:
    table = _hullscan("policy", "gates", cwd=tmp_path)
    assert table.code == 0
    assert all(gate in table.stdout for gate in GATES)
    catalogue = json.loads(_hullscan("policy", "gates", "--format", "json", cwd=tmp_path).stdout)
    assert {gate["name"] for gate in catalogue} == GATES
    for gate in catalogue:
        assert gate["description"] and gate["triggers"]
        for trigger in gate["triggers"]:
            assert trigger["description"]
            assert all(param["description"] and param["type"] for param in trigger["params"])


def test_policy_check(tmp_path: Path) -> None:
    good = _hullscan("policy", "check", str(ROOT / "examples" / "ci" / "policy.yaml"),
                     cwd=tmp_path)
    assert good.code == 0, good.stderr
    assert "valid policy bundle 'example'" in good.stdout
    default = _hullscan("policy", "check", str(ROOT / "src/hullscan/policy/default_bundle.yaml"),
                        cwd=tmp_path)
    assert default.code == 0, default.stderr
    (tmp_path / "bad.yaml").write_text(
        'version: "1"\nid: b\npolicies:\n  - id: p\n    rules:\n'
        '      - {gate: vulnerabilities, trigger: pakage, action: STOP}\n'
        '      - {gate: config, trigger: effective_user, params: {users: root}, action: WARN}\n')
    bad = _hullscan("policy", "check", "bad.yaml", cwd=tmp_path)
    assert bad.code == 2
    lines = bad.stderr.strip().splitlines()
    assert lines[0].startswith("hullscan: error: bad.yaml:6: policies[0].rules[0].trigger: "
                               "gate 'vulnerabilities' has no trigger 'pakage'")
    assert lines[1] == ("hullscan: error: bad.yaml:7: policies[0].rules[1].params.type: "
                        "required parameter is missing")
    assert len(lines) == 2


def test_policy_schema_is_the_published_one(tmp_path: Path) -> None:
    run = _hullscan("policy", "schema", cwd=tmp_path)
    assert json.loads(run.stdout) == BUNDLE_SCHEMA
    # The example bundle and the built-in default satisfy the published schema.
    for bundle in (ROOT / "examples/ci/policy.yaml",
                   ROOT / "src/hullscan/policy/default_bundle.yaml"):
        document = json.loads(json.dumps(yaml.safe_load(bundle.read_text()), default=str))
        jsonschema.Draft202012Validator(BUNDLE_SCHEMA).validate(document)
