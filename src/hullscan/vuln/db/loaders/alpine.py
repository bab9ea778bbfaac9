"""Alpine secdb JSON (``distroversion``, ``reponame``, ``packages[].pkg.secfixes``).

``secfixes`` maps a fixed version to the CVEs it fixes: versions below it are affected. The
version ``0`` is Alpine's way of saying the package was *never* affected by those CVEs (the issue
applies to other builds or was fixed upstream before packaging); such rows are stored with
``fix_state`` ``not-affected`` and no ranges. One record is one (package, version, CVE) tuple.
"""

from __future__ import annotations

from typing import BinaryIO

from hullscan.vuln.db.loaders._common import as_list, has_key, is_json_object, json_object
from hullscan.vuln.db.namespaces import distro_namespace
from hullscan.vuln.db.schema import FIXED, NOT_AFFECTED
from hullscan.vuln.db.writer import Writer

SOURCE = "alpine-secdb"


def recognise(name: str, head: bytes) -> bool:
    """An object with ``distroversion`` and ``packages``."""
    return is_json_object(head) and has_key(head, b"distroversion") and has_key(head, b"packages")


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load one secdb branch/repository file."""
    document = json_object(stream)
    namespace = distro_namespace("alpine", str(document.get("distroversion") or ""))
    for entry in as_list(document.get("packages")):
        package = entry.get("pkg") if isinstance(entry, dict) else None
        if not isinstance(package, dict) or not package.get("name"):
            continue
        secfixes = package.get("secfixes")
        if not isinstance(secfixes, dict):
            continue
        for version, ids in secfixes.items():
            for item in as_list(ids):
                tokens = str(item).split()
                if not tokens:
                    continue
                vuln_id = tokens[0]
                writer.vulnerability(vuln_id, source=SOURCE, count=False)
                for alias in tokens[1:]:
                    writer.alias(vuln_id, alias)
                if str(version).strip() == "0":
                    writer.affected(
                        vuln_id,
                        namespace,
                        str(package["name"]),
                        ranges=[],
                        fix_state=NOT_AFFECTED,
                        source=SOURCE,
                    )
                else:
                    writer.affected(
                        vuln_id,
                        namespace,
                        str(package["name"]),
                        ranges=[
                            {
                                "type": "ECOSYSTEM",
                                "events": [{"introduced": "0"}, {"fixed": str(version)}],
                            }
                        ],
                        fixed_versions=[version],
                        fix_state=FIXED,
                        source=SOURCE,
                    )
                writer.count(SOURCE)
