"""A vulnerability finding: one flaw in one package, with everything needed to act on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hullscan.catalog.package import LayerRef
from hullscan.vuln.severity import Severity


class FixState(enum.StrEnum):
    """Whether a fix exists for this package's release."""

    FIXED = "fixed"
    NOT_FIXED = "not-fixed"
    WONT_FIX = "wont-fix"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AffectedPackage:
    """The package a finding is about, as the catalog reported it."""

    name: str
    version: str
    type: str
    purl: str
    locations: tuple[str, ...]
    layer: LayerRef | None


@dataclass(frozen=True)
class Finding:
    """One flaw (all its aliases merged) in one package."""

    id: str
    """The primary id: the CVE when there is one, else the advisory's own id."""
    aliases: tuple[str, ...]
    """Every other id of the same flaw (GHSA, PYSEC, GO-, RUSTSEC, DSA/DLA, ALSA, ...)."""
    package: AffectedPackage
    severity: Severity
    severity_source: str
    """Where the severity came from (the distro, the advisory, NVD, a CVSS vector)."""
    cvss_score: float | None
    cvss_vector: str | None
    epss_score: float | None
    epss_percentile: float | None
    kev: bool
    kev_due_date: str | None
    fix_versions: tuple[str, ...]
    fix_state: FixState
    data_source: str
    """The feed and record that matched (``osv:PyPI PYSEC-2023-74``)."""
    namespace: str
    """The vulnerability namespace matched (``debian:12``, ``pypi``)."""
    matched_name: str
    """The package name as matched (a Debian source package, a normalised PyPI name)."""
    summary: str | None = None
    published: str | None = None
