"""The report bodies Harbor reads: ``HarborVulnerabilityReport`` (vulnerability report 1.1
and the Harbor 1.0 form, the same schema) and ``HarborSbomReport`` (SBOM report 1.0).

Both are built from the digest's stored inventory when Harbor asks, vulnerabilities matched
against the current database, so a report asked again after a database update is current
without pulling the image again.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hullscan import __version__
from hullscan.report.sbom import cyclonedx_json, spdx
from hullscan.service.harbor import media
from hullscan.service.inventory import Inventory
from hullscan.vuln.finding import Finding
from hullscan.vuln.severity import Severity

SCANNER: Mapping[str, str] = {"name": "hullscan", "vendor": "hullscan",
                              "version": __version__}

_CVSS2_RE = re.compile(r"^(?:\(?AV:[LAN]/AC:[HML]/Au:[MSN]/C:[NPC]/I:[NPC]/A:[NPC])")


@dataclass(frozen=True)
class ArtifactInfo:
    """The artifact a report is about, as the scan request named it."""

    repository: str
    digest: str
    tag: str | None
    mime_type: str | None

    def document(self) -> dict[str, str]:
        """The spec's ``Artifact`` object."""
        document = {"repository": self.repository, "digest": self.digest}
        if self.tag:
            document["tag"] = self.tag
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document


def timestamp(moment: datetime.datetime | None = None) -> str:
    """RFC 3339 UTC with a ``Z``."""
    moment = moment or datetime.datetime.now(datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def vulnerability_report(artifact: ArtifactInfo, inventory: Inventory,
                         findings: Sequence[Finding]) -> dict[str, Any]:
    """``HarborVulnerabilityReport``; ``severity`` is the highest (Unknown for none)."""
    highest = max((f.severity for f in findings), default=Severity.UNKNOWN)
    mime_type = artifact.mime_type or inventory.catalog.image.manifest_media_type
    return {
        "generated_at": timestamp(),
        "artifact": ArtifactInfo(artifact.repository, artifact.digest, artifact.tag,
                                 mime_type).document(),
        "scanner": dict(SCANNER),
        "severity": str(highest),
        "vulnerabilities": [vulnerability_item(f) for f in findings],
    }


def vulnerability_item(finding: Finding) -> dict[str, Any]:
    """One ``VulnerabilityItem``; hullscan's extra facts go to ``vendor_attributes``."""
    package = finding.package
    item: dict[str, Any] = {
        "id": finding.id,
        "package": package.name,
        "version": package.version,
        "fix_version": ", ".join(finding.fix_versions),
        "severity": str(finding.severity),
        "description": finding.summary or "",
        "links": links(finding),
    }
    cvss = preferred_cvss(finding)
    if cvss:
        item["preferred_cvss"] = cvss
    attributes: dict[str, Any] = {
        "aliases": list(finding.aliases),
        "package_type": package.type,
        "purl": package.purl,
        "locations": list(package.locations),
        "fix_state": str(finding.fix_state),
        "severity_source": finding.severity_source,
        "data_source": finding.data_source,
        "namespace": finding.namespace,
        "matched_name": finding.matched_name,
    }
    if package.layer is not None:
        attributes["layer"] = {"index": package.layer.index, "diff_id": package.layer.diff_id,
                               "created_by": package.layer.created_by}
    if finding.cvss_vector and finding.cvss_vector.startswith("CVSS:4"):
        attributes["cvss_v4"] = {"score": finding.cvss_score, "vector": finding.cvss_vector}
    if finding.epss_score is not None:
        attributes["epss"] = {"score": finding.epss_score,
                              "percentile": finding.epss_percentile}
    if finding.kev:
        attributes["kev"] = {"due_date": finding.kev_due_date}
    if finding.published:
        attributes["published"] = finding.published
    item["vendor_attributes"] = attributes
    return item


def preferred_cvss(finding: Finding) -> dict[str, Any]:
    """``CVSSDetails`` from the finding's vector: v3 or v2 (a v4 vector has no field)."""
    vector = finding.cvss_vector
    if not vector:
        return {}
    if vector.startswith("CVSS:3"):
        details: dict[str, Any] = {"vector_v3": vector}
        if finding.cvss_score is not None:
            details["score_v3"] = finding.cvss_score
        return details
    if _CVSS2_RE.match(vector):
        details = {"vector_v2": vector}
        if finding.cvss_score is not None:
            details["score_v2"] = finding.cvss_score
        return details
    return {}


def links(finding: Finding) -> list[str]:
    """Where to read about the flaw: NVD for a CVE, GitHub for a GHSA, OSV for the rest."""
    result = []
    for identifier in (finding.id, *finding.aliases):
        if identifier.startswith("CVE-"):
            result.append(f"https://nvd.nist.gov/vuln/detail/{identifier}")
        elif identifier.startswith("GHSA-"):
            result.append(f"https://github.com/advisories/{identifier}")
        elif re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", identifier):
            result.append(f"https://osv.dev/vulnerability/{identifier}")
    return list(dict.fromkeys(result))


def sbom_report(artifact: ArtifactInfo, inventory: Inventory,
                sbom_media_type: str) -> dict[str, Any]:
    """``HarborSbomReport`` holding an SPDX 2.3 or CycloneDX 1.6 JSON document."""
    catalog = inventory.catalog
    if sbom_media_type == media.SPDX_JSON:
        document, spec_version = json.loads(spdx.render_json(catalog)), "SPDX-2.3"
    else:
        document, spec_version = json.loads(cyclonedx_json.render(catalog)), "1.6"
    mime_type = artifact.mime_type or catalog.image.manifest_media_type
    return {
        "generated_at": timestamp(),
        "artifact": ArtifactInfo(artifact.repository, artifact.digest, artifact.tag,
                                 mime_type).document(),
        "scanner": dict(SCANNER),
        "vendor_attributes": {"spec-version": spec_version, "created-by": "hullscan",
                              "packages": len(catalog.packages)},
        "media_type": sbom_media_type,
        "sbom": document,
    }
