"""rubysec ruby-advisory-db (YAML with ``gem:`` under ``gems/``, ``engine:`` under ``rubies/``).

Gems go to the ``rubygems`` namespace; interpreters (``ruby``, ``jruby``, ``mruby``, ``rbx``…)
to the ``ruby`` namespace, named by engine. The requirements are kept verbatim:
``{"type": "GEM", "patched": [...], "unaffected": [...]}``. Ids are
``RUBYSEC:<gem or engine>/<file stem>``.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import BinaryIO

from hullscan.vuln.db.loaders._common import as_list, yaml_mapping
from hullscan.vuln.db.schema import FIXED, NOT_FIXED
from hullscan.vuln.db.writer import Writer

SOURCE = "rubysec"
_HEAD = re.compile(rb"^(?:gem|engine):\s*\S", re.MULTILINE)
_FIELDS = re.compile(rb"^(?:title|url|cve|ghsa|patched_versions|date):", re.MULTILINE)
_AT_LEAST = re.compile(r">=\s*(\d\S*?)(?:,|$|\s)")
_PESSIMISTIC = re.compile(r"~>\s*(\d\S*?)(?:,|$|\s)")


def recognise(name: str, head: bytes) -> bool:
    """YAML with a ``gem:`` or ``engine:`` line and advisory fields."""
    return _HEAD.search(head) is not None and _FIELDS.search(head) is not None


def _fixed_version(requirement: str) -> str | None:
    found = _AT_LEAST.findall(requirement) or _PESSIMISTIC.findall(requirement)
    return found[-1] if found else None


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load one advisory."""
    advisory = yaml_mapping(stream)
    if advisory.get("gem"):
        namespace, package = "rubygems", str(advisory["gem"])
    elif advisory.get("engine"):
        namespace, package = "ruby", str(advisory["engine"])
    else:
        raise ValueError("advisory without gem or engine")
    vuln_id = f"RUBYSEC:{package}/{PurePosixPath(name).stem}"
    date = advisory.get("date")
    writer.vulnerability(
        vuln_id,
        source=SOURCE,
        summary=advisory.get("title"),
        details=advisory.get("description"),
        published=date,
    )
    writer.data_date(SOURCE, date)
    for field, prefix in (("cve", "CVE-"), ("ghsa", "GHSA-"), ("osvdb", "OSVDB-")):
        value = advisory.get(field)
        if value is not None and str(value).strip():
            writer.alias(vuln_id, prefix + str(value).strip())
    writer.reference(vuln_id, advisory.get("url"))
    related = advisory.get("related")
    if isinstance(related, dict):
        for url in as_list(related.get("url")):
            writer.reference(vuln_id, url)
    for field, kind in (("cvss_v2", "CVSS_V2"), ("cvss_v3", "CVSS_V3"), ("cvss_v4", "CVSS_V4")):
        if advisory.get(field) is not None:
            writer.severity(vuln_id, source=SOURCE, type=kind, score=advisory[field])
    patched = [str(item) for item in as_list(advisory.get("patched_versions"))]
    unaffected = [str(item) for item in as_list(advisory.get("unaffected_versions"))]
    fixed = [version for item in patched if (version := _fixed_version(item))]
    writer.affected(
        vuln_id,
        namespace,
        package,
        ranges=[{"type": "GEM", "patched": patched, "unaffected": unaffected}],
        fixed_versions=fixed,
        fix_state=FIXED if patched else NOT_FIXED,
        source=SOURCE,
    )
