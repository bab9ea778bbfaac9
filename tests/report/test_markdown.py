"""The Markdown summary: verdict, counts, top fires, escaping, size."""

from __future__ import annotations

from hullscan.report.markdown import escape, render
from tests.report.outcome_helpers import big_outcome, passing_outcome, sample_outcome


def test_summary_of_a_failing_scan() -> None:
    text = render(sample_outcome())
    lines = text.splitlines()
    assert lines[2].startswith("**FAIL** — STOP (2 STOP rule fires, 2 WARN rule fires")
    assert "| Critical | High | Medium | Low | Negligible | Unknown |" in lines
    assert "| 1 | 1 | 1 | 0 | 0 | 0 |" in lines
    fires = [line for line in lines if line.startswith("| **")]
    assert [line.split(" | ")[0] for line in fires] == ["| **STOP**"] * 2 + ["| **WARN**"] * 2
    assert "| 2.17.1 |" in fires[0]
    assert "**Allowlisted:** 1 fire" in text
    assert "accepted/item-2 (expired 2026-01-01)" in text
    assert "http" not in text and "](" not in text


def test_passing_and_policy_free_summaries() -> None:
    assert "**PASS** — WARN" in render(passing_outcome())
    text = render(sample_outcome(policy=False))
    assert "**SCANNED** — no policy evaluated" in text
    assert "#### Vulnerabilities (3 of 3)" in text


def test_image_text_is_escaped() -> None:
    text = render(sample_outcome())
    for raw in ("<script>", "<b>", "`pkg`", "|`", "@x"):
        assert raw not in text
    assert "evil&#124;\\`pkg\\`&lt;b&gt;&#64;x" in text
    assert escape("[x](https://e.example) #1 @team") == \
        "\\[x\\](https&#58;//e.example) &#35;1 &#64;team"
    # Every table row still has exactly its columns.
    for line in text.splitlines():
        if line.startswith("| **"):
            assert line.count(" | ") == 5


def test_big_results_stay_short() -> None:
    text = render(big_outcome(300))
    assert len(text.splitlines()) < 60
    assert "_290 more in the full report._" in text
