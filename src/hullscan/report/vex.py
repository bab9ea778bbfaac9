"""CycloneDX 1.6 JSON with ``vulnerabilities``: the SBOM of :func:`build_bom` plus VEX.

One vulnerability entry per finding (id and package), affecting the package's component
(matched by purl). ``analysis.state`` is ``exploitable`` for every kept finding: hullscan
does not judge reachability. A finding whose policy fires are all allowlisted stays
``exploitable`` (an allowlist accepts a risk, it does not show the image is unaffected), with
response ``will_not_fix`` and ``detail`` naming the allowlist item, reason and expiry. Findings
with a fix carry response ``update``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.impact_analysis import ImpactAnalysisResponse, ImpactAnalysisState
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat

from hullscan.policy.result import TriggeredRule
from hullscan.report.links import fully_allowlisted, link
from hullscan.report.outcome import ScanOutcome
from hullscan.report.sbom.cyclonedx import (
    JSON_MEDIA_TYPE,
    PREFIX,
    SCHEMA_VERSION,
    build_bom,
    package_ref,
)
from hullscan.vuln.finding import Finding, FixState
from hullscan.vuln.severity import Severity

MEDIA_TYPE = JSON_MEDIA_TYPE

SEVERITIES = {Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
              Severity.HIGH: VulnerabilitySeverity.HIGH,
              Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
              Severity.LOW: VulnerabilitySeverity.LOW,
              Severity.NEGLIGIBLE: VulnerabilitySeverity.INFO,
              Severity.UNKNOWN: VulnerabilitySeverity.UNKNOWN}
METHODS = {"CVSS:4": VulnerabilityScoreSource.CVSS_V4,
           "CVSS:3.1": VulnerabilityScoreSource.CVSS_V3_1,
           "CVSS:3": VulnerabilityScoreSource.CVSS_V3}
"""CVSS vector prefix -> rating method (anything else is CVSS v2)."""
SOURCES = {"CVE-": ("NVD", "https://nvd.nist.gov/vuln/detail/"),
           "GHSA-": ("GitHub", "https://github.com/advisories/"),
           "GO-": ("Go", "https://pkg.go.dev/vuln/"),
           "PYSEC-": ("PyPA", "https://osv.dev/vulnerability/"),
           "RUSTSEC-": ("RustSec", "https://rustsec.org/advisories/")}
"""Id prefix -> the database that assigns such ids, and its page URL prefix."""


def _source(vulnerability_id: str, data_source: str) -> VulnerabilitySource:
    for prefix, (name, url) in SOURCES.items():
        if vulnerability_id.startswith(prefix):
            return VulnerabilitySource(name=name, url=XsUri(url + vulnerability_id))
    return VulnerabilitySource(name=data_source.split(" ", 1)[0] or "hullscan")


def _ratings(finding: Finding) -> list[VulnerabilityRating]:
    if finding.cvss_score is None and finding.cvss_vector is None:
        return [VulnerabilityRating(severity=SEVERITIES[finding.severity],
                                    source=VulnerabilitySource(name=finding.severity_source))]
    vector = finding.cvss_vector or ""
    method = next((m for prefix, m in METHODS.items() if vector.startswith(prefix)),
                  VulnerabilityScoreSource.CVSS_V2 if vector else None)
    return [VulnerabilityRating(
        source=VulnerabilitySource(name=finding.severity_source),
        score=None if finding.cvss_score is None else Decimal(str(finding.cvss_score)),
        severity=SEVERITIES[finding.severity], method=method, vector=vector or None)]


def _analysis(finding: Finding, rules: Sequence[TriggeredRule]) -> VulnerabilityAnalysis:
    responses = []
    details = []
    if finding.fix_versions:
        responses.append(ImpactAnalysisResponse.UPDATE)
    elif finding.fix_state is FixState.WONT_FIX:
        responses.append(ImpactAnalysisResponse.CAN_NOT_FIX)
    if fully_allowlisted(rules):
        responses.append(ImpactAnalysisResponse.WILL_NOT_FIX)
        for rule in rules:
            match = rule.allowlisted
            assert match is not None
            expires = f", expires {match.item.expires_on}" if match.item.expires_on else ""
            details.append(f"accepted risk: {match.item.reason} (allowlist "
                           f"{match.allowlist_id} item {match.item.id}{expires})")
    for rule in rules:
        if rule.allowlisted is None:
            details.append(f"policy {rule.policy_id} rule {rule.rule_id}: {rule.action}")
        if rule.expired_allowlist is not None:
            item = rule.expired_allowlist.item
            details.append(f"allowlist {rule.expired_allowlist.allowlist_id} item {item.id} "
                           f"expired on {item.expires_on}, no longer suppresses")
    return VulnerabilityAnalysis(state=ImpactAnalysisState.EXPLOITABLE, responses=responses,
                                 detail="; ".join(dict.fromkeys(details)) or None)


def _published(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _properties(finding: Finding) -> list[Property]:
    layer = finding.package.layer
    facts = [("kev", str(finding.kev).lower()), ("kev:due_date", finding.kev_due_date),
             ("epss:score", None if finding.epss_score is None else str(finding.epss_score)),
             ("epss:percentile",
              None if finding.epss_percentile is None else str(finding.epss_percentile)),
             ("fix:state", str(finding.fix_state)), ("data_source", finding.data_source),
             ("namespace", finding.namespace),
             ("layer:index", None if layer is None else str(layer.index))]
    return [Property(name=PREFIX + key, value=value) for key, value in facts
            if value is not None]


def _vulnerability(finding: Finding, bom_ref: str | None,
                   rules: Sequence[TriggeredRule]) -> Vulnerability:
    fix = ", ".join(finding.fix_versions)
    return Vulnerability(
        bom_ref=f"vuln:{finding.id}:{bom_ref or finding.package.purl}",
        id=finding.id, source=_source(finding.id, finding.data_source),
        references=[VulnerabilityReference(id=alias, source=_source(alias, finding.data_source))
                    for alias in finding.aliases],
        ratings=_ratings(finding), description=finding.summary,
        recommendation=f"Upgrade {finding.package.name} to {fix}" if fix else None,
        published=_published(finding.published),
        analysis=_analysis(finding, rules),
        affects=[BomTarget(ref=bom_ref)] if bom_ref else [],
        properties=_properties(finding))


def build_vex_bom(outcome: ScanOutcome) -> Bom:
    """The catalog's BOM with a vulnerability for every kept finding."""
    bom = build_bom(outcome.catalog)
    # The same refs build_bom gives the package components.
    by_purl: dict[str, str] = {}
    by_name: dict[tuple[str, str, str], str] = {}
    for position, package in enumerate(outcome.catalog.packages):
        ref = f"pkg:{package_ref(position, package)}"
        by_purl.setdefault(package.purl, ref)
        by_name.setdefault((package.type, package.name, package.version), ref)
    links = link(outcome.evaluation, outcome.findings, outcome.checks)
    for position, finding in enumerate(outcome.findings):
        affected = finding.package
        bom_ref = by_purl.get(affected.purl) or by_name.get(
            (affected.type, affected.name, affected.version))
        bom.vulnerabilities.add(_vulnerability(finding, bom_ref, links.for_finding(position)))
    return bom


def render(outcome: ScanOutcome) -> str:
    """CycloneDX 1.6 JSON text (SBOM and VEX in one document)."""
    return make_outputter(build_vex_bom(outcome), OutputFormat.JSON,
                          SCHEMA_VERSION).output_as_string(indent=2) + "\n"
