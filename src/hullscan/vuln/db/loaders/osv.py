"""OSV JSON records (any ecosystem), one record per document.

Tolerates the quirks of real exports: PyPI ``GIT`` ranges with odd commit ids (kept verbatim;
their events never become fixed versions), Go's zero ``modified``/``published`` timestamps
(stored as unknown), records without ``affected``. Withdrawn records are stored with their
``withdrawn`` time so the matcher can skip them.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from hullscan.vuln.db.loaders._common import as_list, has_key, is_json_object, json_object
from hullscan.vuln.db.loaders._common import zero_date as _timestamp
from hullscan.vuln.db.namespaces import osv_namespace
from hullscan.vuln.db.schema import FIXED, NOT_FIXED, UNKNOWN
from hullscan.vuln.db.writer import Writer

# Red Hat family advisories put the rating first in the summary: "Important: firefox update".
_RATED_SUMMARY = re.compile(r"^(Critical|Important|Moderate|Low):", re.IGNORECASE)


def recognise(name: str, head: bytes) -> bool:
    """An object with a string ``id`` and ``affected``/``modified``/``withdrawn``."""
    return (
        is_json_object(head)
        and has_key(head, b"id", b'"')
        and (
            has_key(head, b"affected", b"[")
            or has_key(head, b"modified", b'"')
            or has_key(head, b"withdrawn", b'"')
        )
        and not has_key(head, b"cveMetadata")
        and not has_key(head, b"vulnerabilities")
    )


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load one OSV record."""
    load_record(json_object(stream), writer)


def _source(record: dict[str, Any], vuln_id: str) -> str:
    for entry in as_list(record.get("affected")):
        if isinstance(entry, dict):
            package = entry.get("package")
            if isinstance(package, dict) and package.get("ecosystem"):
                return "osv:" + str(package["ecosystem"]).split(":")[0]
    return "osv:" + vuln_id.split("-")[0]


def load_record(record: dict[str, Any], writer: Writer) -> None:
    """Write one parsed OSV record."""
    vuln_id = record.get("id")
    if not isinstance(vuln_id, str) or not vuln_id:
        raise ValueError("OSV record without an id")
    source = _source(record, vuln_id)
    modified = _timestamp(record.get("modified"))
    summary = record.get("summary")
    writer.vulnerability(
        vuln_id,
        source=source,
        summary=summary,
        details=record.get("details"),
        published=_timestamp(record.get("published")),
        modified=modified,
        withdrawn=_timestamp(record.get("withdrawn")),
    )
    writer.data_date(source, modified)
    for alias in as_list(record.get("aliases")):
        writer.alias(vuln_id, alias)
    for related in as_list(record.get("related")):
        writer.alias(vuln_id, related, "related")
    for upstream in as_list(record.get("upstream")):
        writer.alias(vuln_id, upstream, "upstream")
    for severity in as_list(record.get("severity")):
        if isinstance(severity, dict) and severity.get("score"):
            writer.severity(
                vuln_id,
                source=source,
                type=str(severity.get("type") or "UNKNOWN"),
                vector=severity["score"],
            )
    specific = record.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        writer.severity(vuln_id, source=source, type="rating", rating=specific["severity"])
    if isinstance(summary, str):
        rated = _RATED_SUMMARY.match(summary)
        if rated:
            writer.severity(vuln_id, source=source, type="rating", rating=rated.group(1))
    for reference in as_list(record.get("references")):
        if isinstance(reference, dict):
            writer.reference(vuln_id, reference.get("url"), reference.get("type"))
    for entry in as_list(record.get("affected")):
        if isinstance(entry, dict):
            _affected(vuln_id, entry, source, writer)


def _affected(vuln_id: str, entry: dict[str, Any], source: str, writer: Writer) -> None:
    package = entry.get("package")
    if not isinstance(package, dict) or not package.get("name"):
        return
    ecosystem = str(package.get("ecosystem") or "")
    namespace = osv_namespace(ecosystem)
    if namespace is None:
        writer.unknown_ecosystems[ecosystem] += 1
        return
    ranges = [item for item in as_list(entry.get("ranges")) if isinstance(item, dict)]
    versions = [str(version) for version in as_list(entry.get("versions"))]
    fixed: list[str] = []
    for item in ranges:
        if item.get("type") == "GIT":
            continue
        for event in as_list(item.get("events")):
            if isinstance(event, dict) and event.get("fixed"):
                fixed.append(str(event["fixed"]))
    if fixed:
        state = FIXED
    elif ranges or versions:
        state = NOT_FIXED
    else:
        state = UNKNOWN
    writer.affected(
        vuln_id,
        namespace,
        str(package["name"]),
        ranges=ranges,
        versions=versions,
        fixed_versions=fixed,
        fix_state=state,
        source=source,
    )
