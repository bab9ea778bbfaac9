"""One self-contained HTML report: inline CSS, a few lines of inline JavaScript, no fetches.

Every image-derived string goes through :func:`html.escape`. A Content-Security-Policy allows
only this page's own style and script (by hash), so even a missed escape could run nothing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from html import escape

from hullscan.policy.result import Evaluation, TriggeredRule
from hullscan.report.layers import is_base_layer, layer_label
from hullscan.report.links import link, policy_action
from hullscan.report.outcome import ScanOutcome
from hullscan.report.policy_table import allowlist_text, finding_text
from hullscan.report.scan_report import sort_findings
from hullscan.report.verdict import verdict_of
from hullscan.vuln.severity import Severity

MEDIA_TYPE = "text/html"

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 2rem 2rem;color:#1f2328}
h1{font-size:1.4rem;margin:1rem 0 .2rem}h2{font-size:1.1rem;margin:1.5rem 0 .4rem}
.meta{color:#59636e;font-family:monospace;overflow-wrap:anywhere}
.verdict{padding:.8rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0;color:#fff}
.verdict-STOP{background:#cf222e}.verdict-WARN{background:#9a6700}
.verdict-GO{background:#1a7f37}.verdict-none{background:#59636e}
.counts span{display:inline-block;margin-right:1rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0}
th,td{border:1px solid #d1d9e0;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.mono{font-family:monospace;overflow-wrap:anywhere}
.sev-Critical,.act-STOP{color:#cf222e;font-weight:600}.sev-High{color:#bc4c00}
.act-WARN{color:#9a6700;font-weight:600}.act-GO{color:#1a7f37}
input#filter{width:20rem;padding:.3rem;margin:.5rem 0}
""".strip()

SCRIPT = """
document.getElementById('filter').addEventListener('input',function(e){
var q=e.target.value.toLowerCase();
document.querySelectorAll('tbody tr').forEach(function(r){
r.hidden=q!==''&&r.textContent.toLowerCase().indexOf(q)<0;});});
""".strip()


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CSP = (f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; "
       "img-src 'none'; base-uri 'none'; form-action 'none'")


def _cell(value: object, css: str = "") -> str:
    attribute = f' class="{escape(css)}"' if css else ""
    return f"<td{attribute}>{escape(str(value))}</td>"


def _table(table_id: str, headers: Sequence[str], rows: Iterable[str]) -> str:
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return (f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _section(title: str, count: int, content: str) -> str:
    return f"<section><h2>{escape(title)} ({count})</h2>{content}</section>"


def _fire_row(rule: TriggeredRule) -> str:
    fire = rule.fire
    action = str(rule.effective_action)
    return "".join((_cell(action, f"act-{action}"), _cell(f"{rule.gate}/{rule.trigger}"),
                    _cell(f"{rule.policy_id}/{rule.rule_id}"),
                    _cell(finding_text(rule), "mono"),
                    _cell(layer_label(fire.layer, rule.from_base_image, 60), "mono"),
                    _cell(fire.message), _cell(rule.recommendation or "")))


def _policy_sections(evaluation: Evaluation) -> str:
    active = sorted(evaluation.active(), key=lambda r: -r.action.rank)
    parts = [_section("Policy fires", len(active), _table(
        "policy-fires", ("Action", "Gate/trigger", "Rule", "Finding", "Layer", "Message",
                         "Recommendation"), (_fire_row(r) for r in active)))]
    allowlisted = evaluation.allowlisted()
    rows = []
    for rule in allowlisted:
        match = rule.allowlisted
        assert match is not None
        rows.append("".join((_cell(str(rule.action), f"act-{rule.action}"),
                             _cell(f"{rule.gate}/{rule.trigger}"),
                             _cell(rule.fire.trigger_id, "mono"), _cell(allowlist_text(rule)),
                             _cell(match.item.reason), _cell(match.item.expires_on or "never"))))
    parts.append(_section("Allowlisted", len(allowlisted), _table(
        "allowlisted", ("Rule action", "Gate/trigger", "Trigger id", "Allowlist item", "Reason",
                        "Expires"), rows)))
    expired = [r for r in evaluation.triggered if r.expired_allowlist is not None]
    if expired:
        items = []
        for rule in expired:
            match = rule.expired_allowlist
            assert match is not None
            items.append(f"<li>{escape(match.allowlist_id)}/{escape(match.item.id)} expired on "
                         f"{escape(str(match.item.expires_on))}, no longer suppresses "
                         f"<code>{escape(rule.fire.trigger_id)}</code> ({rule.action})</li>")
        parts.append(_section("Expired allowlist items", len(expired),
                              f'<ul id="expired">{"".join(items)}</ul>'))
    return "".join(parts)


def _vulnerability_rows(outcome: ScanOutcome) -> list[str]:
    links = link(outcome.evaluation, outcome.findings, outcome.checks)
    base = None if outcome.evaluation is None else outcome.evaluation.base_layer_count
    positions = {id(f): n for n, f in enumerate(outcome.findings)}
    rows = []
    for finding in sort_findings(outcome.findings):
        package = finding.package
        action = policy_action(links.for_finding(positions[id(finding)]))
        risk = " ".join(filter(None, (
            "KEV" if finding.kev else "",
            "" if finding.epss_score is None else f"EPSS {finding.epss_score:.1%}")))
        rows.append("".join((
            _cell(finding.id, "mono"), _cell(finding.severity, f"sev-{finding.severity}"),
            _cell(package.name, "mono"), _cell(package.version, "mono"),
            _cell(", ".join(finding.fix_versions) or finding.fix_state),
            _cell(layer_label(package.layer, is_base_layer(package.layer, base), 60), "mono"),
            _cell(risk or "-"),
            _cell(action or "-", f"act-{action}" if action else ""))))
    return rows


def _check_rows(outcome: ScanOutcome) -> list[str]:
    rows = []
    for check in outcome.checks:
        where = (check.path and f"/{check.path}") or check.config_key or "-"
        if check.line:
            where += f":{check.line}"
        layer = layer_label(check.layer, None, 60)
        if check.deleted_by is not None:
            layer += f" (deleted in #{check.deleted_by.index})"
        rows.append("".join((_cell(check.severity, f"sev-{check.severity}"),
                             _cell(check.rule_id, "mono"), _cell(check.title),
                             _cell(where, "mono"), _cell(layer, "mono"),
                             _cell(check.evidence or "", "mono"),
                             _cell(check.remediation))))
    return rows


def render(outcome: ScanOutcome) -> str:
    """The HTML document."""
    image = outcome.document.get("image", {})
    reference = str(image.get("reference", ""))
    evaluation = outcome.evaluation
    verdict = verdict_of(evaluation)
    action = "none" if evaluation is None else str(evaluation.final_action)
    counts = "".join(
        f'<span class="sev-{s}">{s}: {sum(1 for f in outcome.findings if f.severity is s)}'
        "</span>" for s in sorted(Severity, reverse=True))
    reason = "" if evaluation is None else f"<div>{escape(evaluation.reason)}</div>"
    meta = " · ".join(escape(str(v)) for v in (
        image.get("manifest_digest"), image.get("platform"),
        None if evaluation is None else f"evaluated {evaluation.evaluated_at.isoformat()}")
        if v)
    body = [
        f"<header><h1>{escape(reference)}</h1><div class=\"meta\">{meta}</div></header>",
        f'<div id="verdict" class="verdict verdict-{action}">{escape(verdict.headline)}'
        f"{reason}</div>",
        f'<div class="counts" id="counts">{counts}<span>Checks: {len(outcome.checks)}'
        f"</span></div>",
        '<input id="filter" type="search" placeholder="Filter rows" aria-label="Filter rows">',
    ]
    if evaluation is not None:
        body.append(_policy_sections(evaluation))
    body.append(_section("Vulnerabilities", len(outcome.findings), _table(
        "vulnerabilities", ("Vulnerability", "Severity", "Package", "Version", "Fix", "Layer",
                            "KEV / EPSS", "Policy"), _vulnerability_rows(outcome))))
    body.append(_section("Checks", len(outcome.checks), _table(
        "checks", ("Severity", "Rule", "Title", "Where", "Layer", "Evidence (redacted)",
                   "Remediation"), _check_rows(outcome))))
    title = f"hullscan: {reference} — {verdict.label}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body>{''.join(body)}<script>{SCRIPT}</script></body></html>\n")
