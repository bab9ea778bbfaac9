"""EPSS scores CSV (``cve,epss,percentile``), with or without a ``#model_version…`` line."""

from __future__ import annotations

import csv
import io
import re
from typing import BinaryIO

from hullscan.vuln.db.writer import Writer

SOURCE = "epss"
_HEAD = re.compile(rb"^(?:#[^\n]*\n)?\s*cve\s*,\s*epss\s*,\s*percentile", re.IGNORECASE)
_SCORE_DATE = re.compile(r"score_date:\s*(\d{4}-\d{2}-\d{2})")
_NAME_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def recognise(name: str, head: bytes) -> bool:
    """A CSV whose header is ``cve,epss,percentile`` (after an optional ``#`` line)."""
    return _HEAD.match(head) is not None


def load(stream: BinaryIO, writer: Writer, name: str) -> None:
    """Load all scores."""
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    first = text.readline()
    date: str | None = None
    if first.startswith("#"):
        found = _SCORE_DATE.search(first)
        date = found.group(1) if found else None
        first = text.readline()
    if date is None:
        found = _NAME_DATE.search(name)
        date = found.group(1) if found else None
    writer.data_date(SOURCE, date)
    header = [column.strip().lower() for column in first.split(",")]
    cve_at, score_at, percentile_at = (
        header.index("cve"),
        header.index("epss"),
        header.index("percentile"),
    )
    records = 0
    for row in csv.reader(text):
        if len(row) <= max(cve_at, score_at, percentile_at):
            continue
        writer.epss(row[cve_at].strip(), float(row[score_at]), float(row[percentile_at]))
        records += 1
    writer.count(SOURCE, records)
