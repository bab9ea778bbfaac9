"""Exclusive locks that serialise the writers of a database folder and of a feed cache.

Readers take no lock: a database is only ever swapped in whole with ``os.replace``. Writers
(build, update, import) take an ``flock``, which the kernel releases when the process dies, so
a temporary file found while holding the lock was left by a killed writer and can go.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

BUILDING_SUFFIX = ".building"
IMPORTING_SUFFIX = ".importing"
CACHE_LOCK_NAME = ".update.lock"


def folder_lock(folder: Path) -> contextlib.AbstractContextManager[None]:
    """Hold an exclusive lock on ``folder`` itself (no lock file is left behind); blocks."""
    return _exclusive(folder, os.O_RDONLY | os.O_DIRECTORY)


def file_lock(path: Path) -> contextlib.AbstractContextManager[None]:
    """Hold an exclusive lock on ``path`` (created empty if absent); blocks."""
    return _exclusive(path, os.O_RDWR | os.O_CREAT)


@contextlib.contextmanager
def _exclusive(path: Path, flags: int) -> Iterator[None]:
    handle = os.open(path, flags, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def remove_leftovers(destination: Path) -> list[Path]:
    """Remove the temporary files killed writers left beside ``destination``; the paths removed.

    Call only while holding :func:`folder_lock` on the destination's folder.
    """
    prefix = f".{destination.name}."
    removed: list[Path] = []
    for path in destination.parent.iterdir():
        if path.name.startswith(prefix) and path.name.endswith((BUILDING_SUFFIX,
                                                                IMPORTING_SUFFIX)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed
