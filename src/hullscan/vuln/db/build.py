"""Build a vulnerability database from feed files, folders and archives.

Inputs are walked recursively: folders, zip archives (also nested) and gzip/xz/bzip2/zstd
compressed files; every document is recognised by its content and handed to its loader. The
database is written to a new file beside the destination and swapped in with ``os.replace``
only once it is complete, so readers never see a half-built database. Writers of one folder
take turns (:mod:`hullscan.vuln.db.lock`); the first to get the lock removes the temporary
files a killed writer left.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import os
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import yaml
import zstandard

from hullscan.errors import CorruptContentError, HullscanError
from hullscan.vuln.db.loaders import HEAD_BYTES, find_loader
from hullscan.vuln.db.lock import BUILDING_SUFFIX, folder_lock, remove_leftovers
from hullscan.vuln.db.schema import SCHEMA_VERSION, create_indexes, create_tables
from hullscan.vuln.db.writer import Writer, mark, rewind

_MAX_DEPTH = 4
_DOCUMENT_ERRORS = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    yaml.YAMLError,
    csv.Error,
    RecursionError,
)


@dataclass(frozen=True)
class Provenance:
    """HTTP validators of a downloaded input, recorded for the sources it held."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class BuildReport:
    """What a build read and wrote."""

    destination: Path
    sources: dict[str, int] = field(default_factory=dict)
    data_dates: dict[str, str] = field(default_factory=dict)
    documents: int = 0
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unknown_ecosystems: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _top_files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file():
                yield child
    elif path.is_file():
        yield path
    else:
        raise HullscanError("no such file or folder", subject=str(path))


def _decompress(data: bytes) -> bytes | None:
    """The decompressed bytes if ``data`` is gzip/xz/bzip2/zstd, else ``None``."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return None


def _strip_suffix(name: str) -> str:
    for suffix in (".gz", ".xz", ".bz2", ".zst"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


class _Builder:
    def __init__(self, connection: sqlite3.Connection, report: BuildReport) -> None:
        self.connection = connection
        self.writer = Writer(connection)
        self.report = report

    def load_top(self, path: Path) -> None:
        with path.open("rb") as handle:
            magic = handle.read(4)
        if magic == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(path) as archive:
                    self._archive(archive, str(path), 1)
            except zipfile.BadZipFile as error:
                raise CorruptContentError(f"bad zip archive: {error}", subject=str(path)) from None
        else:
            self._document(str(path), path.name, path.read_bytes(), 0)

    def _archive(self, archive: zipfile.ZipFile, label: str, depth: int) -> None:
        for info in sorted(archive.infolist(), key=lambda item: item.filename):
            if info.is_dir():
                continue
            data = archive.read(info)
            self._document(f"{label}!{info.filename}", info.filename, data, depth)

    def _document(self, label: str, name: str, data: bytes, depth: int) -> None:
        if depth > _MAX_DEPTH:
            self.report.skipped.append(f"{label} (nested too deeply)")
            return
        try:
            inner = _decompress(data)
        except (OSError, EOFError, lzma.LZMAError, zstandard.ZstdError, ValueError) as error:
            self.report.failures.append(f"{label}: cannot decompress: {error}")
            return
        if inner is not None:
            self._document(label, _strip_suffix(name), inner, depth + 1)
            return
        if data[:4] == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    self._archive(archive, label, depth + 1)
            except zipfile.BadZipFile as error:
                self.report.failures.append(f"{label}: bad zip archive: {error}")
            return
        loader = find_loader(name, data[:HEAD_BYTES])
        if loader is None:
            self.report.skipped.append(label)
            return
        position = mark(self.writer)
        try:
            loader.load(io.BytesIO(data), self.writer, PurePosixPath(name).name)
        except _DOCUMENT_ERRORS as error:
            rewind(self.writer, position)
            reason = f"{type(error).__name__}: {error}"
            self.report.failures.append(f"{label}: {loader.name}: {reason[:200]}")
            return
        self.report.documents += 1


def build_database(
    inputs: Sequence[Path],
    destination: Path,
    *,
    provenance: Mapping[Path, Provenance] | None = None,
) -> BuildReport:
    """Build a database at ``destination`` from feed files, folders and archives.

    One transaction per input file; indexes are created after loading. On any error the
    half-built file is removed and ``destination`` is left as it was. Waits while another
    process writes a database into the same folder.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(destination.parent):
        remove_leftovers(destination)
        return _build_locked(inputs, destination, provenance)


def _build_locked(
    inputs: Sequence[Path], destination: Path, provenance: Mapping[Path, Provenance] | None
) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport(destination=destination)
    handle, temporary_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=BUILDING_SUFFIX, dir=destination.parent
    )
    os.close(handle)
    temporary = Path(temporary_name)
    built_at = _now()
    validators: dict[str, Provenance] = {}
    try:
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            connection.execute("PRAGMA temp_store = MEMORY")
            connection.execute("PRAGMA cache_size = -262144")
            create_tables(connection)
            builder = _Builder(connection, report)
            for given in inputs:
                for path in _top_files(Path(given)):
                    before = dict(builder.writer.counts)
                    connection.execute("BEGIN")
                    builder.load_top(path)
                    builder.writer.flush()
                    connection.execute("COMMIT")
                    found = (provenance or {}).get(path) or (provenance or {}).get(Path(given))
                    if found is not None:
                        for source, records in builder.writer.counts.items():
                            if records != before.get(source, 0):
                                validators[source] = found
            writer = builder.writer
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO source (name, records, built_at, data_date, etag, last_modified)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        source,
                        records,
                        built_at,
                        writer.data_dates.get(source),
                        validators.get(source, Provenance()).etag,
                        validators.get(source, Provenance()).last_modified,
                    )
                    for source, records in sorted(writer.counts.items())
                ],
            )
            connection.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("built_at", built_at),
                    ("unknown_ecosystems", json.dumps(dict(writer.unknown_ecosystems))),
                    ("complete", "1"),
                ],
            )
            connection.execute("COMMIT")
            create_indexes(connection)
            connection.execute("ANALYZE")
            report.sources = dict(sorted(writer.counts.items()))
            report.data_dates = dict(writer.data_dates)
            report.unknown_ecosystems = dict(writer.unknown_ecosystems)
        finally:
            connection.close()
        temporary.chmod(0o644)
        temporary.replace(destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    report.seconds = time.perf_counter() - started
    return report
