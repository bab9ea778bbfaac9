"""What dpkg keeps beside its status database: per-package file lists and copyright files."""

from __future__ import annotations

import contextlib
import re

from hullscan.catalog.model import FoundPackage
from hullscan.catalog.os.dpkg import parse_copyright, parse_file_list
from hullscan.image.filesystem import SquashedFilesystem, SymlinkLoopError

_KEPT = re.compile(r"^(var/lib/dpkg/info/[^/]+\.list|var/lib/dpkg/status\.d/[^/]+\.md5sums"
                   r"|usr/share/doc/[^/]+/copyright)$")


def keeps_dpkg_file(path: str) -> bool:
    """The files :func:`dpkg_details` reads, to be kept during the layer pass."""
    return _KEPT.match(path) is not None


def dpkg_details(filesystem: SquashedFilesystem,
                 package: FoundPackage) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The files a dpkg package owns and the licences its copyright file names."""
    files: tuple[str, ...] = package.files
    candidates = [f"var/lib/dpkg/info/{package.name}.list"]
    if package.architecture:
        candidates.insert(0, f"var/lib/dpkg/info/{package.name}:{package.architecture}.list")
    for candidate in candidates:
        if data := _read(filesystem, candidate):
            files = parse_file_list(data)
            break
    else:
        if data := _read(filesystem, f"var/lib/dpkg/status.d/{package.name}.md5sums"):
            files = tuple(line.split(maxsplit=1)[1].strip().lstrip("/")
                          for line in data.decode("utf-8", "replace").splitlines()
                          if len(line.split(maxsplit=1)) == 2)
    copyright_file = _read(filesystem, f"usr/share/doc/{package.name}/copyright")
    return files, parse_copyright(copyright_file) if copyright_file else ()


def _read(filesystem: SquashedFilesystem, path: str) -> bytes | None:
    with contextlib.suppress(SymlinkLoopError):
        return filesystem.read(path)
    return None
