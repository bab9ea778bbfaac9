"""The CISA Known Exploited Vulnerabilities catalogue (JSON)."""

from __future__ import annotations

from typing import BinaryIO

from hullscan.vuln.db.loaders._common import as_list, has_key, is_json_object, json_object
from hullscan.vuln.db.writer import Writer

SOURCE = "kev"


def recognise(name: str, head: bytes) -> bool:
    """An object with ``catalogVersion`` and ``vulnerabilities``."""
    return (
        is_json_object(head)
        and has_key(head, b"catalogVersion")
        and has_key(head, b"vulnerabilities", b"[")
    )


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load the catalogue."""
    catalogue = json_object(stream)
    writer.data_date(SOURCE, catalogue.get("dateReleased") or catalogue.get("catalogVersion"))
    for entry in as_list(catalogue.get("vulnerabilities")):
        if not isinstance(entry, dict) or not entry.get("cveID"):
            continue
        writer.kev(
            str(entry["cveID"]).strip(),
            source=SOURCE,
            date_added=entry.get("dateAdded"),
            due_date=entry.get("dueDate"),
            ransomware=entry.get("knownRansomwareCampaignUse"),
            vendor=entry.get("vendorProject"),
            product=entry.get("product"),
            name=entry.get("vulnerabilityName"),
        )
        writer.count(SOURCE)
