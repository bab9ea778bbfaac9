"""A policy bundle as loaded: policies of rules, allowlists, mappings, image lists."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Action(enum.StrEnum):
    """What a triggered rule asks for; the worst of all decides (STOP > WARN > GO)."""

    GO = "GO"
    WARN = "WARN"
    STOP = "STOP"

    @property
    def rank(self) -> int:
        """GO 0, WARN 1, STOP 2."""
        return _RANKS[self]

    @classmethod
    def worst(cls, actions: list[Action]) -> Action:
        """The worst of ``actions``; GO for none."""
        return max(actions, key=lambda action: action.rank, default=cls.GO)


_RANKS = {Action.GO: 0, Action.WARN: 1, Action.STOP: 2}


@dataclass(frozen=True)
class Rule:
    """One gate/trigger with its parameters and the action taken when it fires."""

    id: str
    gate: str
    trigger: str
    action: Action
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """Parameters after validation (typed, defaults filled in)."""
    recommendation: str | None = None


@dataclass(frozen=True)
class Policy:
    """A named list of rules."""

    id: str
    name: str
    rules: tuple[Rule, ...]
    description: str | None = None


@dataclass(frozen=True)
class AllowlistItem:
    """Suppresses fires of ``gate`` whose trigger id matches ``trigger_id`` (a glob)."""

    id: str
    gate: str
    trigger_id: str
    reason: str
    expires_on: datetime.date | None = None

    def expired(self, today: datetime.date) -> bool:
        """Past its expiry date (an item is valid through the whole of ``expires_on``)."""
        return self.expires_on is not None and today > self.expires_on


@dataclass(frozen=True)
class Allowlist:
    """A named list of allowlist items."""

    id: str
    name: str
    items: tuple[AllowlistItem, ...]


@dataclass(frozen=True)
class ImageSelector:
    """Registry, repository and tag glob patterns (``*`` any) and an optional exact digest."""

    registry: str = "*"
    repository: str = "*"
    tag: str = "*"
    digest: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class PolicyMapping:
    """Images matching ``selector`` are evaluated with these policies and allowlists."""

    name: str
    selector: ImageSelector
    policy_ids: tuple[str, ...]
    allowlist_ids: tuple[str, ...]


@dataclass(frozen=True)
class Bundle:
    """A whole policy bundle."""

    id: str
    name: str
    version: str
    policies: tuple[Policy, ...]
    allowlists: tuple[Allowlist, ...] = ()
    mappings: tuple[PolicyMapping, ...] = ()
    allowlisted_images: tuple[ImageSelector, ...] = ()
    denylisted_images: tuple[ImageSelector, ...] = ()
    description: str | None = None
    source: str = "<built-in>"
    """Where the bundle was read from (a path, or ``<built-in>``)."""

    def policy(self, policy_id: str) -> Policy:
        """The policy with this id (the loader guarantees mapped ids exist)."""
        return next(p for p in self.policies if p.id == policy_id)

    def allowlist(self, allowlist_id: str) -> Allowlist:
        """The allowlist with this id."""
        return next(a for a in self.allowlists if a.id == allowlist_id)
