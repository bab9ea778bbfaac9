"""JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps).

With a policy: one ``testsuite`` per gate and one ``testcase`` per rule and trigger id. A STOP
fire is a ``failure``, a WARN fire passes with ``WARN: ...`` in ``system-out``, an allowlisted
fire is ``skipped`` with the allowlist item's reason; GO fires pass. Without a policy: suites
``vulnerabilities`` and ``checks``, one testcase per finding, failing at high severity or worse.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hullscan.checks.finding import CheckFinding
from hullscan.policy.model import Action
from hullscan.policy.result import Evaluation, TriggeredRule
from hullscan.report.layers import layer_label
from hullscan.report.outcome import ScanOutcome
from hullscan.report.policy_table import finding_text
from hullscan.vuln.finding import Finding
from hullscan.vuln.severity import Severity

MEDIA_TYPE = "application/xml"
FAILING_SEVERITY = Severity.HIGH
"""Without a policy, findings at least this severe fail."""

# Characters XML 1.0 cannot carry, even escaped (image strings may contain them).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


@dataclass(frozen=True)
class _Case:
    """One testcase: what it is called and how it ended."""

    classname: str
    name: str
    outcome: str
    """``passed``, ``failure`` or ``skipped``."""
    message: str
    detail: str
    kind: str = "STOP"
    """The failure's ``type``: the action, or the severity without a policy."""


def _fire_detail(rules: Sequence[TriggeredRule]) -> str:
    lines = []
    for rule in rules:
        fire = rule.fire
        lines.append(f"{rule.action}: {fire.message}")
        lines.append(f"  rule {rule.policy_id}/{rule.rule_id} ({rule.gate}/{rule.trigger}), "
                     f"finding {finding_text(rule)}")
        lines.append(f"  layer {layer_label(fire.layer, rule.from_base_image, 100, '#')}")
        if rule.recommendation:
            lines.append(f"  recommendation: {rule.recommendation}")
        if rule.expired_allowlist is not None:
            item = rule.expired_allowlist.item
            lines.append(f"  allowlist {rule.expired_allowlist.allowlist_id}/{item.id} expired "
                         f"on {item.expires_on}, no longer suppresses")
    return "\n".join(lines)


def _rule_case(rules: Sequence[TriggeredRule]) -> _Case:
    first = rules[0]
    name = f"{first.rule_id}: {first.fire.trigger_id}"
    classname = f"hullscan.{first.gate}.{first.trigger}"
    active = [r for r in rules if r.allowlisted is None]
    if not active:
        match = first.allowlisted
        assert match is not None
        expires = f", expires {match.item.expires_on}" if match.item.expires_on else ""
        return _Case(classname, name, "skipped",
                     f"allowlisted by {match.allowlist_id}/{match.item.id}: "
                     f"{match.item.reason}{expires}", _fire_detail(rules))
    action = Action.worst([r.action for r in active])
    message = f"{action}: {first.fire.message}"
    return _Case(classname, name, "failure" if action is Action.STOP else "passed", message,
                 _fire_detail(active))


def _policy_cases(evaluation: Evaluation) -> dict[str, list[_Case]]:
    groups: dict[tuple[str, str, str, str], list[TriggeredRule]] = {}
    for rule in evaluation.triggered:
        key = (rule.gate, rule.policy_id, rule.rule_id, rule.fire.trigger_id)
        groups.setdefault(key, []).append(rule)
    suites: dict[str, list[_Case]] = {}
    for (gate, *_), rules in groups.items():
        suites.setdefault(gate, []).append(_rule_case(rules))
    return suites


def _vulnerability_case(finding: Finding) -> _Case:
    package = finding.package
    fix = ", ".join(finding.fix_versions) or str(finding.fix_state)
    detail = (f"{finding.id} ({finding.severity}) in {package.name} {package.version} "
              f"({package.type}); fix: {fix}\n"
              f"layer {layer_label(package.layer, None, 100)}"
              + (f"\n{finding.summary}" if finding.summary else ""))
    outcome = "failure" if finding.severity >= FAILING_SEVERITY else "passed"
    return _Case(f"hullscan.vulnerabilities.{package.type}",
                 f"{finding.id}: {package.name} {package.version}", outcome,
                 f"{finding.severity} {finding.id} in {package.name}", detail,
                 str(finding.severity))


def _check_case(check: CheckFinding) -> _Case:
    where = (check.path and f"/{check.path}") or check.config_key or "image"
    detail = (f"{check.title} ({check.severity}) in {where}\n"
              f"layer {layer_label(check.layer, None, 100)}\n{check.rationale}\n"
              f"remediation: {check.remediation}")
    outcome = "failure" if check.severity >= FAILING_SEVERITY else "passed"
    return _Case(f"hullscan.checks.{check.category}", f"{check.rule_id}: {where}", outcome,
                 f"{check.severity} {check.title}", detail, str(check.severity))


def _finding_cases(outcome: ScanOutcome) -> dict[str, list[_Case]]:
    return {"vulnerabilities": [_vulnerability_case(f) for f in outcome.findings],
            "checks": [_check_case(c) for c in outcome.checks]}


_RESULTS: dict[str, Callable[[ET.Element, _Case], object]] = {
    "failure": lambda case, c: _child(case, "failure", c.detail, message=c.message,
                                      type=c.kind),
    "skipped": lambda case, c: _child(case, "skipped", None, message=c.message),
    "passed": lambda case, c: _child(case, "system-out", c.detail),
}


def _child(parent: ET.Element, tag: str, text: str | None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _suite(root: ET.Element, name: str, cases: Sequence[_Case], timestamp: str) -> None:
    counts = {kind: sum(1 for c in cases if c.outcome == kind) for kind in _RESULTS}
    attributes = {"name": _text(name), "tests": str(len(cases)),
                  "failures": str(counts["failure"]), "errors": "0",
                  "skipped": str(counts["skipped"]), "time": "0"}
    if timestamp:
        attributes["timestamp"] = timestamp
    suite = ET.SubElement(root, "testsuite", attributes)
    for case in cases:
        element = ET.SubElement(suite, "testcase", {"classname": _text(case.classname),
                                                    "name": _text(case.name), "time": "0"})
        _RESULTS[case.outcome](element, case)


def render(outcome: ScanOutcome) -> str:
    """The JUnit XML document."""
    evaluation = outcome.evaluation
    suites = _finding_cases(outcome) if evaluation is None else _policy_cases(evaluation)
    timestamp = "" if evaluation is None else evaluation.evaluated_at.replace(
        tzinfo=None, microsecond=0).isoformat()
    cases = [case for group in suites.values() for case in group]
    image = str(outcome.document.get("image", {}).get("reference", ""))
    root = ET.Element("testsuites", {
        "name": _text(f"hullscan {image}".strip()), "tests": str(len(cases)),
        "failures": str(sum(1 for c in cases if c.outcome == "failure")), "errors": "0",
        "skipped": str(sum(1 for c in cases if c.outcome == "skipped")), "time": "0"})
    for name, group in suites.items():
        _suite(root, name, group, timestamp)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
