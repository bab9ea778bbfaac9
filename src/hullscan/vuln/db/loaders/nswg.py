"""Node.js Security WG npm advisories (``module_name``, ``vulnerable_versions``…).

The npm range is kept verbatim: ``{"type": "NPM_RANGE", "range": vulnerable_versions,
"patched": patched_versions}``. Ids are ``NSWG-ECO-<id>``, the names the advisories go by.
Both the per-advisory files (``<id>.json``) and the aggregate ``index.json`` (an object of
advisories keyed by id) are read; an advisory seen twice is loaded once.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from hullscan.vuln.db.loaders._common import as_list, has_key, is_json_object, json_object
from hullscan.vuln.db.schema import FIXED, NOT_FIXED
from hullscan.vuln.db.writer import Writer

SOURCE = "nswg"
_LOWER_BOUND = re.compile(r">=?\s*v?(\d[^\s|<>=,]*)")


def recognise(name: str, head: bytes) -> bool:
    """An object (or an object of objects) with ``module_name`` and ``vulnerable_versions``."""
    return (
        is_json_object(head)
        and has_key(head, b"module_name", b'"')
        and has_key(head, b"vulnerable_versions")
    )


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load one advisory, or every advisory of an index."""
    document = json_object(stream)
    if "module_name" in document:
        _advisory(document, writer)
        return
    for advisory in document.values():
        if isinstance(advisory, dict) and "module_name" in advisory:
            _advisory(advisory, writer)


def _advisory(advisory: dict[str, Any], writer: Writer) -> None:
    vuln_id = f"NSWG-ECO-{advisory['id']}"
    if not writer.first_time(vuln_id):
        return
    modified = advisory.get("updated_at")
    writer.vulnerability(
        vuln_id,
        source=SOURCE,
        summary=advisory.get("title"),
        details=advisory.get("overview"),
        published=advisory.get("publish_date") or advisory.get("created_at"),
        modified=modified,
    )
    writer.data_date(SOURCE, modified)
    for cve in as_list(advisory.get("cves")):
        writer.alias(vuln_id, cve)
    for url in as_list(advisory.get("references")):
        writer.reference(vuln_id, url)
    vector = advisory.get("cvss_vector")
    score = advisory.get("cvss_score")
    if vector or score is not None:
        kind = "CVSS_V2" if vector and not str(vector).startswith("CVSS:3") else "CVSS_V3"
        writer.severity(vuln_id, source=SOURCE, type=kind, score=score, vector=vector)
    vulnerable = str(advisory.get("vulnerable_versions") or "").strip() or "*"
    patched = str(advisory.get("patched_versions") or "").strip()
    has_fix = bool(patched) and patched not in ("<0.0.0", "<0.0.0-0")
    writer.affected(
        vuln_id,
        "npm",
        str(advisory["module_name"]),
        ranges=[{"type": "NPM_RANGE", "range": vulnerable, "patched": patched or None}],
        fixed_versions=_LOWER_BOUND.findall(patched) if has_fix else [],
        fix_state=FIXED if has_fix else NOT_FIXED,
        source=SOURCE,
    )
