"""The one-line verdict every human-readable report leads with."""

from __future__ import annotations

from dataclasses import dataclass

from hullscan.policy.model import Action
from hullscan.policy.result import Evaluation


@dataclass(frozen=True)
class Verdict:
    """Pass or fail, the final action and the counts behind it."""

    action: Action | None
    """The final action; None when no policy was evaluated."""
    passed: bool
    stop: int
    """Fires of STOP rules that count (not allowlisted)."""
    warn: int
    allowlisted: int
    expired: int
    """Fires whose only allowlist item has expired (they count again)."""
    bundle: str | None
    reason: str | None

    @property
    def label(self) -> str:
        """``PASS``, ``FAIL`` or ``SCANNED`` (no policy)."""
        if self.action is None:
            return "SCANNED"
        return "PASS" if self.passed else "FAIL"

    @property
    def counts(self) -> str:
        """``3 STOP rule fires, 1 WARN rule fire, 2 allowlisted``; ``no rule fires``."""
        parts = [_plural(self.stop, "STOP rule fire"), _plural(self.warn, "WARN rule fire"),
                 f"{self.allowlisted} allowlisted" if self.allowlisted else "",
                 f"{self.expired} expired allowlist" if self.expired else ""]
        return ", ".join(part for part in parts if part) or "no rule fires"

    @property
    def headline(self) -> str:
        """``FAIL: STOP (3 STOP rule fires, 2 allowlisted) — policy bundle Production``."""
        if self.action is None:
            return "SCANNED: no policy evaluated"
        return f"{self.label}: {self.action} ({self.counts}) — policy bundle {self.bundle}"


def _plural(count: int, noun: str) -> str:
    if not count:
        return ""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def verdict_of(evaluation: Evaluation | None) -> Verdict:
    """The verdict of ``evaluation`` (a neutral one without a policy)."""
    if evaluation is None:
        return Verdict(None, True, 0, 0, 0, 0, None, None)
    active = evaluation.active()
    return Verdict(
        action=evaluation.final_action, passed=evaluation.passed,
        stop=sum(1 for t in active if t.action is Action.STOP),
        warn=sum(1 for t in active if t.action is Action.WARN),
        allowlisted=len(evaluation.allowlisted()),
        expired=sum(1 for t in active if t.expired_allowlist is not None),
        bundle=evaluation.bundle_name or evaluation.bundle_id, reason=evaluation.reason)
