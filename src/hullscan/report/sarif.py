"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

One rule per vulnerability id, per check rule id and per policy rule whose fires have no
finding behind them (``hullscan-policy/<policy>/<rule>``). Results point at the Dockerfile line
that built the finding's layer when ``--dockerfile`` was given (line 1 when no instruction
matches), else at the file inside the image. ``security-severity`` is the CVSS base score when
known, else a score for the severity (GitHub buckets these into critical/high/medium/low).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hullscan import __version__
from hullscan.catalog.package import LayerRef
from hullscan.checks.finding import CheckFinding
from hullscan.policy.model import Action
from hullscan.policy.result import Evaluation, TriggeredRule
from hullscan.report.dockerfile_lines import DockerfileLines
from hullscan.report.json_text import dumps_indented
from hullscan.report.layers import build_step
from hullscan.report.links import FindingLinks, fully_allowlisted, link, policy_action
from hullscan.report.outcome import ScanOutcome
from hullscan.vuln.finding import Finding
from hullscan.vuln.severity import Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MEDIA_TYPE = "application/sarif+json"
FINGERPRINT = "hullscan/v1"

SECURITY_SEVERITY = {Severity.CRITICAL: 9.5, Severity.HIGH: 8.0, Severity.MEDIUM: 5.5,
                     Severity.LOW: 2.0, Severity.NEGLIGIBLE: 0.5, Severity.UNKNOWN: 0.0}
"""Scores for findings without a CVSS score (GitHub: >= 9 critical, >= 7 high, >= 4 medium)."""
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.NEGLIGIBLE: "note", Severity.UNKNOWN: "note"}
ACTION_LEVELS = {Action.STOP: "error", Action.WARN: "warning", Action.GO: "note"}
ACTION_SEVERITY = {Action.STOP: Severity.HIGH, Action.WARN: Severity.MEDIUM,
                   Action.GO: Severity.LOW}
"""The severity of a policy fire that has none of its own."""


@dataclass
class _Rules:
    """Rules in first-seen order, with their index (results refer to both)."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def add(self, rule: dict[str, Any], score: float) -> int:
        """Index of ``rule`` (by id); a later, higher score raises the rule's."""
        position = self.index.get(rule["id"])
        if position is None:
            position = self.index[rule["id"]] = len(self.rules)
            self.rules.append(rule)
        properties = self.rules[position]["properties"]
        worst = max(score, float(properties["security-severity"]))
        properties["security-severity"] = f"{worst:.1f}"
        return position


@dataclass(frozen=True)
class _Where:
    """How to locate results: the Dockerfile (if any) and its lines by layer."""

    dockerfile_uri: str | None
    lines: DockerfileLines

    def location(self, layer: LayerRef | None, line: int | None, path: str | None,
                 logical: str | None) -> dict[str, Any]:
        """The Dockerfile line (``line`` or the layer's build step), else the path in the image."""
        logical_locations = [{"fullyQualifiedName": name, "kind": kind} for name, kind in
                             ((f"/{path}" if path else None, "resource"),
                              (logical, "object")) if name]
        location: dict[str, Any] = {}
        if self.dockerfile_uri is not None:
            start = line or self.lines.line_of(layer) or 1
            location["physicalLocation"] = {
                "artifactLocation": {"uri": self.dockerfile_uri},
                "region": {"startLine": start}}
        elif path:
            physical: dict[str, Any] = {"artifactLocation": {"uri": quote(path, safe="/")}}
            if line:
                physical["region"] = {"startLine": line}
            location["physicalLocation"] = physical
        if logical_locations:
            location["logicalLocations"] = logical_locations
        return location


def _dockerfile_uri(path: Path) -> str:
    """A relative URI from the working directory when the file is below it, else a file URI."""
    absolute = path.resolve()
    try:
        relative = absolute.relative_to(Path.cwd().resolve())
    except ValueError:
        return absolute.as_uri()
    return quote(relative.as_posix(), safe="/")


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _layer_text(layer: LayerRef | None) -> str:
    if layer is None:
        return ""
    step = build_step(layer, 80)
    return f" (layer #{layer.index}{': ' + step if step else ''})"


def _policy_property(rules: Sequence[TriggeredRule]) -> dict[str, Any]:
    action = policy_action(rules)
    return {
        "action": None if action is None else str(action),
        "allowlisted": fully_allowlisted(rules),
        "rules": [{"policy_id": r.policy_id, "rule_id": r.rule_id, "gate": r.gate,
                   "trigger": r.trigger, "action": str(r.action),
                   "effective_action": str(r.effective_action),
                   "trigger_id": r.fire.trigger_id,
                   "allowlisted": None if r.allowlisted is None else {
                       "allowlist_id": r.allowlisted.allowlist_id,
                       "item_id": r.allowlisted.item.id, "reason": r.allowlisted.item.reason}}
                  for r in rules]}


def _suppressions(rules: Sequence[TriggeredRule]) -> list[dict[str, Any]]:
    """An accepted external suppression per allowlist item, when all fires are allowlisted."""
    if not fully_allowlisted(rules):
        return []
    return [{"kind": "external", "status": "accepted",
             "justification": f"allowlist {r.allowlisted.allowlist_id} item "
                              f"{r.allowlisted.item.id}: {r.allowlisted.item.reason}"}
            for r in rules if r.allowlisted is not None]


def _with_policy(result: dict[str, Any], evaluation: Evaluation | None,
                 rules: Sequence[TriggeredRule]) -> dict[str, Any]:
    if evaluation is not None:
        result.setdefault("properties", {})["policy"] = _policy_property(rules)
        suppressions = _suppressions(rules)
        if suppressions:
            result["suppressions"] = suppressions
    return result


def _vulnerability_rule(finding: Finding) -> tuple[dict[str, Any], float]:
    score = finding.cvss_score if finding.cvss_score is not None \
        else SECURITY_SEVERITY[finding.severity]
    fix = (f"Upgrade {finding.package.name} to {', '.join(finding.fix_versions)}."
           if finding.fix_versions else f"No fixed version is known ({finding.fix_state}).")
    summary = finding.summary or f"{finding.id} in {finding.package.name}"
    help_text = f"{summary}\n\nRemediation: {fix}"
    if finding.cvss_vector:
        help_text += f"\nCVSS: {finding.cvss_vector}"
    rule = {"id": finding.id, "name": finding.id,
            "shortDescription": {"text": f"{finding.id} ({finding.severity})"},
            "fullDescription": {"text": summary},
            "help": {"text": help_text},
            "defaultConfiguration": {"level": LEVELS[finding.severity]},
            "properties": {"security-severity": f"{score:.1f}",
                           "tags": ["security", "vulnerability", finding.package.type],
                           "precision": "very-high"}}
    return rule, score


def _vulnerability_result(finding: Finding, rule_index: int, where: _Where) -> dict[str, Any]:
    package = finding.package
    fix = ", ".join(finding.fix_versions) or str(finding.fix_state)
    text = (f"{finding.id} ({finding.severity}) in {package.name} {package.version} "
            f"({package.type}){_layer_text(package.layer)}; fix: {fix}"
            + ("; in CISA KEV" if finding.kev else ""))
    path = package.locations[0] if package.locations else None
    return {
        "ruleId": finding.id, "ruleIndex": rule_index, "level": LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [where.location(package.layer, None, path, package.purl)],
        "partialFingerprints": {FINGERPRINT: _fingerprint(
            finding.id, package.purl, package.name, package.version, *package.locations)},
        "properties": {"severity": str(finding.severity), "package": package.name,
                       "version": package.version, "purl": package.purl,
                       "fixVersions": list(finding.fix_versions), "kev": finding.kev,
                       "epss": finding.epss_score,
                       "layer": None if package.layer is None else package.layer.index}}


def _check_rule(check: CheckFinding) -> tuple[dict[str, Any], float]:
    score = SECURITY_SEVERITY[check.severity]
    help_text = f"{check.rationale}\n\nRemediation: {check.remediation}"
    rule = {"id": check.rule_id, "name": check.rule_id,
            "shortDescription": {"text": check.title},
            "fullDescription": {"text": check.rationale},
            "help": {"text": help_text},
            "defaultConfiguration": {"level": LEVELS[check.severity]},
            "properties": {"security-severity": f"{score:.1f}",
                           "tags": ["security", str(check.category)]}}
    return rule, score


def _check_result(check: CheckFinding, rule_index: int, where: _Where) -> dict[str, Any]:
    in_dockerfile = check.config_key is not None and check.config_key.startswith("Dockerfile")
    where_text = (check.path and f"/{check.path}") or check.config_key or "the image"
    if check.deleted_by is not None:
        where_text += f", deleted in layer #{check.deleted_by.index} but still in #" \
                      f"{check.layer.index if check.layer else '?'}"
    text = f"{check.title} ({check.severity}) in {where_text}{_layer_text(check.layer)}"
    if where.dockerfile_uri is not None:
        location = where.location(check.layer, check.line if in_dockerfile else None,
                                  check.path, check.config_key)
    else:
        location = where.location(check.layer, None if in_dockerfile else check.line,
                                  check.path, check.config_key)
    return {
        "ruleId": check.rule_id, "ruleIndex": rule_index, "level": LEVELS[check.severity],
        "message": {"text": text}, "locations": [location],
        "partialFingerprints": {FINGERPRINT: _fingerprint(
            check.rule_id, check.path, check.config_key,
            check.layer.index if check.layer else None)},
        "properties": {"severity": str(check.severity), "category": str(check.category)}}


def _policy_rule(rule: TriggeredRule) -> tuple[dict[str, Any], float]:
    severity = rule.fire.severity or ACTION_SEVERITY[rule.action]
    score = SECURITY_SEVERITY[severity]
    help_text = rule.recommendation or f"See policy {rule.policy_id}, rule {rule.rule_id}."
    sarif_rule = {"id": f"hullscan-policy/{rule.policy_id}/{rule.rule_id}",
                  "name": f"{rule.gate}/{rule.trigger}",
                  "shortDescription": {"text": f"Policy rule {rule.rule_id}: "
                                               f"{rule.gate}/{rule.trigger} ({rule.action})"},
                  "help": {"text": help_text},
                  "defaultConfiguration": {"level": ACTION_LEVELS[rule.action]},
                  "properties": {"security-severity": f"{score:.1f}",
                                 "tags": ["security", "policy", rule.gate]}}
    return sarif_rule, score


def _policy_result(rule: TriggeredRule, rule_index: int, rule_id: str,
                   where: _Where) -> dict[str, Any]:
    fire = rule.fire
    return {
        "ruleId": rule_id, "ruleIndex": rule_index, "level": ACTION_LEVELS[rule.action],
        "message": {"text": f"{fire.message}{_layer_text(fire.layer)}"},
        "locations": [where.location(fire.layer, fire.dockerfile_line, fire.path,
                                     fire.trigger_id)],
        "partialFingerprints": {FINGERPRINT: _fingerprint(rule_id, fire.trigger_id)}}


def sarif_document(outcome: ScanOutcome) -> dict[str, Any]:
    """The SARIF log as a dict."""
    where = _Where(None if outcome.dockerfile is None else _dockerfile_uri(outcome.dockerfile),
                   DockerfileLines.read(outcome.dockerfile))
    links: FindingLinks = link(outcome.evaluation, outcome.findings, outcome.checks)
    evaluation = outcome.evaluation
    rules = _Rules()
    results: list[dict[str, Any]] = []
    for position, finding in enumerate(outcome.findings):
        index = rules.add(*_vulnerability_rule(finding))
        results.append(_with_policy(_vulnerability_result(finding, index, where), evaluation,
                                    links.for_finding(position)))
    for position, check in enumerate(outcome.checks):
        index = rules.add(*_check_rule(check))
        results.append(_with_policy(_check_result(check, index, where), evaluation,
                                    links.for_check(position)))
    for triggered in links.standalone:
        sarif_rule, score = _policy_rule(triggered)
        index = rules.add(sarif_rule, score)
        results.append(_with_policy(_policy_result(triggered, index, sarif_rule["id"], where),
                                    evaluation, (triggered,)))
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "hullscan", "version": __version__,
                            "semanticVersion": __version__, "rules": rules.rules}},
        "invocations": [{"executionSuccessful": True}],
        "results": results,
        "properties": {"image": outcome.document.get("image", {})},
    }
    if evaluation is not None:
        run["properties"]["policy"] = {
            "bundle": evaluation.bundle_id, "final_action": str(evaluation.final_action),
            "passed": evaluation.passed, "reason": evaluation.reason}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(outcome: ScanOutcome) -> str:
    """SARIF 2.1.0 JSON text."""
    return dumps_indented(sarif_document(outcome)) + "\n"
