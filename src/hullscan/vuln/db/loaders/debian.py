"""The Debian security tracker JSON: ``{source_pkg: {CVE: {releases: {codename: {...}}}}}``.

Per release: ``status`` ``resolved`` -> ``fixed`` (below ``fixed_version``; a ``fixed_version``
of ``0`` means never affected -> ``not-affected``), ``open`` -> ``not-fixed``,
``undetermined`` -> ``unknown``. An open issue with urgency ``end-of-life`` or a ``nodsa``
mark (reason ``ignored`` or none) -> ``wont-fix``; ``nodsa_reason: postponed`` stays
``not-fixed`` (a fix is expected in a point release). The urgency becomes a severity rating
(``unimportant`` -> ``Negligible``) under the source ``debian:<release>``. Packages are
*source* packages. One record is one (source package, CVE) pair.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from hullscan.vuln.db.loaders._common import json_object
from hullscan.vuln.db.schema import FIXED, NOT_AFFECTED, NOT_FIXED, UNKNOWN, WONT_FIX
from hullscan.vuln.db.writer import Writer

SOURCE = "debian-tracker"

CODENAMES = {
    "buzz": "1.1",
    "rex": "1.2",
    "bo": "1.3",
    "hamm": "2.0",
    "slink": "2.1",
    "potato": "2.2",
    "woody": "3.0",
    "sarge": "3.1",
    "etch": "4",
    "lenny": "5",
    "squeeze": "6",
    "wheezy": "7",
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
    "duke": "15",
    "sid": "unstable",
}

_RATINGS = {
    "unimportant": "Negligible",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
}

_HEAD = re.compile(rb'^\{\s*"[^"]+"\s*:\s*\{\s*"(?:CVE|TEMP)-[^"]*"\s*:\s*\{')


def recognise(name: str, head: bytes) -> bool:
    """An object of source packages holding objects keyed by CVE/TEMP ids."""
    return _HEAD.match(head) is not None


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load the whole tracker document."""
    document = json_object(stream)
    for package, issues in document.items():
        if not isinstance(issues, dict):
            continue
        for vuln_id, info in issues.items():
            if isinstance(info, dict):
                _issue(str(package), str(vuln_id), info, writer)


def _issue(package: str, vuln_id: str, info: dict[str, Any], writer: Writer) -> None:
    writer.vulnerability(vuln_id, source=SOURCE, details=info.get("description"))
    releases = info.get("releases")
    if not isinstance(releases, dict):
        return
    for codename, release in releases.items():
        number = CODENAMES.get(str(codename))
        if number is None or not isinstance(release, dict):
            continue
        namespace = f"debian:{number}"
        status = str(release.get("status") or "")
        urgency = str(release.get("urgency") or "").rstrip("*").strip()
        fixed_version = release.get("fixed_version")
        nodsa = "nodsa" in release
        reason = str(release.get("nodsa_reason") or "")
        open_ranges: list[dict[str, Any]] = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]
        ranges: list[dict[str, Any]]
        fixed: list[str] = []
        if status == "resolved" and fixed_version is not None:
            if str(fixed_version) == "0":
                state, ranges = NOT_AFFECTED, []
            else:
                state = FIXED
                fixed = [str(fixed_version)]
                ranges = [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "0"}, {"fixed": str(fixed_version)}],
                    }
                ]
        elif status == "open":
            ranges = open_ranges
            if urgency == "end-of-life" or (nodsa and reason != "postponed"):
                state = WONT_FIX
            else:
                state = NOT_FIXED
        else:
            state, ranges = UNKNOWN, open_ranges
        rating = _RATINGS.get(urgency)
        if rating is not None:
            writer.severity(vuln_id, source=namespace, type="debian-urgency", rating=rating)
        writer.affected(
            vuln_id,
            namespace,
            package,
            ranges=ranges,
            fixed_versions=fixed,
            fix_state=state,
            source=SOURCE,
        )
