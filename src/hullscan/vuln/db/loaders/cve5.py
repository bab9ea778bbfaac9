"""CVE JSON 5 records (cvelistV5, vulnrichment): CNA and ADP CVSS metrics and the KEV flag.

Severities are stored under ``cve5:cna`` and ``cve5:adp``; an ADP ``kev`` entry becomes a
``kev`` row with source ``cve5`` (the CISA catalogue's own rows keep source ``kev``).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from hullscan.vuln.db.loaders._common import as_list, has_key, is_json_object, json_object
from hullscan.vuln.db.writer import Writer

SOURCE = "cve5"
_METRICS = (
    ("cvssV4_0", "CVSS_V4"),
    ("cvssV3_1", "CVSS_V3"),
    ("cvssV3_0", "CVSS_V3"),
    ("cvssV2_0", "CVSS_V2"),
)


def recognise(name: str, head: bytes) -> bool:
    """An object with ``cveMetadata`` (or ``dataType: CVE_RECORD``)."""
    return is_json_object(head) and (
        has_key(head, b"cveMetadata") or has_key(head, b"dataType", b'"CVE_RECORD')
    )


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load one record."""
    record = json_object(stream)
    metadata = record.get("cveMetadata")
    if not isinstance(metadata, dict) or not metadata.get("cveId"):
        raise ValueError("CVE record without cveMetadata.cveId")
    vuln_id = str(metadata["cveId"])
    containers = record.get("containers")
    containers = containers if isinstance(containers, dict) else {}
    cna = containers.get("cna")
    cna = cna if isinstance(cna, dict) else {}
    updated = metadata.get("dateUpdated")
    rejected = str(metadata.get("state") or "") == "REJECTED"
    description = None
    for item in as_list(cna.get("descriptions") or cna.get("rejectedReasons")):
        if isinstance(item, dict) and str(item.get("lang", "")).startswith("en"):
            description = item.get("value")
            break
    writer.vulnerability(
        vuln_id,
        source=SOURCE,
        summary=cna.get("title"),
        details=description,
        published=metadata.get("datePublished"),
        modified=updated,
        withdrawn=updated if rejected else None,
    )
    writer.data_date(SOURCE, updated)
    for reference in as_list(cna.get("references")):
        if isinstance(reference, dict):
            tags = ",".join(str(tag) for tag in as_list(reference.get("tags"))) or None
            writer.reference(vuln_id, reference.get("url"), tags)
    _metrics(vuln_id, cna, "cve5:cna", writer)
    for adp in as_list(containers.get("adp")):
        if isinstance(adp, dict):
            _metrics(vuln_id, adp, "cve5:adp", writer)


def _metrics(vuln_id: str, container: dict[str, Any], source: str, writer: Writer) -> None:
    for metric in as_list(container.get("metrics")):
        if not isinstance(metric, dict):
            continue
        for key, kind in _METRICS:
            data = metric.get(key)
            if isinstance(data, dict):
                writer.severity(
                    vuln_id,
                    source=source,
                    type=kind,
                    score=data.get("baseScore"),
                    vector=data.get("vectorString"),
                    rating=data.get("baseSeverity"),
                )
        other = metric.get("other")
        if isinstance(other, dict) and other.get("type") == "kev":
            content = other.get("content")
            content = content if isinstance(content, dict) else {}
            writer.kev(vuln_id, source=SOURCE, date_added=content.get("dateAdded"))
