"""The terminal policy table: grouping, allowlists, verdict, and no markup from image text."""

from __future__ import annotations

import io

from rich.console import Console

from hullscan.report.policy_table import render_outcome_table, render_policy_table
from tests.report.outcome_helpers import SCRIPT, passing_outcome, sample_outcome


def _text(render: object, *, colour: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system="truecolor" if colour else None,
                      force_terminal=colour)
    render(console)  # type: ignore[operator]
    return buffer.getvalue()


def test_groups_by_action_and_ends_with_the_verdict() -> None:
    evaluation = sample_outcome().evaluation
    assert evaluation is not None
    text = _text(lambda console: render_policy_table(evaluation, console))
    assert text.index("Policy: STOP (2)") < text.index("Policy: WARN (2)") \
        < text.index("Allowlisted (1)")
    assert "CVE-2021-44228 log4j-core 2.14.1 (maven)" in text
    assert "#2 RUN rm -rf /var/lib/apt && npm install (own)" in text
    assert "accepted/item-1" in text and "SOCKS5 proxy never used (until 2027-03-31)" in text
    assert "allowlist accepted/item-2 expired on 2026-01-01, no longer suppresses" in text
    last = text.strip().splitlines()[-2]
    assert last.startswith("FAIL: STOP (2 STOP rule fires, 2 WARN rule fires, 1 allowlisted")
    assert last.endswith("— policy bundle Example production gate")


def test_passing_verdict() -> None:
    evaluation = passing_outcome().evaluation
    assert evaluation is not None
    text = _text(lambda console: render_policy_table(evaluation, console))
    assert "PASS: WARN (2 WARN rule fires, 1 expired allowlist)" in text


def test_image_text_is_not_rich_markup() -> None:
    outcome = sample_outcome()
    text = _text(lambda console: render_outcome_table(outcome, console), colour=True)
    assert SCRIPT in text  # printed literally, as it is in the image
    assert "\x1b[31m" in text or "\x1b[1;31m" in text  # the verdict is coloured
