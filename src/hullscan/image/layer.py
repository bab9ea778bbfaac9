"""One pass over a layer's tar stream: file metadata, whiteouts and the contents analysers want."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from hullscan.errors import HullscanError
from hullscan.image import tar_stream as tar
from hullscan.image.decompress import DecompressedLayer
from hullscan.image.limits import ReadBudget
from hullscan.image.paths import normalise_member_path, parent_of
from hullscan.image.plain_layer import PlainLayer
from hullscan.image.read_ahead import read_ahead
from hullscan.image.tar_stream import TarHeader, TarStream

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


@dataclass(frozen=True)
class LayerInfo:
    """A layer as the image describes it, linked to the build step that made it."""

    index: int
    diff_id: str | None
    """sha256 of the uncompressed tar (None for a root-filesystem directory)."""
    digest: str | None
    """Digest of the blob as stored (compressed or not)."""
    media_type: str | None
    size: int
    """Size of the stored blob in bytes."""
    created_by: str | None = None
    history_index: int | None = None
    created: str | None = None


class FileKind(enum.StrEnum):
    """What a file-system entry is."""

    REGULAR = "file"
    DIRECTORY = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR_DEVICE = "char-device"
    BLOCK_DEVICE = "block-device"
    FIFO = "fifo"


KIND_BY_VALUE = {kind.value: kind for kind in FileKind}
"""``FileKind`` by its value, for decoding many entries: a dict lookup costs a twelfth of
``FileKind(value)``."""


_TAR_KINDS = {
    tar.REGULAR: FileKind.REGULAR, tar.OLD_REGULAR: FileKind.REGULAR,
    tar.CONTIGUOUS: FileKind.REGULAR, tar.GNU_SPARSE: FileKind.REGULAR,
    tar.DIRECTORY: FileKind.DIRECTORY, tar.SYMLINK: FileKind.SYMLINK,
    tar.HARDLINK: FileKind.HARDLINK, tar.CHAR_DEVICE: FileKind.CHAR_DEVICE,
    tar.BLOCK_DEVICE: FileKind.BLOCK_DEVICE, tar.FIFO: FileKind.FIFO,
}
_DATA_TYPES = frozenset({tar.REGULAR, tar.OLD_REGULAR, tar.CONTIGUOUS})


class FileEntry(NamedTuple):
    """One file-system entry of a layer.

    A named tuple rather than a frozen dataclass: one is made per tar entry (hundreds of
    thousands in large images, and again when a cache entry is loaded), and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) cost six times as much.
    """

    path: str
    """Normalised path without leading slash (``etc/os-release``)."""
    kind: FileKind
    size: int
    mode: int
    """Permission bits including setuid/setgid/sticky."""
    uid: int
    gid: int
    mtime: int
    link_target: str | None
    """Symlink target as written, or the normalised path a hard link points to."""
    layer_index: int


@dataclass(frozen=True)
class LayerContents:
    """Everything one pass over a layer found: the unit later stages merge (and cache)."""

    layer: LayerInfo
    entries: tuple[FileEntry, ...]
    whiteouts: tuple[str, ...]
    """Paths of lower layers this layer deletes."""
    opaque_dirs: tuple[str, ...]
    """Directories whose lower-layer contents this layer hides."""
    captured: dict[str, bytes] = field(default_factory=dict, compare=False)
    """Contents of the files a visitor asked for, by path."""
    anomalies: tuple[str, ...] = ()
    """Oddities that did not stop the read (hard link to a missing file, oversized file, ...)."""
    compression: str = "none"
    uncompressed_size: int = 0


class LayerVisitor(Protocol):
    """Whoever wants file contents during the one pass over a layer (analysers, capture)."""

    def wants(self, entry: FileEntry) -> bool:
        """Should this file's contents be read and handed to :meth:`visit`?"""
        ...

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        """Look at a wanted file; return True to keep its contents in the layer's result."""
        ...


Commit = Callable[[], None]
"""Applies an imported layer state to a visitor (see :class:`CachingVisitor`)."""


class CachingVisitor(LayerVisitor, Protocol):
    """A visitor whose per-layer results can be cached and brought back without a read.

    States are JSON-able and independent of the layer's index: the same layer (diff ID) may
    sit at another index in another image, so :meth:`import_layer` stamps the new one.
    """

    def cache_key(self) -> str | None:
        """What changes this visitor's results (name, version, options); None: never cache."""
        ...

    def export_layer(self, index: int) -> Any:
        """The JSON-able results of the layer at ``index``, without the index."""
        ...

    def import_layer(self, contents: LayerContents, state: Any) -> Commit:
        """Check ``state`` (raising ``ValueError``, ``KeyError`` or ``TypeError`` on one this
        visitor did not export) and return what records it for ``contents.layer.index``.

        Nothing changes before the returned function runs, so a bad entry leaves no trace.
        """
        ...


def cache_key_of(visitor: LayerVisitor) -> str | None:
    """The visitor's cache key, None when it cannot be cached."""
    key = getattr(visitor, "cache_key", None)
    return key() if callable(key) else None


@dataclass(frozen=True)
class CapturePaths:
    """A visitor that keeps the contents of the files whose path a predicate accepts."""

    predicate: Callable[[str], bool]

    def wants(self, entry: FileEntry) -> bool:
        """Files whose path the predicate accepts."""
        return self.predicate(entry.path)

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        """Keep everything wanted."""
        return True


class CompositeVisitor:
    """Several visitors sharing the one pass: each sees the files it wants; a file's contents
    are kept if any of them keeps it."""

    def __init__(self, visitors: Sequence[LayerVisitor]) -> None:
        self._visitors = tuple(visitors)

    def wants(self, entry: FileEntry) -> bool:
        """Files any visitor wants."""
        return any(visitor.wants(entry) for visitor in self._visitors)

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        """Hand the file to every visitor that wants it."""
        keep = False
        for visitor in self._visitors:
            if visitor.wants(entry) and visitor.visit(entry, content):
                keep = True
        return keep

    def cache_key(self) -> str | None:
        """Every visitor's key, in order; None when one of them cannot be cached."""
        keys = [cache_key_of(visitor) for visitor in self._visitors]
        if any(key is None for key in keys):
            return None
        return "composite[" + "|".join(key or "" for key in keys) + "]"

    def export_layer(self, index: int) -> Any:
        """Each visitor's state, in order."""
        return [visitor.export_layer(index)  # type: ignore[attr-defined]
                for visitor in self._visitors]

    def import_layer(self, contents: LayerContents, state: Any) -> Commit:
        """Each visitor's state; all are checked before any is recorded."""
        if not isinstance(state, list) or len(state) != len(self._visitors):
            raise ValueError("not a composite visitor state")
        commits: list[Commit] = [
            visitor.import_layer(contents, part)  # type: ignore[attr-defined]
            for visitor, part in zip(self._visitors, state, strict=True)]

        def commit() -> None:
            for each in commits:
                each()
        return commit


def as_visitor(wanted: LayerVisitor | Callable[[str], bool]) -> LayerVisitor:
    """A visitor as given, or one capturing the paths a plain predicate accepts."""
    if hasattr(wanted, "visit"):
        return wanted  # type: ignore[return-value]
    return CapturePaths(wanted)


def read_layer_tar(stream: DecompressedLayer | PlainLayer, layer: LayerInfo, *,
                   visitor: LayerVisitor, budget: ReadBudget, subject: str) -> LayerContents:
    """Read a layer's tar once; hand wanted regular files (and hard links) to ``visitor``.

    Decompression and hashing run ahead in a thread (:mod:`hullscan.image.read_ahead`); a
    plain layer read in place hashes in a thread of its own and skips unwanted data.
    """
    found = _Found()
    skip = stream.skip if isinstance(stream, PlainLayer) else None
    try:
        with nullcontext(stream.read) if skip else read_ahead(stream.read) as read:
            archive = TarStream(read, max_header_bytes=budget.limits.max_header_bytes,
                                skip=skip)
            while (member := archive.next()) is not None:
                budget.add_file()
                found.add(archive, member, layer.index, visitor, budget, subject)
            archive.finish()
        stream.finish()
    except HullscanError as error:
        raise error.with_subject(subject) from None
    return LayerContents(layer, tuple(found.entries), tuple(found.whiteouts),
                         tuple(found.opaque_dirs), found.captured, tuple(found.anomalies),
                         stream.compression, stream.uncompressed_size)


@dataclass
class _Found:
    """What the pass over one layer has found so far."""

    entries: list[FileEntry] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)
    opaque_dirs: list[str] = field(default_factory=list)
    captured: dict[str, bytes] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)
    seen: dict[str, FileEntry] = field(default_factory=dict)

    def add(self, archive: TarStream, member: TarHeader, layer_index: int,
            visitor: LayerVisitor, budget: ReadBudget, subject: str) -> None:
        """One tar entry: a whiteout, or a file (its contents to ``visitor`` if wanted)."""
        path = normalise_member_path(member.name, subject=subject)
        name = path.rpartition("/")[2]
        if name.startswith(WHITEOUT_PREFIX):
            if name == OPAQUE_MARKER:
                self.opaque_dirs.append(parent_of(path))
            elif not name.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
                # ".wh..wh.*" other than the opaque marker is aufs bookkeeping.
                deleted = name[len(WHITEOUT_PREFIX):]
                self.whiteouts.append(f"{parent_of(path)}/{deleted}".lstrip("/"))
            return
        if not path:
            return  # the root directory itself
        entry = _entry(member, path, layer_index, subject, self.seen, self.anomalies)
        self.entries.append(entry)
        self.seen[path] = entry
        if entry.kind in _CONTENT_KINDS and visitor.wants(entry):
            _visit(archive, member, entry, visitor, self.captured, self.anomalies, budget)


def _entry(member: TarHeader, path: str, layer_index: int, subject: str,
           seen: dict[str, FileEntry], anomalies: list[str]) -> FileEntry:
    kind = _TAR_KINDS.get(member.type, FileKind.REGULAR)
    target: str | None = None
    size = member.size if member.real_size is None else member.real_size
    if kind is FileKind.SYMLINK:
        target = member.linkname
    elif kind is FileKind.HARDLINK:
        target = normalise_member_path(member.linkname, subject=subject)
        linked = seen.get(target)
        if linked is None:
            anomalies.append(f"hard link {path} -> {target}: target not in this layer")
            size = 0
        else:
            size = linked.size
    return FileEntry(path, kind, size, member.mode, member.uid, member.gid, member.mtime,
                     target, layer_index)


_CONTENT_KINDS = frozenset({FileKind.REGULAR, FileKind.HARDLINK})


def _visit(archive: TarStream, member: TarHeader, entry: FileEntry,
           visitor: LayerVisitor, captured: dict[str, bytes], anomalies: list[str],
           budget: ReadBudget) -> None:
    limit = budget.limits.max_captured_file_bytes
    if entry.kind is FileKind.HARDLINK:
        # The data travels with the link's target, earlier in this layer: only a target
        # somebody kept can be looked at again.
        content = captured.get(entry.link_target or "")
        if content is None:
            return
    elif member.type not in _DATA_TYPES:
        return  # an unknown entry type: counted as a file, its data is not a file's contents
    elif member.sparse:
        anomalies.append(f"{entry.path}: sparse file, not analysed")
        return
    elif entry.size > limit:
        anomalies.append(f"{entry.path}: {entry.size} bytes, over the {limit}-byte analysis limit")
        return
    else:
        content = archive.read_data(member)
    if visitor.visit(entry, content):
        captured[entry.path] = content
