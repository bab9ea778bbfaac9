"""What ``hullscan scan`` prints: findings grouped by severity, or a stable JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hullscan.catalog.package import Catalog, LayerRef
from hullscan.checks.finding import CheckFinding
from hullscan.report.json_text import dumps_indented
from hullscan.vuln.finding import Finding
from hullscan.vuln.severity import Severity
from hullscan.vuln.suppression import CheckSuppression, SuppressionResult

SCHEMA = "hullscan-scan/1"


def finding_document(finding: Finding) -> dict[str, Any]:
    """One finding as JSON (field names are part of the documented schema)."""
    package = finding.package
    layer = package.layer
    return {
        "id": finding.id,
        "aliases": list(finding.aliases),
        "severity": str(finding.severity),
        "severity_source": finding.severity_source,
        "cvss": {"score": finding.cvss_score, "vector": finding.cvss_vector},
        "epss": {"score": finding.epss_score, "percentile": finding.epss_percentile},
        "kev": {"listed": finding.kev, "due_date": finding.kev_due_date},
        "fix": {"state": str(finding.fix_state), "versions": list(finding.fix_versions)},
        "package": {
            "name": package.name, "version": package.version, "type": package.type,
            "purl": package.purl, "locations": list(package.locations),
            "layer": None if layer is None else {"index": layer.index, "diff_id": layer.diff_id,
                                                 "created_by": layer.created_by},
        },
        "namespace": finding.namespace,
        "matched_name": finding.matched_name,
        "data_source": finding.data_source,
        "summary": finding.summary,
        "published": finding.published,
    }


def check_document(finding: CheckFinding) -> dict[str, Any]:
    """One check finding as JSON."""
    def layer(ref: LayerRef | None) -> dict[str, Any] | None:
        return None if ref is None else {"index": ref.index, "diff_id": ref.diff_id,
                                         "created_by": ref.created_by}

    return {"rule_id": finding.rule_id, "title": finding.title,
            "severity": str(finding.severity), "category": str(finding.category),
            "layer": layer(finding.layer), "path": finding.path,
            "config_key": finding.config_key, "line": finding.line,
            "deleted": finding.deleted, "deleted_by": layer(finding.deleted_by),
            "evidence": finding.evidence, "rationale": finding.rationale,
            "remediation": finding.remediation}


def scan_document(catalog: Catalog, result: SuppressionResult, database: dict[str, Any],
                  warnings: Sequence[str], checks: Sequence[CheckFinding] = (),
                  suppressed_checks: Sequence[CheckSuppression] = ()) -> dict[str, Any]:
    """The whole ``scan --format json`` document."""
    image = catalog.image
    distro = catalog.distro
    return {
        "schema": SCHEMA,
        "image": {
            "reference": image.reference, "name": image.name,
            "manifest_digest": image.manifest_digest, "image_id": image.image_id,
            "platform": str(image.platform) if image.platform else None,
            "distro": None if distro is None else {
                "id": distro.id, "version_id": distro.version_id,
                "end_of_life": distro.end_of_life, "support_ends": distro.support_ends},
        },
        "database": database,
        "packages": len(catalog.packages),
        "summary": {str(s): sum(1 for f in result.kept if f.severity is s)
                    for s in sorted(Severity, reverse=True)},
        "findings": [finding_document(f) for f in sort_findings(result.kept)],
        "suppressed": [{**finding_document(s.finding), "suppressed": {"reason": s.reason,
                                                                       "by": s.by}}
                       for s in result.suppressed],
        "checks": [check_document(f) for f in checks],
        "suppressed_checks": [{**check_document(s.finding),
                               "suppressed": {"reason": s.reason, "by": s.by}}
                              for s in suppressed_checks],
        "expired_rules": [{"rule": r.origin, "reason": r.reason,
                           "expired": r.expires.isoformat() if r.expires else None}
                          for r in result.expired],
        "warnings": list(warnings),
    }


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Worst first; then exploited, likely exploited, then by package and id."""
    return sorted(findings, key=lambda f: (-f.severity, not f.kev, -(f.epss_score or 0.0),
                                           f.package.name, f.id))


def render_json(document: dict[str, Any]) -> str:
    """Pretty JSON with a trailing newline."""
    return dumps_indented(document) + "\n"
