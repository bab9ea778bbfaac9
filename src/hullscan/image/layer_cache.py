"""The per-layer analysis cache: what one pass over a layer found, kept on disk by diff ID.

An entry is keyed by the sha256 of the layer's diff ID and a fingerprint of everything that
changes the result (the analysers' code and options, the read limits). Its value is JSON,
zlib-compressed behind a short header, never pickle: reading an entry runs no code. Entries
are written to a temporary file and renamed into place, so a process killed mid-write leaves
at most a stray temporary file, never a half entry under a real name; several processes may
share one directory. The size is bounded: the least recently used entries (file modification
time, touched on every hit) go first.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import enum
import hashlib
import json
import os
import re
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hullscan.image.layer import (
    KIND_BY_VALUE,
    FileEntry,
    LayerContents,
    LayerInfo,
    LayerVisitor,
    cache_key_of,
)
from hullscan.image.limits import ReadLimits

CACHE_FORMAT = 1
"""Version of the entry layout; part of every key."""

DEFAULT_MAX_BYTES = 5 * 1024**3
"""Default bound on the cache directory's size."""

_MAGIC = b"HSLC1\n"
_SUFFIX = ".layer"
_TEMPORARY_TTL = 3600.0
"""Temporary files older than this (seconds) were left by a killed writer: removed."""


def default_cache_dir() -> Path:
    """``HULLSCAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/hullscan/layers`` (``~/.cache``)."""
    if explicit := os.environ.get("HULLSCAN_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hullscan" / "layers"


def describe(value: object) -> str:
    """A stable text for an option value (dataclasses, patterns, enums, containers), for keys."""
    if isinstance(value, re.Pattern):
        return f"re({value.pattern!r},{value.flags})"
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(f"{f.name}={describe(getattr(value, f.name))}"
                          for f in dataclasses.fields(value))
        return f"{type(value).__name__}({fields})"
    if isinstance(value, list | tuple):
        return "[" + ",".join(describe(item) for item in value) + "]"
    if isinstance(value, set | frozenset):
        return "{" + ",".join(sorted(describe(item) for item in value)) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{describe(k)}:{describe(v)}" for k, v in
                              sorted(value.items(), key=lambda kv: describe(kv[0]))) + "}"
    return repr(value)


_ANALYSER_SOURCES = ("catalog", "checks", "image", "policy", "versions", "pipeline.py",
                     "analysis_cache.py", "report/redaction.py", "report/sbom/hullscan_json.py")
"""Packages and modules whose code decides what an entry holds (layer or whole image)."""
_NOT_ANALYSERS = ("image/registry/",)


@lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 over the analysers' source: a changed parser never reads a stale entry."""
    from hullscan import __version__

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for source in _ANALYSER_SOURCES:
        top = root / source
        for path in sorted(top.rglob("*.py")) if top.is_dir() else [top]:
            relative = path.relative_to(root).as_posix()
            if relative.startswith(_NOT_ANALYSERS):
                continue
            digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def analysis_fingerprint(visitor: LayerVisitor, limits: ReadLimits) -> str | None:
    """Everything that changes what one pass over a layer finds; None when ``visitor``
    cannot be cached."""
    key = cache_key_of(visitor)
    if key is None:
        return None
    # Only the limits that change a layer's result: the others refuse an image outright.
    read = f"captured<={limits.max_captured_file_bytes};header<={limits.max_header_bytes}"
    return f"v{CACHE_FORMAT};code={code_digest()};{read};{key}"


def encode_layer(contents: LayerContents, state: Any) -> dict[str, Any]:
    """A layer's result and the visitors' states as JSON-able data, without its index."""
    return {
        "entries": [[e.path, e.kind.value, e.size, e.mode, e.uid, e.gid, e.mtime, e.link_target]
                    for e in contents.entries],
        "whiteouts": list(contents.whiteouts),
        "opaque_dirs": list(contents.opaque_dirs),
        "captured": {path: base64.b64encode(data).decode("ascii")
                     for path, data in contents.captured.items()},
        "anomalies": list(contents.anomalies),
        "compression": contents.compression,
        "uncompressed_size": contents.uncompressed_size,
        "visitors": state,
    }


def decode_layer(document: dict[str, Any], layer: LayerInfo) -> tuple[LayerContents, Any]:
    """The layer's result stamped with ``layer`` (its index), and the visitors' states.

    Raises ``ValueError``, ``KeyError`` or ``TypeError`` on a malformed document.
    """
    index = layer.index
    entries = tuple(FileEntry(str(path), KIND_BY_VALUE[kind], int(size), int(mode), int(uid),
                              int(gid), int(mtime), None if target is None else str(target),
                              index)
                    for path, kind, size, mode, uid, gid, mtime, target in document["entries"])
    captured = {str(path): base64.b64decode(data, validate=True)
                for path, data in document["captured"].items()}
    contents = LayerContents(
        layer, entries, tuple(str(p) for p in document["whiteouts"]),
        tuple(str(p) for p in document["opaque_dirs"]), captured,
        tuple(str(a) for a in document["anomalies"]), str(document["compression"]),
        int(document["uncompressed_size"]))
    return contents, document["visitors"]


@dataclass(frozen=True)
class CacheStatus:
    """What a cache directory holds."""

    directory: Path
    entries: int
    bytes: int
    """Total size of the entries on disk."""
    max_bytes: int


class LayerCache:
    """Per-layer results on disk under ``directory``, at most ``max_bytes`` in total.

    An entry's subject is a layer's diff ID; whole-image entries
    (:mod:`hullscan.analysis_cache`) use ``image:`` and the config digest.
    """

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(subject: str, fingerprint: str) -> str:
        """The entry's name: sha256 of the subject (diff ID) and the fingerprint."""
        return hashlib.sha256(f"{subject}\0{fingerprint}".encode()).hexdigest()

    def entry_path(self, subject: str, fingerprint: str) -> Path:
        """Where the entry of ``subject`` under ``fingerprint`` lives (present or not)."""
        key = self.key(subject, fingerprint)
        return self.directory / key[:2] / f"{key}{_SUFFIX}"

    def load(self, subject: str, fingerprint: str) -> dict[str, Any] | None:
        """The stored document, or None (absent, unreadable, corrupt or another key's)."""
        path = self.entry_path(subject, fingerprint)
        try:
            raw = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        document = _decode(raw)
        if (document is None or document.get("diff_id") != subject
                or document.get("fingerprint") != fingerprint
                or not isinstance(document.get("layer"), dict)):
            self.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # last use, for eviction
        self.hits += 1
        layer: dict[str, Any] = document["layer"]
        return layer

    def store(self, subject: str, fingerprint: str, layer: dict[str, Any]) -> None:
        """Write an entry atomically (an existing one is replaced), then evict to the bound.

        A full disk or an unwritable directory only means no entry: errors are swallowed.
        """
        document = {"format": CACHE_FORMAT, "diff_id": subject, "fingerprint": fingerprint,
                    "layer": layer}
        data = _MAGIC + zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 3)
        if len(data) > self.max_bytes:
            return
        path = self.entry_path(subject, fingerprint)
        try:
            for directory in (self.directory, path.parent, self._temporary_dir()):
                _make_private_dir(directory)
            handle, temporary = tempfile.mkstemp(dir=self._temporary_dir(), suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                Path(temporary).replace(path)
            except BaseException:
                with contextlib.suppress(OSError):
                    Path(temporary).unlink()
                raise
        except OSError:
            return
        self.evict()

    def _temporary_dir(self) -> Path:
        return self.directory / "tmp"

    def _entries(self) -> Iterator[tuple[Path, os.stat_result]]:
        with contextlib.suppress(OSError):
            for bucket in os.scandir(self.directory):
                if len(bucket.name) != 2 or not bucket.is_dir(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError):
                    for item in os.scandir(bucket.path):
                        if item.name.endswith(_SUFFIX):
                            with contextlib.suppress(OSError):
                                yield Path(item.path), item.stat(follow_symlinks=False)

    def evict(self) -> int:
        """Remove least recently used entries until the total is within ``max_bytes``, and
        temporary files a killed writer left; the number of entries removed."""
        now = time.time()
        with contextlib.suppress(OSError):
            for item in os.scandir(self._temporary_dir()):
                with contextlib.suppress(OSError):
                    if now - item.stat().st_mtime > _TEMPORARY_TTL:
                        Path(item.path).unlink()
        entries = sorted(self._entries(), key=lambda pair: pair[1].st_mtime)
        total = sum(stat.st_size for _, stat in entries)
        removed = 0
        for path, stat in entries:
            if total <= self.max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
            total -= stat.st_size
        return removed

    def status(self) -> CacheStatus:
        """How many entries, how many bytes."""
        sizes = [stat.st_size for _, stat in self._entries()]
        return CacheStatus(self.directory, len(sizes), sum(sizes), self.max_bytes)

    def clean(self) -> int:
        """Remove every entry (and temporary file); the number of entries removed."""
        removed = 0
        for path, _ in list(self._entries()):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        with contextlib.suppress(OSError):
            for item in os.scandir(self._temporary_dir()):
                with contextlib.suppress(OSError):
                    Path(item.path).unlink()
        return removed


def _make_private_dir(path: Path) -> None:
    """Created 0700 (other users must not plant entries); an existing one is left alone."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)


def _decode(raw: bytes) -> dict[str, Any] | None:
    if not raw.startswith(_MAGIC):
        return None
    try:
        # zlib checks its own checksum: a truncated or damaged entry fails here.
        document = json.loads(zlib.decompress(raw[len(_MAGIC):]))
    except (zlib.error, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return None
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
        return None
    return document
