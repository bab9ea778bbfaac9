"""Match catalogued packages against the vulnerability database: one finding per flaw per
package, aliases merged, with severity, exploit data and fix information."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cmp_to_key, partial

from hullscan.catalog.package import Catalog, Package
from hullscan.errors import HullscanError
from hullscan.versions import compare, get_scheme
from hullscan.versions.ranges import (
    composer_constraint_satisfies,
    gem_requirement_satisfies,
    npm_range_satisfies,
    osv_affected,
)
from hullscan.vuln.cpe import CpeHit, cpe_hits, scheme_of
from hullscan.vuln.db.namespaces import normalise_package, version_scheme
from hullscan.vuln.db.store import (
    AffectedRecord,
    Enrichment,
    VulnerabilityDatabase,
    VulnerabilityRecord,
)
from hullscan.vuln.finding import AffectedPackage, Finding, FixState
from hullscan.vuln.queries import MatchQuery, queries_for
from hullscan.vuln.severity import Severity, score_vector

_OSV_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})


@dataclass(frozen=True)
class MatchResult:
    """Findings, and what could not be evaluated (never silently dropped)."""

    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]


def is_affected(record: AffectedRecord, version: str) -> bool:
    """Evaluate every range form the database stores for one affected row."""
    osv_ranges = [r for r in record.ranges if str(r.get("type", "")).upper() in _OSV_RANGE_TYPES]
    if (osv_ranges or record.versions) and osv_affected(
            record.scheme, version, {"ranges": osv_ranges, "versions": list(record.versions)}):
        return True
    for entry in record.ranges:
        kind = str(entry.get("type", "")).upper()
        if kind == "NPM_RANGE" and entry.get("range"):
            if npm_range_satisfies(version, str(entry["range"])):
                return True
        elif kind == "COMPOSER":
            if any(composer_constraint_satisfies(version, str(c))
                   for c in entry.get("constraints") or ()):
                return True
        elif kind == "GEM":
            patched = entry.get("patched") or ()
            unaffected = entry.get("unaffected") or ()
            if not any(gem_requirement_satisfies(version, str(r)) for r in patched) and \
                    not any(gem_requirement_satisfies(version, str(r)) for r in unaffected):
                return True
    return False


def relevant_fixes(record: AffectedRecord, version: str) -> tuple[str, ...]:
    """The fixes that apply to ``version``: for each OSV range containing it, the first
    ``fixed`` above it (a record's fixes for other release lines are left out); for other
    range forms, the record's fixes above the installed version."""
    scheme = get_scheme(record.scheme)
    fixes: list[str] = []
    osv_ranges = [r for r in record.ranges if str(r.get("type", "")).upper() in _OSV_RANGE_TYPES]
    for entry in osv_ranges:
        range_scheme = record.scheme if str(entry.get("type")).upper() == "ECOSYSTEM" \
            else "semver"
        events = entry.get("events") or ()
        if not osv_affected(record.scheme, version, {"ranges": [entry]}):
            continue
        candidates = [str(e["fixed"]) for e in events if isinstance(e.get("fixed"), str)
                      and get_scheme(range_scheme).validate(str(e["fixed"]))
                      and compare(range_scheme, str(e["fixed"]), version.removeprefix("v")
                                  if range_scheme == "semver" else version) > 0]
        if candidates:
            fixes.append(min(candidates, key=cmp_to_key(partial(compare, range_scheme))))
    if fixes or osv_ranges:
        return tuple(fixes)
    return tuple(v for v in record.fixed_versions
                 if scheme.validate(v) and scheme.compare(v, version) > 0)


def match_catalog(catalog: Catalog, database: VulnerabilityDatabase, *,
                  cpe_matching: bool = False) -> MatchResult:
    """Every finding for the catalog's packages (deleted packages of an all-layers catalog
    are matched too; their findings name the deleting layer through the package).

    ``cpe_matching`` adds NVD configuration matches on the packages' CPE candidates; they
    merge with ecosystem findings of the same CVE.
    """
    hits: dict[str, list[tuple[MatchQuery, AffectedRecord]]] = defaultdict(list)
    warnings: list[str] = []
    by_purl = {package.purl: package for package in catalog.packages}
    lookups: list[tuple[Package, MatchQuery]] = []
    for package in catalog.packages:
        for query in queries_for(package, catalog.distro):
            scheme = get_scheme(version_scheme(query.namespace))
            if not scheme.validate(query.version):
                warnings.append(f"{package.purl}: version {query.version!r} is not a valid "
                                f"{scheme.name} version; not matched in {query.namespace}")
                continue
            lookups.append((package, query))
    rows = _affected_rows(database, [query for _, query in lookups])
    for package, query in lookups:
        for record in rows.get((query.namespace, query.name), ()):
            if record.withdrawn or record.fix_state == "not-affected":
                continue
            try:
                affected = is_affected(record, query.version)
            except HullscanError as error:
                warnings.append(f"{package.purl}: {record.vuln_id} not evaluated "
                                f"({error.reason})")
                continue
            if affected:
                hits[package.purl].append((query, record))
    if cpe_matching:
        for hit in cpe_hits(list(catalog.packages), database):
            hits[hit.package.purl].append(_cpe_match(hit))
    ids = {record.vuln_id for found in hits.values() for _, record in found}
    records = database.vulnerabilities(sorted(ids))
    groups = {purl: _alias_groups([record.vuln_id for _, record in found], records)
              for purl, found in hits.items()}
    cves = sorted({i for package_groups in groups.values() for group in package_groups
                   for i in group if i.startswith("CVE-")})
    # One query each for the whole scan, not one per package.
    enrichment = database.enrichment(cves) if cves else {}
    cve_records = database.vulnerabilities(cves) if cves else {}
    findings = []
    for purl, package_groups in groups.items():
        by_id: dict[str, list[tuple[MatchQuery, AffectedRecord]]] = defaultdict(list)
        for query, record in hits[purl]:
            by_id[record.vuln_id].append((query, record))
        for group in package_groups:
            matches = [match for vuln_id in sorted(group) for match in by_id.get(vuln_id, ())]
            # Ecosystem and distro records speak first; guessed-CPE matches only add.
            matches.sort(key=lambda match: match[1].source == "nvd-cpe")
            findings.append(_finding(by_purl[purl], group, matches, records, enrichment,
                                     cve_records))
    return MatchResult(tuple(findings), tuple(warnings))


def _affected_rows(database: VulnerabilityDatabase, queries: Sequence[MatchQuery]
                   ) -> dict[tuple[str, str], list[AffectedRecord]]:
    """All affected rows the queries need, one database round per namespace."""
    names: dict[str, set[str]] = defaultdict(set)
    for query in queries:
        names[query.namespace].add(query.name)
    rows: dict[tuple[str, str], list[AffectedRecord]] = {}
    for namespace, wanted in names.items():
        found = database.affected_many(namespace, wanted)
        for name in wanted:
            rows[(namespace, name)] = found.get(normalise_package(namespace, name), [])
    return rows


def _cpe_match(hit: CpeHit) -> tuple[MatchQuery, AffectedRecord]:
    record = hit.record
    fixed = (record.version_end_excluding,) if record.version_end_excluding else ()
    scheme = scheme_of(hit.package.type)
    return (MatchQuery("nvd-cpe", hit.cpe, hit.package.version),
            AffectedRecord(vuln_id=record.vuln_id, namespace="nvd-cpe", package=record.criteria,
                           scheme=scheme, ranges=(), versions=(), fixed_versions=fixed,
                           fix_state="fixed" if fixed else "unknown", source="nvd-cpe",
                           withdrawn=False))


def _alias_groups(ids: Iterable[str], records: dict[str, VulnerabilityRecord]
                  ) -> list[frozenset[str]]:
    """Ids connected through aliases (union-find); each group is one flaw."""
    parent: dict[str, str] = {}

    def find(item: str) -> str:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    matched = set(ids)
    for vuln_id in matched:
        find(vuln_id)
        record = records.get(vuln_id)
        for alias in record.aliases if record else ():
            parent[find(alias)] = find(vuln_id)
    groups: dict[str, set[str]] = defaultdict(set)
    for item in list(parent):
        groups[find(item)].add(item)
    return [frozenset(group) for group in groups.values() if group & matched]


def _primary_id(group: frozenset[str], matched: Sequence[str]) -> str:
    cves = sorted(i for i in group if i.startswith("CVE-"))
    return cves[0] if cves else sorted(matched)[0]


def _finding(package: Package, group: frozenset[str],
             matches: Sequence[tuple[MatchQuery, AffectedRecord]],
             records: dict[str, VulnerabilityRecord], enrichment: dict[str, Enrichment],
             cve_records: dict[str, VulnerabilityRecord]) -> Finding:
    matched_ids = [record.vuln_id for _, record in matches]
    primary = _primary_id(group, matched_ids)
    query, first = matches[0]
    fix_versions = tuple(dict.fromkeys(v for q, r in matches
                                       for v in relevant_fixes(r, q.version)))
    states = {r.fix_state for _, r in matches}
    fix_state = FixState.FIXED if fix_versions or "fixed" in states else next(
        (FixState(s) for s in ("wont-fix", "not-fixed") if s in states), FixState.UNKNOWN)
    severity, severity_source, score, vector = _severity(
        matches, records, [cve_records[c] for c in sorted(group) if c in cve_records])
    cves = sorted(c for c in group if c.startswith("CVE-"))
    kev = next((enrichment[c] for c in cves if c in enrichment and enrichment[c].kev), None)
    epss = max((enrichment[c] for c in cves if c in enrichment
                and enrichment[c].epss_score is not None),
               key=lambda e: e.epss_score or 0.0, default=None)
    record = records.get(first.vuln_id)
    return Finding(
        id=primary, aliases=tuple(sorted(group - {primary})),
        package=AffectedPackage(package.name, package.version, package.type, package.purl,
                                package.locations, package.layer),
        severity=severity, severity_source=severity_source, cvss_score=score,
        cvss_vector=vector, epss_score=epss.epss_score if epss else None,
        epss_percentile=epss.epss_percentile if epss else None,
        kev=kev is not None, kev_due_date=kev.kev_due_date if kev else None,
        fix_versions=fix_versions, fix_state=fix_state,
        data_source=f"{first.source} {first.vuln_id}", namespace=query.namespace,
        matched_name=query.name, summary=record.summary if record else None,
        published=record.published if record else None)


def _severity(matches: Sequence[tuple[MatchQuery, AffectedRecord]],
              records: dict[str, VulnerabilityRecord],
              cve_records: Sequence[VulnerabilityRecord]
              ) -> tuple[Severity, str, float | None, str | None]:
    """The distro's or advisory's own rating first, then CVSS from the advisory, then from
    NVD and CVE records (CNA, CISA-ADP)."""
    advisories = [records[r.vuln_id] for _, r in matches if r.vuln_id in records]
    namespaces = {q.namespace for q, _ in matches}
    best_score: tuple[float, str, str] | None = None
    for source_records, own in ((advisories, True), (cve_records, False)):
        for vulnerability in source_records:
            for severity in vulnerability.severities:
                if own and severity.rating and (severity.source in namespaces
                                                or not severity.vector):
                    try:
                        return (Severity.parse(severity.rating), severity.source,
                                severity.score, severity.vector)
                    except ValueError:
                        pass
                scored = score_vector(severity.vector) if severity.vector else None
                score = scored.score if scored else severity.score
                if score is not None and (best_score is None or _prefer(severity, best_score)):
                    best_score = (score, severity.vector or "", severity.source)
        if best_score is not None:
            score, vector, source = best_score
            return Severity.from_score(score), f"{source} CVSS", score, vector or None
    return Severity.UNKNOWN, "none", None, None


def _prefer(severity: object, current: tuple[float, str, str]) -> bool:
    """Prefer CVSS v3/v4 vectors over v2 ones."""
    vector = getattr(severity, "vector", None) or ""
    return vector.startswith("CVSS:") and not current[1].startswith("CVSS:")
