"""What every check reports: a stable rule id, where it was found and what to do about it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hullscan.catalog.package import LayerRef
from hullscan.vuln.severity import Severity


class Category(enum.StrEnum):
    """The scanner a finding belongs to (``scan --scanners``)."""

    CONFIG = "config"
    SECRET = "secret"
    FILE = "file"
    LICENSE = "license"


@dataclass(frozen=True)
class CheckFinding:
    """One problem found by a check."""

    rule_id: str
    """Stable id (``HS-CFG-001``, ``HS-SEC-AWS-ACCESS-KEY``, ``HS-FILE-SETUID``)."""
    title: str
    severity: Severity
    category: Category
    rationale: str
    """Why it matters, in a sentence."""
    remediation: str
    """What to do, in a sentence."""
    layer: LayerRef | None = None
    """The layer (and build step) where it was found; None for image-wide facts."""
    path: str | None = None
    """The file, without leading slash, when the finding is in a file."""
    config_key: str | None = None
    """Where in the image config (``Env[PASSWORD]``, ``history[3].created_by``, ``User``)."""
    line: int | None = None
    deleted_by: LayerRef | None = None
    """A later layer deleted or replaced the file: still retrievable from ``layer``."""
    evidence: str | None = None
    """A redacted excerpt (never a secret's value)."""

    @property
    def deleted(self) -> bool:
        """True when the finding is only retrievable from an earlier layer."""
        return self.deleted_by is not None
