"""Read files of an image layout or archive, whether it is a directory or a tar file."""

from __future__ import annotations

import io
import tarfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO

from hullscan.errors import CorruptContentError, HostileContentError
from hullscan.image.paths import normalise_member_path
from hullscan.image.plain_layer import BlobFile


class LayoutStore(ABC):
    """Named files of a layout: ``index.json``, ``blobs/sha256/...``, ``manifest.json``."""

    def __init__(self, location: Path) -> None:
        self.location = location

    @abstractmethod
    def open(self, name: str) -> IO[bytes] | None:
        """Open a file, or None if there is none by that name."""

    @abstractmethod
    def size(self, name: str) -> int | None:
        """Size of a file in bytes, or None if missing."""

    def read(self, name: str, *, max_bytes: int) -> bytes | None:
        """A small file's bytes; refuses files above ``max_bytes``."""
        size = self.size(name)
        if size is None:
            return None
        if size > max_bytes:
            raise CorruptContentError(f"{name} is {size} bytes, more than the {max_bytes} allowed",
                                      subject=str(self.location))
        handle = self.open(name)
        if handle is None:
            return None
        with handle:
            return handle.read(max_bytes + 1)[:max_bytes]

    def locate(self, name: str) -> BlobFile | None:
        """Where a file's bytes lie, as they are, in a local file (None: not so stored)."""
        return None

    def reopen(self) -> LayoutStore:
        """A store over the same location with handles of its own (for a forked process)."""
        return self

    def close(self) -> None:  # noqa: B027 - a directory holds nothing open
        """Release the underlying file."""


class DirectoryStore(LayoutStore):
    """A layout unpacked in a directory (``oci-dir:``)."""

    def _path(self, name: str) -> Path:
        return self.location / normalise_member_path(name, subject=str(self.location))

    def open(self, name: str) -> IO[bytes] | None:
        path = self._path(name)
        return path.open("rb") if path.is_file() else None

    def size(self, name: str) -> int | None:
        path = self._path(name)
        return path.stat().st_size if path.is_file() else None

    def locate(self, name: str) -> BlobFile | None:
        path = self._path(name)
        return BlobFile(path, 0, path.stat().st_size) if path.is_file() else None


class TarStore(LayoutStore):
    """A layout or ``docker save`` output inside a tar file (read in place, never extracted)."""

    def __init__(self, location: Path) -> None:
        super().__init__(location)
        try:
            # Kept open for the life of the store; closed by close().
            self._archive = tarfile.open(location, "r:*")  # noqa: SIM115
            members = self._archive.getmembers()
        except (tarfile.TarError, OSError, EOFError) as error:
            raise CorruptContentError(f"not a readable tar archive ({error})",
                                      subject=str(location)) from error
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in members:
            try:
                name = normalise_member_path(member.name, subject=str(location))
            except HostileContentError:
                continue  # such a member can never be named by the layout files we follow
            self._members[name] = member

    def _member(self, name: str) -> tarfile.TarInfo | None:
        member = self._members.get(normalise_member_path(name, subject=str(self.location)))
        if member is not None and (member.issym() or member.islnk()):
            try:
                # tarfile resolves links against the archive's own members only.
                resolved = self._archive._find_link_target(member)  # type: ignore[attr-defined]
            except KeyError:
                return None
            return resolved if isinstance(resolved, tarfile.TarInfo) else None
        return member

    def open(self, name: str) -> IO[bytes] | None:
        member = self._member(name)
        if member is None or not member.isfile():
            return None
        return self._archive.extractfile(member)

    def size(self, name: str) -> int | None:
        member = self._member(name)
        return member.size if member is not None and member.isfile() else None

    def locate(self, name: str) -> BlobFile | None:
        member = self._member(name)
        # Only an uncompressed archive holds its members' bytes in place.
        if member is None or not member.isreg() or member.issparse() or \
                type(self._archive.fileobj) is not io.BufferedReader:
            return None
        return BlobFile(self.location, member.offset_data, member.size)

    def reopen(self) -> LayoutStore:
        return TarStore(self.location)

    def close(self) -> None:
        self._archive.close()


def open_store(location: Path) -> LayoutStore:
    """A store for a directory or a tar file."""
    return DirectoryStore(location) if location.is_dir() else TarStore(location)
