"""One pass over a layer's tar stream: file metadata, whiteouts and the contents analysers want."""

from __future__ import annotations

import enum
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from hullscan.errors import CorruptContentError, HostileContentError, HullscanError
from hullscan.image.decompress import DecompressedLayer
from hullscan.image.limits import ReadBudget
from hullscan.image.paths import normalise_member_path, parent_of

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


_TAR_KINDS = {
    tarfile.REGTYPE: FileKind.REGULAR, tarfile.AREGTYPE: FileKind.REGULAR,
    tarfile.CONTTYPE: FileKind.REGULAR, tarfile.GNUTYPE_SPARSE: FileKind.REGULAR,
    tarfile.DIRTYPE: FileKind.DIRECTORY, tarfile.SYMTYPE: FileKind.SYMLINK,
    tarfile.LNKTYPE: FileKind.HARDLINK, tarfile.CHRTYPE: FileKind.CHAR_DEVICE,
    tarfile.BLKTYPE: FileKind.BLOCK_DEVICE, tarfile.FIFOTYPE: FileKind.FIFO,
}


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file-system entry of a layer."""

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


_EXTENDED_HEADER_TYPES = frozenset({tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
                                    tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK})


class _GuardedTarInfo(tarfile.TarInfo):
    """Refuse extended headers (pax, GNU long names) large enough to exhaust memory.

    tarfile reads such a header into memory whole, trusting its declared size.
    """

    max_header_bytes = 1024 * 1024

    def _proc_member(self, tarfile_: tarfile.TarFile) -> Any:
        if self.type in _EXTENDED_HEADER_TYPES and self.size > self.max_header_bytes:
            raise HostileContentError(f"tar extended header of {self.size} bytes")
        return super()._proc_member(tarfile_)  # type: ignore[misc]


def read_layer_tar(stream: DecompressedLayer, layer: LayerInfo, *, visitor: LayerVisitor,
                   budget: ReadBudget, subject: str) -> LayerContents:
    """Read a layer's tar once; hand wanted regular files (and hard links) to ``visitor``."""
    entries: list[FileEntry] = []
    whiteouts: list[str] = []
    opaque_dirs: list[str] = []
    captured: dict[str, bytes] = {}
    anomalies: list[str] = []
    seen: dict[str, FileEntry] = {}
    guarded = type("_Guarded", (_GuardedTarInfo,),
                   {"max_header_bytes": budget.limits.max_header_bytes})
    try:
        with tarfile.open(fileobj=stream, mode="r|", tarinfo=guarded,  # type: ignore[call-overload]
                          errorlevel=2) as archive:
            while (member := archive.next()) is not None:
                # tarfile keeps every TarInfo it has read; a layer of 500,000 files would
                # hold them all. We keep our own compact entries instead.
                archive.members.clear()
                budget.add_file()
                path = normalise_member_path(member.name, subject=subject)
                name = path.rpartition("/")[2]
                if name.startswith(WHITEOUT_PREFIX):
                    if name == OPAQUE_MARKER:
                        opaque_dirs.append(parent_of(path))
                    elif not name.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
                        # ".wh..wh.*" other than the opaque marker is aufs bookkeeping.
                        deleted = name[len(WHITEOUT_PREFIX):]
                        whiteouts.append(f"{parent_of(path)}/{deleted}".lstrip("/"))
                    continue
                if not path:
                    continue  # the root directory itself
                entry = _entry(member, path, layer.index, subject, seen, anomalies)
                entries.append(entry)
                seen[path] = entry
                if entry.kind in _CONTENT_KINDS and visitor.wants(entry):
                    _visit(archive, member, entry, visitor, captured, anomalies, budget)
            stream.finish()
    except HullscanError as error:
        raise error.with_subject(subject) from None
    except (tarfile.TarError, EOFError) as error:
        raise CorruptContentError(f"not a valid tar stream ({error})", subject=subject) from error
    return LayerContents(layer, tuple(entries), tuple(whiteouts), tuple(opaque_dirs), captured,
                         tuple(anomalies), stream.compression, stream.uncompressed_size)


def _entry(member: tarfile.TarInfo, path: str, layer_index: int, subject: str,
           seen: dict[str, FileEntry], anomalies: list[str]) -> FileEntry:
    kind = _TAR_KINDS.get(member.type, FileKind.REGULAR)
    target: str | None = None
    size = member.size
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
    return FileEntry(path, kind, size, member.mode, member.uid, member.gid, int(member.mtime),
                     target, layer_index)


_CONTENT_KINDS = frozenset({FileKind.REGULAR, FileKind.HARDLINK})


def _visit(archive: tarfile.TarFile, member: tarfile.TarInfo, entry: FileEntry,
           visitor: LayerVisitor, captured: dict[str, bytes], anomalies: list[str],
           budget: ReadBudget) -> None:
    limit = budget.limits.max_captured_file_bytes
    if entry.kind is FileKind.HARDLINK:
        # The data travels with the link's target, earlier in this layer: only a target
        # somebody kept can be looked at again.
        content = captured.get(entry.link_target or "")
        if content is None:
            return
    elif entry.size > limit:
        anomalies.append(f"{entry.path}: {entry.size} bytes, over the {limit}-byte analysis limit")
        return
    else:
        handle: IO[bytes] | None = archive.extractfile(member)
        if handle is None:
            return
        content = handle.read(entry.size)
    if visitor.visit(entry, content):
        captured[entry.path] = content
