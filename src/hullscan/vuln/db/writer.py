"""Batched row writer used by the feed loaders while a database is being built."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hullscan.vuln.db.namespaces import normalise_package, version_scheme

_STATEMENTS = {
    "vulnerability": (
        "INSERT INTO vulnerability (id, summary, details, published, modified, withdrawn, source,"
        " record_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " summary = coalesce(summary, excluded.summary),"
        " details = coalesce(details, excluded.details),"
        " published = coalesce(published, excluded.published),"
        " modified = coalesce(modified, excluded.modified),"
        " withdrawn = coalesce(withdrawn, excluded.withdrawn),"
        " record_url = coalesce(record_url, excluded.record_url)"
    ),
    "alias": "INSERT INTO alias (vuln_id, alias, kind) VALUES (?, ?, ?)",
    "affected": (
        "INSERT INTO affected (vuln_id, namespace, package, scheme, ranges_json, versions_json,"
        " fixed_versions_json, fix_state, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "severity": (
        "INSERT INTO severity (vuln_id, source, type, score, vector, rating)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    ),
    "reference": "INSERT INTO reference (vuln_id, url, type) VALUES (?, ?, ?)",
    "kev": (
        "INSERT OR REPLACE INTO kev (cve, source, date_added, due_date, ransomware, vendor,"
        " product, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "epss": "INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?, ?, ?)",
    "cpe_match": (
        "INSERT INTO cpe_match (vuln_id, criteria, vulnerable, version_start_including,"
        " version_start_excluding, version_end_including, version_end_excluding, source)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ),
}

_BATCH = 10_000


def _text(value: object) -> str | None:
    """A value as text for a text column (YAML gives dates and numbers), or ``None``."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Writer:
    """Collects rows per table and writes them with ``executemany`` in batches.

    Loaders call one method per row; :meth:`flush` writes what is pending. ``counts`` holds the
    number of records each source contributed, ``data_dates`` the newest date seen per source.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _STATEMENTS}
        self.counts: Counter[str] = Counter()
        self.data_dates: dict[str, str] = {}
        self.unknown_ecosystems: Counter[str] = Counter()
        self._seen: set[str] = set()

    def first_time(self, key: str) -> bool:
        """``True`` the first time ``key`` is offered (to skip records given twice)."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _add(self, table: str, row: tuple[Any, ...]) -> None:
        rows = self._rows[table]
        rows.append(row)
        if len(rows) >= _BATCH:
            self._connection.executemany(_STATEMENTS[table], rows)
            rows.clear()

    def flush(self) -> None:
        """Write every pending row."""
        for table, rows in self._rows.items():
            if rows:
                self._connection.executemany(_STATEMENTS[table], rows)
                rows.clear()

    def discard(self) -> None:
        """Drop pending rows (after a record failed half-way)."""
        for rows in self._rows.values():
            rows.clear()

    # -- bookkeeping -------------------------------------------------------------------------

    def count(self, source: str, records: int = 1) -> None:
        """Count ``records`` more records for ``source``."""
        self.counts[source] += records

    def data_date(self, source: str, date: object) -> None:
        """Remember ``date`` (ISO text) if it is the newest seen for ``source``."""
        text = _text(date)
        if text is None:
            return
        current = self.data_dates.get(source)
        if current is None or text > current:
            self.data_dates[source] = text

    # -- rows --------------------------------------------------------------------------------

    def vulnerability(
        self,
        vuln_id: str,
        *,
        source: str,
        summary: object = None,
        details: object = None,
        published: object = None,
        modified: object = None,
        withdrawn: object = None,
        record_url: str | None = None,
        count: bool = True,
    ) -> None:
        """One vulnerability; a second one with the same id only fills in missing fields."""
        self._add(
            "vulnerability",
            (
                vuln_id,
                _text(summary),
                _text(details),
                _text(published),
                _text(modified),
                _text(withdrawn),
                source,
                record_url,
            ),
        )
        if count:
            self.counts[source] += 1

    def alias(self, vuln_id: str, alias: object, kind: str = "alias") -> None:
        """``alias`` names the same issue as ``vuln_id`` (``kind`` ``related``: a related one)."""
        text = _text(alias)
        if text and text != vuln_id:
            self._add("alias", (vuln_id, text, kind))

    def affected(
        self,
        vuln_id: str,
        namespace: str,
        package: str,
        *,
        ranges: Sequence[Mapping[str, Any]],
        fix_state: str,
        source: str,
        versions: Iterable[object] = (),
        fixed_versions: Iterable[object] = (),
    ) -> None:
        """One affected (namespace, package, range set) row; the name is normalised here."""
        self._add(
            "affected",
            (
                vuln_id,
                namespace,
                normalise_package(namespace, package),
                version_scheme(namespace),
                _dump(list(ranges)),
                _dump([str(version) for version in versions]),
                _dump([str(version) for version in fixed_versions]),
                fix_state,
                source,
            ),
        )

    def severity(
        self,
        vuln_id: str,
        *,
        source: str,
        type: str,
        score: object = None,
        vector: object = None,
        rating: object = None,
    ) -> None:
        """A score (``type`` ``CVSS_V3``…) or a rating from ``source``."""
        number: float | None
        try:
            number = float(score) if score is not None and score != "" else None  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = None
        self._add("severity", (vuln_id, source, type, number, _text(vector), _text(rating)))

    def reference(self, vuln_id: str, url: object, type: object = None) -> None:
        """A reference link."""
        text = _text(url)
        if text:
            self._add("reference", (vuln_id, text, _text(type)))

    def kev(
        self,
        cve: str,
        *,
        source: str,
        date_added: object = None,
        due_date: object = None,
        ransomware: object = None,
        vendor: object = None,
        product: object = None,
        name: object = None,
    ) -> None:
        """A known-exploited flag for ``cve``."""
        self._add(
            "kev",
            (
                cve,
                source,
                _text(date_added),
                _text(due_date),
                _text(ransomware),
                _text(vendor),
                _text(product),
                _text(name),
            ),
        )

    def epss(self, cve: str, score: float, percentile: float) -> None:
        """An EPSS score."""
        self._add("epss", (cve, score, percentile))

    def cpe_match(
        self,
        vuln_id: str,
        criteria: str,
        *,
        vulnerable: bool,
        source: str,
        start_including: object = None,
        start_excluding: object = None,
        end_including: object = None,
        end_excluding: object = None,
    ) -> None:
        """One NVD CPE match criterion (flattened: the AND/OR node structure is not kept)."""
        self._add(
            "cpe_match",
            (
                vuln_id,
                criteria,
                1 if vulnerable else 0,
                _text(start_including),
                _text(start_excluding),
                _text(end_including),
                _text(end_excluding),
                source,
            ),
        )


class Mark:
    """Where a writer stood before a document, so a failed document can be taken back."""

    def __init__(self, lengths: dict[str, int], counts: Counter[str]) -> None:
        self.lengths = lengths
        self.counts = counts


def mark(writer: Writer) -> Mark:
    """Remember ``writer``'s pending rows and counts."""
    return Mark({table: len(rows) for table, rows in writer._rows.items()}, Counter(writer.counts))


def rewind(writer: Writer, position: Mark) -> None:
    """Drop rows added since ``position`` (rows already flushed in between stay)."""
    for table, rows in writer._rows.items():
        del rows[min(position.lengths[table], len(rows)) :]
    writer.counts = position.counts
