"""Which policy fires are about which findings, so reports can show both together.

A fire names what it objects to by ``finding_id`` (a vulnerability id or alias, or a check rule
id) plus ``package`` (``name version (type)``) or ``path``; a fire that matches no kept finding
(``effective_user``, ``stale_feed_data``) stands alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hullscan.checks.finding import CheckFinding
from hullscan.policy.model import Action
from hullscan.policy.result import Evaluation, TriggeredRule
from hullscan.vuln.finding import Finding


@dataclass(frozen=True)
class FindingLinks:
    """Fires by finding, and the fires about no finding."""

    vulnerabilities: dict[int, tuple[TriggeredRule, ...]]
    """Position in the findings tuple -> fires about that finding."""
    checks: dict[int, tuple[TriggeredRule, ...]]
    """Position in the checks tuple -> fires about that check finding."""
    standalone: tuple[TriggeredRule, ...]
    """Fires about no kept finding (image facts, bundle-level triggers)."""

    def for_finding(self, position: int) -> tuple[TriggeredRule, ...]:
        """Fires about ``findings[position]``."""
        return self.vulnerabilities.get(position, ())

    def for_check(self, position: int) -> tuple[TriggeredRule, ...]:
        """Fires about ``checks[position]``."""
        return self.checks.get(position, ())


def link(evaluation: Evaluation | None, findings: Sequence[Finding],
         checks: Sequence[CheckFinding]) -> FindingLinks:
    """Attach every fire of ``evaluation`` to the finding it is about, if any."""
    vulnerabilities: dict[int, list[TriggeredRule]] = {}
    check_fires: dict[int, list[TriggeredRule]] = {}
    standalone: list[TriggeredRule] = []
    for rule in () if evaluation is None else evaluation.triggered:
        found = _vulnerability(rule, findings)
        if found is not None:
            vulnerabilities.setdefault(found, []).append(rule)
            continue
        found = _check(rule, checks)
        if found is not None:
            check_fires.setdefault(found, []).append(rule)
            continue
        standalone.append(rule)
    return FindingLinks({k: tuple(v) for k, v in vulnerabilities.items()},
                        {k: tuple(v) for k, v in check_fires.items()}, tuple(standalone))


def _vulnerability(rule: TriggeredRule, findings: Sequence[Finding]) -> int | None:
    fire = rule.fire
    if fire.finding_id is None:
        return None
    best: tuple[int, int] | None = None
    for position, finding in enumerate(findings):
        if fire.finding_id != finding.id and fire.finding_id not in finding.aliases:
            continue
        package = finding.package
        score = 1
        if fire.package is not None and fire.package.split(" ", 1)[0] == package.name:
            score = 3 if fire.package.startswith(f"{package.name} {package.version}") else 2
        elif fire.trigger_id.endswith(f"+{package.name}") or (
                fire.path is not None and fire.path.lstrip("/") in package.locations):
            score = 2
        elif fire.package is not None or fire.path is not None:
            continue
        if best is None or score > best[0]:
            best = (score, position)
    return None if best is None else best[1]


def _check(rule: TriggeredRule, checks: Sequence[CheckFinding]) -> int | None:
    fire = rule.fire
    if fire.finding_id is None:
        return None
    for position, check in enumerate(checks):
        if check.rule_id != fire.finding_id:
            continue
        if (fire.path or "").lstrip("/") != (check.path or ""):
            continue
        if fire.layer is not None and check.layer is not None \
                and fire.layer.index != check.layer.index:
            continue
        return position
    return None


def policy_action(rules: Sequence[TriggeredRule]) -> Action | None:
    """The worst effective action of ``rules``; None when there are none."""
    return Action.worst([r.effective_action for r in rules]) if rules else None


def fully_allowlisted(rules: Sequence[TriggeredRule]) -> bool:
    """True when every fire in ``rules`` (at least one) is allowlisted."""
    return bool(rules) and all(r.allowlisted is not None for r in rules)
