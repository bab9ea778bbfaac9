"""The outcome of evaluating a bundle against one image."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from hullscan.policy.context import ImageName
from hullscan.policy.gates.base import Fire
from hullscan.policy.model import Action, AllowlistItem


@dataclass(frozen=True)
class AllowlistMatch:
    """The allowlist item that suppressed (or, expired, no longer suppresses) a fire."""

    allowlist_id: str
    item: AllowlistItem


@dataclass(frozen=True)
class TriggeredRule:
    """One fire of one rule, and what became of it."""

    policy_id: str
    rule_id: str
    gate: str
    trigger: str
    action: Action
    """The rule's action (what it would do if not allowlisted)."""
    fire: Fire
    recommendation: str | None
    allowlisted: AllowlistMatch | None
    """The valid item suppressing this fire, if any."""
    expired_allowlist: AllowlistMatch | None
    """An expired item that would have suppressed it (reported, not applied)."""
    from_base_image: bool | None
    """True: the finding comes from a base-image layer; False: from the image's own layers."""

    @property
    def effective_action(self) -> Action:
        """GO when allowlisted, else the rule's action."""
        return Action.GO if self.allowlisted is not None else self.action


@dataclass(frozen=True)
class Evaluation:
    """Final action, why, and every triggered rule."""

    bundle_id: str
    bundle_name: str
    bundle_source: str
    image: ImageName
    mapping: str | None
    """The mapping that chose the policies (None when the bundle has no mappings)."""
    policy_ids: tuple[str, ...]
    allowlist_ids: tuple[str, ...]
    final_action: Action
    reason: str
    """Why the final action is what it is, in a sentence."""
    triggered: tuple[TriggeredRule, ...]
    evaluated_at: datetime.datetime
    base_layer_count: int | None

    @property
    def passed(self) -> bool:
        """GO and WARN pass; STOP fails."""
        return self.final_action is not Action.STOP

    def active(self) -> tuple[TriggeredRule, ...]:
        """Fires that count (not allowlisted)."""
        return tuple(t for t in self.triggered if t.allowlisted is None)

    def allowlisted(self) -> tuple[TriggeredRule, ...]:
        """Fires that an allowlist item suppressed."""
        return tuple(t for t in self.triggered if t.allowlisted is not None)
