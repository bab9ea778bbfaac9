"""NVD CVE API 2.0 response pages (``vulnerabilities[].cve``).

CVSS metrics become severities: source ``nvd`` for the NVD's own (``Primary``) scores and
``nvd:<submitter>`` for secondary ones. CPE match criteria go to ``cpe_match``, flattened (the
AND/OR node structure of the configurations is not kept).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from hullscan.vuln.db.loaders._common import as_list, has_key, is_json_object, json_object
from hullscan.vuln.db.writer import Writer

SOURCE = "nvd"
_METRICS = (
    ("cvssMetricV40", "CVSS_V4"),
    ("cvssMetricV31", "CVSS_V3"),
    ("cvssMetricV30", "CVSS_V3"),
    ("cvssMetricV2", "CVSS_V2"),
)


def recognise(name: str, head: bytes) -> bool:
    """An object with ``format: NVD_CVE`` or ``resultsPerPage`` and ``vulnerabilities``."""
    return (
        is_json_object(head)
        and (has_key(head, b"format", b'"NVD_CVE') or has_key(head, b"resultsPerPage"))
        and has_key(head, b"vulnerabilities")
    )


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load one page."""
    page = json_object(stream)
    writer.data_date(SOURCE, page.get("timestamp"))
    for item in as_list(page.get("vulnerabilities")):
        cve = item.get("cve") if isinstance(item, dict) else None
        if isinstance(cve, dict) and cve.get("id"):
            _cve(cve, writer)


def _english(descriptions: object) -> str | None:
    for description in as_list(descriptions):
        if isinstance(description, dict) and description.get("lang") in ("en", "en-US"):
            return str(description.get("value") or "") or None
    return None


def _cve(cve: dict[str, Any], writer: Writer) -> None:
    vuln_id = str(cve["id"])
    rejected = str(cve.get("vulnStatus") or "") == "Rejected"
    writer.vulnerability(
        vuln_id,
        source=SOURCE,
        details=_english(cve.get("descriptions")),
        published=cve.get("published"),
        modified=cve.get("lastModified"),
        withdrawn=cve.get("lastModified") if rejected else None,
    )
    metrics = cve.get("metrics")
    if isinstance(metrics, dict):
        for key, kind in _METRICS:
            for metric in as_list(metrics.get(key)):
                if not isinstance(metric, dict) or not isinstance(metric.get("cvssData"), dict):
                    continue
                data = metric["cvssData"]
                primary = metric.get("type") == "Primary"
                writer.severity(
                    vuln_id,
                    source=SOURCE if primary else f"{SOURCE}:{metric.get('source')}",
                    type=kind,
                    score=data.get("baseScore"),
                    vector=data.get("vectorString"),
                    rating=data.get("baseSeverity") or metric.get("baseSeverity"),
                )
    for reference in as_list(cve.get("references")):
        if isinstance(reference, dict):
            tags = ",".join(str(tag) for tag in as_list(reference.get("tags"))) or None
            writer.reference(vuln_id, reference.get("url"), tags)
    for configuration in as_list(cve.get("configurations")):
        for node in as_list(
            configuration.get("nodes") if isinstance(configuration, dict) else None
        ):
            for match in as_list(node.get("cpeMatch") if isinstance(node, dict) else None):
                if isinstance(match, dict) and match.get("criteria"):
                    writer.cpe_match(
                        vuln_id,
                        str(match["criteria"]),
                        vulnerable=bool(match.get("vulnerable", True)),
                        source=SOURCE,
                        start_including=match.get("versionStartIncluding"),
                        start_excluding=match.get("versionStartExcluding"),
                        end_including=match.get("versionEndIncluding"),
                        end_excluding=match.get("versionEndExcluding"),
                    )
