"""Optional CPE matching against NVD configurations (``scan --cpe-matching``).

Never on by default: CPE names are guessed from package names, so this is where the false
positives the anchors are known for come from. It serves packages no ecosystem feed covers.
"""

from __future__ import annotations

from dataclasses import dataclass

from hullscan.catalog.package import Package
from hullscan.versions import compare, get_scheme, scheme_for_ecosystem
from hullscan.vuln.db.store import CpeMatchRecord, VulnerabilityDatabase


def scheme_of(package_type: str) -> str:
    """The version scheme of a purl type; SemVer for types no scheme claims."""
    try:
        return scheme_for_ecosystem(package_type)
    except ValueError:
        return "semver"


@dataclass(frozen=True)
class CpeHit:
    """A package whose CPE candidate falls in an NVD criterion."""

    package: Package
    record: CpeMatchRecord
    cpe: str


def _fields(cpe: str) -> list[str]:
    """Split a CPE 2.3 formatted string at unescaped colons."""
    fields, current, escaped = [], "", False
    for char in cpe:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            current += char
            escaped = True
        elif char == ":":
            fields.append(current)
            current = ""
        else:
            current += char
    fields.append(current)
    return fields


def _in_range(scheme: str, version: str, record: CpeMatchRecord) -> bool:
    fields = _fields(record.criteria)
    exact = fields[5].replace("\\", "") if len(fields) > 5 else "*"
    start_in, start_ex = record.version_start_including, record.version_start_excluding
    end_in, end_ex = record.version_end_including, record.version_end_excluding
    if not any((start_in, start_ex, end_in, end_ex)):
        # An exact version in the criterion, or "any version": the latter is too broad to
        # match on a guessed product name.
        return exact not in ("*", "-") and compare(scheme, version, exact) == 0
    impl = get_scheme(scheme)
    if not all(impl.validate(b) for b in (start_in, start_ex, end_in, end_ex) if b):
        return False
    return ((start_in is None or compare(scheme, version, start_in) >= 0)
            and (start_ex is None or compare(scheme, version, start_ex) > 0)
            and (end_in is None or compare(scheme, version, end_in) <= 0)
            and (end_ex is None or compare(scheme, version, end_ex) < 0))


def cpe_hits(packages: list[Package], database: VulnerabilityDatabase) -> list[CpeHit]:
    """Packages whose CPE candidates an NVD vulnerable criterion covers."""
    hits = []
    for package in packages:
        scheme = scheme_of(package.type)
        version = package.version.removeprefix("v") if scheme == "semver" else package.version
        if not get_scheme(scheme).validate(version):
            continue
        for cpe in package.cpes:
            fields = _fields(cpe)
            if len(fields) < 6:
                continue
            for record in database.cpe_matches(fields[3], fields[4]):
                if record.vulnerable and _in_range(scheme, version, record):
                    hits.append(CpeHit(package, record, cpe))
                    break
    return hits
