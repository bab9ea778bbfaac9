"""Tiny in-memory layers for unit tests of the layer reader and the squashed view."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass

import zstandard

from hullscan.image.decompress import DecompressedLayer
from hullscan.image.layer import (
    CapturePaths,
    LayerContents,
    LayerInfo,
    LayerVisitor,
    read_layer_tar,
)
from hullscan.image.limits import ReadBudget, ReadLimits


@dataclass(frozen=True)
class Member:
    """One tar entry: a file (content), a directory, a symlink or a hard link."""

    name: str
    content: bytes | None = None
    symlink: str | None = None
    hardlink: str | None = None
    directory: bool = False
    mode: int = 0o644


def tar_bytes(members: list[Member]) -> bytes:
    """An uncompressed tar of ``members`` in order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.mode = member.mode
            if member.directory:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif member.symlink is not None:
                info.type, info.linkname = tarfile.SYMTYPE, member.symlink
                archive.addfile(info)
            elif member.hardlink is not None:
                info.type, info.linkname = tarfile.LNKTYPE, member.hardlink
                archive.addfile(info)
            else:
                data = member.content or b""
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def compress(data: bytes, compression: str) -> bytes:
    """``data`` compressed with gzip, zstd or nothing."""
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


def diff_id(tar: bytes) -> str:
    """The diff ID of an uncompressed tar."""
    return "sha256:" + hashlib.sha256(tar).hexdigest()


def read(members: list[Member], *, index: int = 0, compression: str = "gzip",
         wanted: tuple[str, ...] = (), limits: ReadLimits | None = None,
         budget: ReadBudget | None = None, visitor: LayerVisitor | None = None
         ) -> LayerContents:
    """Build a layer from ``members`` and read it back."""
    tar = tar_bytes(members)
    blob = compress(tar, compression)
    info = LayerInfo(index=index, diff_id=diff_id(tar), digest=None, media_type=None,
                     size=len(blob))
    return read_blob(blob, info, wanted=wanted, limits=limits, budget=budget, visitor=visitor)


def read_blob(blob: bytes, info: LayerInfo, *, wanted: tuple[str, ...] = (),
              limits: ReadLimits | None = None, budget: ReadBudget | None = None,
              visitor: LayerVisitor | None = None) -> LayerContents:
    """Read a prepared blob as layer ``info`` (capturing ``wanted``, or with ``visitor``)."""
    budget = budget or ReadBudget(limits or ReadLimits(), subject="test")
    stream = DecompressedLayer(io.BytesIO(blob), diff_id=info.diff_id, budget=budget,
                               subject="test")
    visitor = visitor or CapturePaths(wanted.__contains__)
    return read_layer_tar(stream, info, visitor=visitor, budget=budget,
                          subject="test")
