"""A root filesystem in a directory (``dir:``), read as one layer without following links out."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO

from hullscan.errors import CorruptContentError, ImageNotFoundError
from hullscan.image.layer import FileEntry, FileKind, LayerContents, LayerInfo, LayerVisitor
from hullscan.image.limits import ReadBudget
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import ImageReference
from hullscan.image.sources.interface import AcquireOptions, ImageSource

_KINDS = (
    (stat.S_ISDIR, FileKind.DIRECTORY), (stat.S_ISLNK, FileKind.SYMLINK),
    (stat.S_ISREG, FileKind.REGULAR), (stat.S_ISCHR, FileKind.CHAR_DEVICE),
    (stat.S_ISBLK, FileKind.BLOCK_DEVICE), (stat.S_ISFIFO, FileKind.FIFO),
)


class RootFilesystemSource(ImageSource):
    """Every file below the directory, as if it were the only layer of an image."""

    def __init__(self, reference: ImageReference, workdir: Path,
                 options: AcquireOptions) -> None:
        super().__init__(workdir, options)
        assert reference.path is not None
        if not reference.path.is_dir():
            raise ImageNotFoundError("no such directory", subject=reference.text)
        self.root = reference.path
        self.metadata = ImageMetadata(
            reference=reference.text, source=reference.kind, name=str(reference.path),
            manifest_digest=None, index_digest=None, manifest_media_type=None, image_id=None,
            platform=None, config=None,
            layers=(LayerInfo(index=0, diff_id=None, digest=None, media_type=None, size=0),))

    def open_layer_blob(self, layer: LayerInfo) -> contextlib.AbstractContextManager[IO[bytes]]:
        raise CorruptContentError("a root filesystem has no layer blobs",
                                  subject=self.metadata.reference)

    def read_layer(self, layer: LayerInfo, *, visitor: LayerVisitor,
                   budget: ReadBudget) -> LayerContents:
        entries: list[FileEntry] = []
        captured: dict[str, bytes] = {}
        anomalies: list[str] = []
        for relative, status in self._walk():
            budget.add_file()
            kind = next((k for test, k in _KINDS if test(status.st_mode)), FileKind.REGULAR)
            target = str((self.root / relative).readlink()) if kind is FileKind.SYMLINK else None
            entry = FileEntry(relative, kind, status.st_size if kind is FileKind.REGULAR else 0,
                              stat.S_IMODE(status.st_mode), status.st_uid, status.st_gid,
                              int(status.st_mtime), target, layer.index)
            entries.append(entry)
            if kind is FileKind.REGULAR and visitor.wants(entry):
                if status.st_size > budget.limits.max_captured_file_bytes:
                    anomalies.append(f"{relative}: {status.st_size} bytes, over the analysis limit")
                    continue
                content = self._read_no_follow(relative, status.st_size)
                budget.add_bytes(status.st_size)
                if visitor.visit(entry, content):
                    captured[relative] = content
        total = sum(entry.size for entry in entries)
        return LayerContents(layer, tuple(entries), (), (), captured, tuple(anomalies),
                             uncompressed_size=total)

    def _walk(self) -> list[tuple[str, os.stat_result]]:
        found: list[tuple[str, os.stat_result]] = []
        pending = [""]
        while pending:
            directory = pending.pop()
            with os.scandir(self.root / directory) as listing:
                for item in listing:
                    relative = f"{directory}/{item.name}".lstrip("/")
                    status = item.stat(follow_symlinks=False)
                    found.append((relative, status))
                    if stat.S_ISDIR(status.st_mode):
                        pending.append(relative)
        return found

    def _read_no_follow(self, relative: str, size: int) -> bytes:
        # O_NOFOLLOW: a file swapped for a symlink after the walk is not followed out.
        descriptor = os.open(self.root / relative, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read(size)
