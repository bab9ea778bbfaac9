"""Read access to a built vulnerability database."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from hullscan.errors import CorruptContentError, HullscanError
from hullscan.vuln.db.namespaces import normalise_package
from hullscan.vuln.db.schema import EXPECTED_TABLES, SCHEMA_VERSION

UPDATE_HINT = "run hullscan db update"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_HEADER_BYTES = 100
_CHUNK = 500


def default_database_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$HULLSCAN_DB``, else ``$XDG_CACHE_HOME/hullscan/vulnerability.db`` (``~/.cache``)."""
    env = os.environ if environ is None else environ
    if env.get("HULLSCAN_DB"):
        return Path(env["HULLSCAN_DB"]).expanduser()
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "hullscan" / "vulnerability.db"


@dataclass(frozen=True)
class AffectedRecord:
    """One (vulnerability, package, range set) row; ``ranges`` are OSV-style range objects."""

    vuln_id: str
    namespace: str
    package: str
    scheme: str
    ranges: tuple[dict[str, Any], ...]
    versions: tuple[str, ...]
    fixed_versions: tuple[str, ...]
    fix_state: str
    source: str
    withdrawn: bool


@dataclass(frozen=True)
class CpeMatchRecord:
    """One NVD configuration criterion (flattened: AND/OR structure is not kept)."""

    vuln_id: str
    criteria: str
    vulnerable: bool
    version_start_including: str | None
    version_start_excluding: str | None
    version_end_including: str | None
    version_end_excluding: str | None


@dataclass(frozen=True)
class SeverityRecord:
    """A score or rating from one source."""

    source: str
    type: str
    score: float | None
    vector: str | None
    rating: str | None


@dataclass(frozen=True)
class ReferenceRecord:
    """A link about a vulnerability."""

    url: str
    type: str | None


@dataclass(frozen=True)
class VulnerabilityRecord:
    """A vulnerability with everything known about it."""

    id: str
    summary: str | None
    details: str | None
    published: str | None
    modified: str | None
    withdrawn: str | None
    source: str
    record_url: str | None
    aliases: tuple[str, ...]
    related: tuple[str, ...]
    severities: tuple[SeverityRecord, ...]
    references: tuple[ReferenceRecord, ...]


@dataclass(frozen=True)
class Enrichment:
    """Exploitation data for a CVE: CISA KEV and EPSS."""

    cve: str
    kev: bool
    kev_date_added: str | None
    kev_due_date: str | None
    kev_ransomware: str | None
    epss_score: float | None
    epss_percentile: float | None


@dataclass(frozen=True)
class SourceStatus:
    """One source's part of the database."""

    name: str
    records: int
    built_at: str
    data_date: str | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class DatabaseStatus:
    """Where the database is and what it holds."""

    location: Path
    schema_version: int
    built_at: str | None
    sources: tuple[SourceStatus, ...]


@lru_cache(maxsize=65536)
def _json_tuple(text: str) -> tuple[Any, ...]:
    """Decoded once per distinct text: many rows share range sets and version lists.
    Callers must not mutate what they get (the matcher only reads)."""
    return tuple(json.loads(text))


def _file_problem(location: Path) -> str | None:
    """Why ``location`` cannot be a whole SQLite database, judged by its size and 100-byte
    header (cheap, before SQLite reads it); None when it may be one."""
    try:
        size = location.stat().st_size
        with location.open("rb") as handle:
            header = handle.read(_SQLITE_HEADER_BYTES)
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if size == 0:
        return "is an empty file (0 bytes)"
    if len(header) < _SQLITE_HEADER_BYTES or not header.startswith(_SQLITE_MAGIC):
        return f"is not an SQLite database file ({size:,} bytes)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is trusted only when its change counter says it is current.
    if header[24:28] == header[92:96] and size < pages * page_size:
        return f"is truncated ({size:,} of {pages * page_size:,} bytes)"
    return None


def _meta_problem(meta: Mapping[str, object]) -> str | None:
    """What is wrong with the ``meta`` rows every reader relies on; None when nothing."""
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        return f"a bad schema_version in its meta table ({meta.get('schema_version')!r:.40})"
    built = meta.get("built_at")
    try:
        datetime.fromisoformat(str(built).replace("Z", "+00:00"))
    except ValueError:
        return f"a bad built_at in its meta table ({built!r:.40})"
    return None


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(count: int) -> str:
    return ",".join("?" * count)


class VulnerabilityDatabase:
    """A read-only handle on a database file; use :meth:`open`."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection = connection

    @classmethod
    def open(cls, path: Path | None = None) -> VulnerabilityDatabase:
        """Open ``path`` (default: :func:`default_database_path`) read-only and check it."""
        location = Path(path) if path is not None else default_database_path()
        if location.is_dir():
            raise HullscanError(f"is a folder, not a vulnerability database; {UPDATE_HINT}",
                                subject=str(location))
        if not location.is_file():
            raise HullscanError(f"no vulnerability database; {UPDATE_HINT}", subject=str(location))
        problem = _file_problem(location)
        if problem is not None:
            raise CorruptContentError(f"vulnerability database {problem}; {UPDATE_HINT}",
                                      subject=str(location))
        try:
            connection = sqlite3.connect(f"{location.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise CorruptContentError(
                f"cannot open the vulnerability database ({error}); {UPDATE_HINT}",
                subject=str(location),
            ) from None
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if version == 0 and not tables & EXPECTED_TABLES:
                raise CorruptContentError(
                    f"is an SQLite file but not a vulnerability database (none of its"
                    f" tables); {UPDATE_HINT}",
                    subject=str(location),
                )
            if version != SCHEMA_VERSION:
                raise CorruptContentError(
                    f"vulnerability database has schema {version}, this hullscan reads schema"
                    f" {SCHEMA_VERSION}; {UPDATE_HINT}",
                    subject=str(location),
                )
            if missing := sorted(EXPECTED_TABLES - tables):
                raise CorruptContentError(
                    f"vulnerability database lacks tables: {', '.join(missing)};"
                    f" {UPDATE_HINT}",
                    subject=str(location),
                )
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("complete") != "1":
                raise CorruptContentError(
                    f"vulnerability database is incomplete; {UPDATE_HINT}", subject=str(location)
                )
            if (problem := _meta_problem(meta)) is not None:
                raise CorruptContentError(
                    f"vulnerability database has {problem}; {UPDATE_HINT}", subject=str(location)
                )
        except sqlite3.DatabaseError as error:
            connection.close()
            raise CorruptContentError(
                f"not a valid vulnerability database ({error}); {UPDATE_HINT}",
                subject=str(location),
            ) from None
        except BaseException:
            connection.close()
            raise
        return cls(location, connection)

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def __enter__(self) -> VulnerabilityDatabase:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._connection.execute(sql, parameters).fetchall()
        except sqlite3.DatabaseError as error:
            raise CorruptContentError(
                f"vulnerability database cannot be read ({error}); {UPDATE_HINT}",
                subject=str(self.path),
            ) from None

    def affected(self, namespace: str, package: str) -> list[AffectedRecord]:
        """Every affected row for ``package`` (normalised here) in ``namespace``."""
        return self.affected_many(namespace, [package]).get(
            normalise_package(namespace, package), [])

    def affected_many(self, namespace: str, packages: Iterable[str]
                      ) -> dict[str, list[AffectedRecord]]:
        """Affected rows for many packages of one namespace, by normalised name: a scan
        asks once per namespace instead of once per package."""
        names = sorted({normalise_package(namespace, p) for p in packages})
        found: dict[str, list[AffectedRecord]] = {}
        for chunk in _chunks(names):
            rows = self._query(
                "SELECT a.vuln_id, a.namespace, a.package, a.scheme, a.ranges_json,"
                " a.versions_json, a.fixed_versions_json, a.fix_state, a.source,"
                " v.withdrawn IS NOT NULL"
                " FROM affected a LEFT JOIN vulnerability v ON v.id = a.vuln_id"
                f" WHERE a.namespace = ? AND a.package IN ({_marks(len(chunk))})"
                " ORDER BY a.vuln_id",
                (namespace, *chunk),
            )
            for row in rows:
                found.setdefault(row[2], []).append(AffectedRecord(
                    vuln_id=row[0], namespace=row[1], package=row[2], scheme=row[3],
                    ranges=_json_tuple(row[4]), versions=_json_tuple(row[5]),
                    fixed_versions=_json_tuple(row[6]), fix_state=row[7], source=row[8],
                    withdrawn=bool(row[9])))
        return found

    def cpe_matches(self, vendor: str, product: str) -> list[CpeMatchRecord]:
        """NVD criteria for ``vendor:product`` applications (a range scan on the index)."""
        prefix = f"cpe:2.3:a:{vendor}:{product}:"
        rows = self._query(
            "SELECT vuln_id, criteria, vulnerable, version_start_including,"
            " version_start_excluding, version_end_including, version_end_excluding"
            " FROM cpe_match WHERE criteria >= ? AND criteria < ? ORDER BY vuln_id",
            (prefix, prefix[:-1] + ";"),
        )
        return [CpeMatchRecord(row[0], row[1], bool(row[2]), *row[3:7]) for row in rows]

    def vulnerabilities(self, ids: Iterable[str]) -> dict[str, VulnerabilityRecord]:
        """The records for ``ids`` (unknown ids are left out); aliases go both ways."""
        wanted = sorted(set(ids))
        found: dict[str, VulnerabilityRecord] = {}
        for chunk in _chunks(wanted):
            marks = _marks(len(chunk))
            aliases: dict[str, set[str]] = {}
            related: dict[str, set[str]] = {}
            for vuln_id, other, kind in self._query(
                f"SELECT vuln_id, alias, kind FROM alias WHERE vuln_id IN ({marks})"
                f" UNION SELECT alias, vuln_id, kind FROM alias WHERE alias IN ({marks})",
                [*chunk, *chunk],
            ):
                (aliases if kind == "alias" else related).setdefault(vuln_id, set()).add(other)
            severities: dict[str, list[SeverityRecord]] = {}
            for row in self._query(
                "SELECT DISTINCT vuln_id, source, type, score, vector, rating FROM severity"
                f" WHERE vuln_id IN ({marks}) ORDER BY vuln_id, source, type",
                chunk,
            ):
                severities.setdefault(row[0], []).append(SeverityRecord(*row[1:]))
            references: dict[str, list[ReferenceRecord]] = {}
            for row in self._query(
                "SELECT DISTINCT vuln_id, url, type FROM reference"
                f" WHERE vuln_id IN ({marks}) ORDER BY vuln_id, rowid",
                chunk,
            ):
                references.setdefault(row[0], []).append(ReferenceRecord(row[1], row[2]))
            for row in self._query(
                "SELECT id, summary, details, published, modified, withdrawn, source, record_url"
                f" FROM vulnerability WHERE id IN ({marks})",
                chunk,
            ):
                vuln_id = row[0]
                found[vuln_id] = VulnerabilityRecord(
                    id=vuln_id,
                    summary=row[1],
                    details=row[2],
                    published=row[3],
                    modified=row[4],
                    withdrawn=row[5],
                    source=row[6],
                    record_url=row[7],
                    aliases=tuple(sorted(aliases.get(vuln_id, ()))),
                    related=tuple(sorted(related.get(vuln_id, ()))),
                    severities=tuple(severities.get(vuln_id, ())),
                    references=tuple(references.get(vuln_id, ())),
                )
        return found

    def aliases_of(self, ids: Iterable[str]) -> dict[str, set[str]]:
        """Every id known to name the same issue as each of ``ids`` (both directions)."""
        wanted = sorted(set(ids))
        result: dict[str, set[str]] = {}
        for chunk in _chunks(wanted):
            marks = _marks(len(chunk))
            for vuln_id, other in self._query(
                f"SELECT vuln_id, alias FROM alias WHERE kind = 'alias' AND vuln_id IN ({marks})"
                " UNION SELECT alias, vuln_id FROM alias"
                f" WHERE kind = 'alias' AND alias IN ({marks})",
                [*chunk, *chunk],
            ):
                result.setdefault(vuln_id, set()).add(other)
        return result

    def enrichment(self, cve_ids: Iterable[str]) -> dict[str, Enrichment]:
        """KEV and EPSS data for those of ``cve_ids`` that have any."""
        wanted = sorted(set(cve_ids))
        kev: dict[str, tuple[str | None, str | None, str | None]] = {}
        epss: dict[str, tuple[float, float]] = {}
        for chunk in _chunks(wanted):
            marks = _marks(len(chunk))
            # The CISA catalogue ("kev") wins over CVE 5 ADP flags ("cve5").
            for cve, added, due, ransomware in self._query(
                "SELECT cve, date_added, due_date, ransomware FROM kev"
                f" WHERE cve IN ({marks}) ORDER BY source = 'kev'",
                chunk,
            ):
                kev[cve] = (added, due, ransomware)
            for cve, score, percentile in self._query(
                f"SELECT cve, score, percentile FROM epss WHERE cve IN ({marks})", chunk
            ):
                epss[cve] = (score, percentile)
        result: dict[str, Enrichment] = {}
        for cve in wanted:
            if cve not in kev and cve not in epss:
                continue
            added, due, ransomware = kev.get(cve, (None, None, None))
            score, percentile = epss.get(cve, (None, None))
            result[cve] = Enrichment(
                cve=cve,
                kev=cve in kev,
                kev_date_added=added,
                kev_due_date=due,
                kev_ransomware=ransomware,
                epss_score=score,
                epss_percentile=percentile,
            )
        return result

    def namespaces(self) -> frozenset[str]:
        """Every namespace with affected-package data (``debian:12``, ``pypi``)."""
        # A skip scan over the (namespace, package) index: one probe per namespace instead of
        # reading every row as DISTINCT would.
        return frozenset(row[0] for row in self._query(
            "WITH RECURSIVE ns(n) AS (SELECT MIN(namespace) FROM affected UNION ALL"
            " SELECT (SELECT MIN(namespace) FROM affected WHERE namespace > n) FROM ns"
            " WHERE n IS NOT NULL) SELECT n FROM ns WHERE n IS NOT NULL"))

    def status(self) -> DatabaseStatus:
        """Location, schema version, build time and per-source counts and dates."""
        meta = dict(self._query("SELECT key, value FROM meta"))
        sources = tuple(
            SourceStatus(*row)
            for row in self._query(
                "SELECT name, records, built_at, data_date, etag, last_modified FROM source"
                " ORDER BY name"
            )
        )
        return DatabaseStatus(
            location=self.path,
            schema_version=int(meta.get("schema_version", "0")),
            built_at=meta.get("built_at"),
            sources=sources,
        )
