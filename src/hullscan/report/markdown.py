"""A short Markdown summary for a pull-request comment or a CI job summary.

Verdict, counts by severity, the ten worst active policy fires (or findings, without a policy)
and the allowlist tally; no links. Image-derived text is escaped so it cannot open HTML, break
a table, start a link, mention a user (``@``) or reference an issue (``#``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hullscan.catalog.package import LayerRef
from hullscan.policy.result import Evaluation, TriggeredRule
from hullscan.report.layers import build_step, is_base_layer, origin
from hullscan.report.links import link
from hullscan.report.outcome import ScanOutcome
from hullscan.report.scan_report import sort_findings
from hullscan.report.verdict import verdict_of
from hullscan.vuln.finding import Finding
from hullscan.vuln.severity import Severity

MEDIA_TYPE = "text/markdown"
TOP = 10

_SPECIAL = re.compile(r"([\\`*_\[\]~!])")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "@": "&#64;", "#": "&#35;",
             "|": "&#124;", ":": "&#58;"}
"""``:`` too, so that ``https://`` in image text is not autolinked."""


def escape(text: str) -> str:
    """``text`` as literal inline Markdown: one line, no HTML, links, mentions or tables."""
    text = " ".join(text.split())
    text = "".join(_ENTITIES.get(char, char) for char in text)
    return _SPECIAL.sub(r"\\\1", text)


def _layer(layer: LayerRef | None, from_base: bool | None) -> str:
    if layer is None:
        return "-"
    step = build_step(layer, 40)
    where = origin(from_base)
    return escape(f"layer {layer.index}" + (f" {step}" if step else "")
                  + (f" ({where})" if where else ""))


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _fires(evaluation: Evaluation, outcome: ScanOutcome) -> list[str]:
    active = sorted(evaluation.active(), key=lambda r: -r.action.rank)
    shown = [r for r in active if r.action.rank > 0][:TOP]
    links = link(evaluation, outcome.findings, outcome.checks)
    fixes: dict[int, str] = {}
    for position, finding in enumerate(outcome.findings):
        for rule in links.for_finding(position):
            fixes[id(rule)] = ", ".join(finding.fix_versions)
    lines = []
    if shown:
        lines += [f"#### Policy fires ({len(shown)} of {len(active)})", "",
                  _row(("Action", "Gate", "Finding", "Package / path", "Layer", "Fix")),
                  _row(["---"] * 6)]
        lines += [_fire_row(rule, fixes.get(id(rule), "")) for rule in shown]
        if len(active) > len(shown):
            lines += ["", f"_{len(active) - len(shown)} more in the full report._"]
        lines.append("")
    return lines


def _fire_row(rule: TriggeredRule, fix: str) -> str:
    fire = rule.fire
    subject = fire.package or (fire.path and "/" + fire.path) or "-"
    return _row((f"**{rule.action}**", escape(f"{rule.gate}/{rule.trigger}"),
                 escape(fire.finding_id or fire.trigger_id), escape(subject),
                 _layer(fire.layer, rule.from_base_image), escape(fix) or "-"))


def _findings(findings: Sequence[Finding], base_layers: int | None) -> list[str]:
    worst = sort_findings(findings)[:TOP]
    if not worst:
        return []
    lines = [f"#### Vulnerabilities ({len(worst)} of {len(findings)})", "",
             _row(("Severity", "Vulnerability", "Package", "Layer", "Fix")), _row(["---"] * 5)]
    for finding in worst:
        package = finding.package
        lines.append(_row((str(finding.severity), escape(finding.id),
                           escape(f"{package.name} {package.version}"),
                           _layer(package.layer, is_base_layer(package.layer, base_layers)),
                           escape(", ".join(finding.fix_versions)) or "-")))
    return [*lines, ""]


def _allowlist_lines(evaluation: Evaluation) -> list[str]:
    lines = []
    allowlisted = evaluation.allowlisted()
    if allowlisted:
        lines.append(f"**Allowlisted:** {len(allowlisted)} "
                     f"fire{'s' if len(allowlisted) != 1 else ''} (accepted risks).")
    expired = [r for r in evaluation.triggered if r.expired_allowlist is not None]
    if expired:
        items = sorted({(r.expired_allowlist.allowlist_id, r.expired_allowlist.item.id,
                         str(r.expired_allowlist.item.expires_on))
                        for r in expired if r.expired_allowlist is not None})
        text = ", ".join(f"{escape(a)}/{escape(i)} (expired {escape(d)})" for a, i, d in items)
        lines.append(f"**Expired allowlist items** no longer suppress: {text}.")
    return lines


def render(outcome: ScanOutcome) -> str:
    """The Markdown summary (under ~60 lines whatever the size of the scan)."""
    document = outcome.document
    evaluation = outcome.evaluation
    verdict = verdict_of(evaluation)
    image = document.get("image", {})
    lines = [f"### hullscan: {escape(str(image.get('reference', '')))}", ""]
    if evaluation is None:
        lines.append(f"**{verdict.label}** — no policy evaluated")
    else:
        lines.append(f"**{verdict.label}** — {evaluation.final_action} "
                     f"({escape(verdict.counts)}) — policy bundle "
                     f"{escape(verdict.bundle or '')}")
        lines += ["", escape(evaluation.reason)]
    counts = {str(s): sum(1 for f in outcome.findings if f.severity is s)
              for s in sorted(Severity, reverse=True)}
    lines += ["", _row(list(counts)), _row(["---:"] * len(counts)),
              _row([str(n) for n in counts.values()]), ""]
    if outcome.checks:
        by_category: dict[str, int] = {}
        for check in outcome.checks:
            by_category[str(check.category)] = by_category.get(str(check.category), 0) + 1
        lines += [f"Checks: {len(outcome.checks)} ("
                  + ", ".join(f"{n} {c}" for c, n in sorted(by_category.items())) + ")", ""]
    if evaluation is None:
        lines += _findings(outcome.findings, None)
    else:
        lines += _fires(evaluation, outcome)
        lines += _allowlist_lines(evaluation)
    return "\n".join(lines).rstrip() + "\n"
