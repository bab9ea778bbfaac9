"""``--output-json``: the scan document plus the documented policy verdict."""

from __future__ import annotations

import json

from hullscan.report.formats import REPORT_FORMATS
from hullscan.report.policy_document import evaluation_document, render_json
from tests.report.outcome_helpers import EVIL_NAME, SECRET_PATH, sample_outcome


def test_evaluation_document_names_every_documented_field() -> None:
    evaluation = sample_outcome().evaluation
    assert evaluation is not None
    document = json.loads(json.dumps(evaluation_document(evaluation)))
    assert document["bundle"] == {"id": "example", "name": "Example production gate",
                                  "source": "examples/ci/policy.yaml"}
    assert document["image"]["name"] == "localhost:5000/team/app:1.0@sha256:" + "d" * 64
    assert (document["final_action"], document["passed"]) == ("STOP", False)
    assert document["counts"] == {"STOP": 2, "WARN": 2, "GO": 0, "allowlisted": 1,
                                  "expired_allowlist": 1}
    assert document["evaluated_at"] == "2026-11-27T10:00:00+00:00"
    first = document["triggered"][0]
    assert set(first) == {
        "gate", "trigger", "rule_id", "policy_id", "action", "effective_action", "trigger_id",
        "message", "severity", "finding_id", "package", "path", "layer", "from_base_image",
        "dockerfile_line", "recommendation", "allowlisted", "expired_allowlist", "details"}
    assert first["details"] == {"fix_versions": ["2.17.1"], "severity": "Critical"}
    assert first["layer"]["index"] == 2
    curl = next(t for t in document["triggered"] if t["rule_id"] == "kev")
    assert (curl["action"], curl["effective_action"]) == ("STOP", "GO")
    assert curl["allowlisted"] == {"allowlist_id": "accepted", "item_id": "item-1",
                                   "reason": "SOCKS5 proxy never used",
                                   "expires_on": "2027-03-31"}
    evil = next(t for t in document["triggered"] if t["rule_id"] == "medium")
    assert evil["package"] == f"{EVIL_NAME} 1.0.0 (npm)"
    assert evil["expired_allowlist"]["expires_on"] == "2026-01-01"
    secret = next(t for t in document["triggered"] if t["rule_id"] == "secrets")
    assert secret["path"] == SECRET_PATH


def test_render_json_adds_policy_to_the_scan_document() -> None:
    document = json.loads(render_json(sample_outcome()))
    assert document["schema"] == "hullscan-scan/1"
    assert len(document["findings"]) == 3
    assert document["policy"]["final_action"] == "STOP"
    assert json.loads(render_json(sample_outcome(policy=False)))["policy"] is None


def test_registry_renders_every_format() -> None:
    assert set(REPORT_FORMATS) == {"json", "sarif", "junit", "cyclonedx", "markdown", "html"}
    for name, report in REPORT_FORMATS.items():
        assert report.name == name
        assert report.media_type and report.extension
        assert report.render(sample_outcome())
        assert report.render(sample_outcome(policy=False))


def test_registry_media_types_are_the_modules_own() -> None:
    from hullscan.report import html, junit, markdown, policy_document, sarif, vex

    modules = {"json": policy_document, "sarif": sarif, "junit": junit, "cyclonedx": vex,
               "markdown": markdown, "html": html}
    assert {name: report.media_type for name, report in REPORT_FORMATS.items()} == {
        name: module.MEDIA_TYPE for name, module in modules.items()}
