"""FriendsOfPHP security advisories (YAML; ``reference: composer://vendor/name``).

Each branch's ``versions`` is one Composer constraint (items ANDed); branches are ORed:
``{"type": "COMPOSER", "constraints": [">=2.0.0,<2.0.5", "<1.2"]}``. A branch with a ``<X``
upper bound is fixed in ``X``. Ids are ``FRIENDSOFPHP:<vendor>/<name>/<file stem>``.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import BinaryIO

from hullscan.vuln.db.loaders._common import as_list, is_cve, yaml_mapping
from hullscan.vuln.db.schema import FIXED, NOT_FIXED
from hullscan.vuln.db.writer import Writer

SOURCE = "friendsofphp"
_HEAD = re.compile(rb"^reference:\s*['\"]?composer://", re.MULTILINE)
_UPPER = re.compile(r"^<\s*v?(\d\S*)$")


def recognise(name: str, head: bytes) -> bool:
    """YAML with a ``reference: composer://…`` line."""
    return _HEAD.search(head) is not None and b"branches:" in head


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load one advisory."""
    advisory = yaml_mapping(stream)
    reference = str(advisory.get("reference") or "")
    package = reference.split("://", 1)[1].strip("/") if "://" in reference else ""
    if not package:
        raise ValueError("advisory without a composer:// reference")
    stem = PurePosixPath(name).stem
    vuln_id = f"FRIENDSOFPHP:{package}/{stem}"
    branches = advisory.get("branches")
    constraints: list[str] = []
    fixed: list[str] = []
    times: list[str] = []
    all_fixed = True
    if isinstance(branches, dict):
        for branch in branches.values():
            if not isinstance(branch, dict):
                continue
            items = [str(item).strip() for item in as_list(branch.get("versions"))]
            items = [item for item in items if item]
            if not items:
                continue
            constraints.append(",".join(items))
            uppers = [match.group(1) for item in items if (match := _UPPER.match(item))]
            fixed.extend(uppers)
            all_fixed = all_fixed and bool(uppers)
            if branch.get("time") is not None:
                times.append(str(branch["time"]))
    writer.vulnerability(
        vuln_id,
        source=SOURCE,
        summary=advisory.get("title"),
        published=min(times) if times else None,
    )
    cve = str(advisory.get("cve") or "").strip()
    if cve and is_cve(cve):
        writer.alias(vuln_id, cve.upper())
    writer.reference(vuln_id, advisory.get("link"))
    writer.affected(
        vuln_id,
        "packagist",
        package,
        ranges=[{"type": "COMPOSER", "constraints": constraints}],
        fixed_versions=fixed,
        fix_state=FIXED if constraints and all_fixed else NOT_FIXED,
        source=SOURCE,
    )
