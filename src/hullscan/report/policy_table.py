"""The policy verdict on a terminal: fires grouped by action, allowlisted ones, the verdict.

Every image-derived string is passed as :class:`~rich.text.Text`, never as markup, so a
``created_by`` like ``[red]`` or ``[link=...]`` prints as written.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hullscan.policy.model import Action
from hullscan.policy.result import Evaluation, TriggeredRule
from hullscan.report.layers import layer_label
from hullscan.report.outcome import ScanOutcome
from hullscan.report.scan_table import render_table
from hullscan.report.verdict import verdict_of

ACTION_STYLES = {Action.STOP: "bold red", Action.WARN: "yellow", Action.GO: "green"}


def finding_text(rule: TriggeredRule) -> str:
    """``CVE-2023-1 openssl 3.0.2 (deb)``, ``HS-SEC-X app/.env``, or the trigger id."""
    fire = rule.fire
    subject = fire.package or (fire.path and "/" + fire.path.lstrip("/"))
    parts = [part for part in (fire.finding_id, subject) if part]
    return " ".join(parts) if parts else fire.trigger_id


def allowlist_text(rule: TriggeredRule) -> str:
    """``accepted/item-1`` for the item suppressing ``rule``; empty when none."""
    match = rule.allowlisted
    return "" if match is None else f"{match.allowlist_id}/{match.item.id}"


def _fires_table(title: str, rules: Sequence[TriggeredRule], style: str) -> Table:
    table = Table(title=title, title_justify="left", title_style=style)
    table.add_column("Action", no_wrap=True)
    table.add_column("Gate / trigger", no_wrap=True)
    table.add_column("Finding", overflow="fold")
    table.add_column("Layer", overflow="ellipsis", no_wrap=True, max_width=48)
    table.add_column("Allowlisted by", overflow="fold")
    for rule in rules:
        table.add_row(Text(str(rule.action), style=ACTION_STYLES[rule.action]),
                      Text(f"{rule.gate}/{rule.trigger}"), Text(finding_text(rule)),
                      Text(layer_label(rule.fire.layer, rule.from_base_image)),
                      Text(allowlist_text(rule) or "-"))
    return table


def _expiry(date: datetime.date | None) -> str:
    return "no expiry" if date is None else f"expired on {date.isoformat()}"


def render_policy_table(evaluation: Evaluation, console: Console) -> None:
    """Triggered rules (STOP first), allowlisted fires, expired allowlist items, verdict."""
    active = evaluation.active()
    for action in sorted(Action, key=lambda a: -a.rank):
        rules = [r for r in active if r.action is action]
        if rules:
            console.print(_fires_table(f"Policy: {action} ({len(rules)})", rules,
                                       ACTION_STYLES[action]))
    allowlisted = evaluation.allowlisted()
    if allowlisted:
        console.print(_fires_table(f"Allowlisted ({len(allowlisted)})", allowlisted, "dim"))
        for rule in allowlisted:
            assert rule.allowlisted is not None
            item = rule.allowlisted.item
            until = "" if item.expires_on is None else f" (until {item.expires_on.isoformat()})"
            line = Text(f"  {allowlist_text(rule)}: {rule.fire.trigger_id} — {item.reason}"
                        f"{until}", style="dim")
            console.print(line)
    for rule in (r for r in evaluation.triggered if r.expired_allowlist is not None):
        match = rule.expired_allowlist
        assert match is not None
        console.print(Text(
            f"allowlist {match.allowlist_id}/{match.item.id} {_expiry(match.item.expires_on)}, "
            f"no longer suppresses {rule.fire.trigger_id} ({rule.action})", style="yellow"))
    verdict = verdict_of(evaluation)
    colour = ACTION_STYLES[evaluation.final_action]
    console.print(Text(verdict.headline, style=colour))
    console.print(Text(evaluation.reason, style="dim"))


def render_outcome_table(outcome: ScanOutcome, console: Console) -> None:
    """``scan --format table``: the findings, then the policy verdict when there is one."""
    render_table(dict(outcome.document), console)
    if outcome.evaluation is not None:
        render_policy_table(outcome.evaluation, console)
