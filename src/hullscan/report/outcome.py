"""What every report of a scan is made from: the results, and the policy verdict if any."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hullscan.catalog.package import Catalog
from hullscan.checks.finding import CheckFinding
from hullscan.policy.result import Evaluation
from hullscan.vuln.finding import Finding


@dataclass(frozen=True)
class ScanOutcome:
    """One scan, ready to report in any format."""

    document: Mapping[str, Any] = field(hash=False)
    """The ``hullscan-scan/1`` JSON document (:func:`hullscan.report.scan_report.scan_document`);
    image metadata in it is already redacted."""
    catalog: Catalog
    """The (redacted) catalog."""
    findings: tuple[Finding, ...]
    """Vulnerability findings kept after suppression."""
    checks: tuple[CheckFinding, ...]
    """Check findings kept after suppression (evidence redacted)."""
    evaluation: Evaluation | None = None
    """The policy verdict; None when no policy was evaluated."""
    dockerfile: Path | None = None
    """The Dockerfile given with ``--dockerfile`` (SARIF locations point at its lines)."""
