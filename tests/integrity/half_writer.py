"""``hullscan ARGS`` whose first layer-cache write stops half-way, for a test to SIGKILL.

Run as ``python half_writer.py ARGS``. Only the layer cache's ``os.fdopen`` is replaced: the
first entry file it opens gets half of its bytes (flushed to disk), then the process sleeps
until it is killed. Everything else is the real command.
"""

from __future__ import annotations

import os
import sys
import time
import types
from typing import Any

import hullscan.image.layer_cache as layer_cache
from hullscan.cli.app import main


class _HalfFile:
    def __init__(self, file: Any) -> None:
        self.file = file

    def __enter__(self) -> _HalfFile:
        return self

    def __exit__(self, *details: object) -> None:
        self.file.close()

    def write(self, data: bytes) -> int:
        self.file.write(data[: len(data) // 2])
        self.file.flush()
        time.sleep(600)  # killed here
        return 0


def _fdopen(handle: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    return _HalfFile(os.fdopen(handle, mode, *args, **kwargs))


_os = types.ModuleType("os")
_os.__dict__.update({name: getattr(os, name) for name in dir(os) if not name.startswith("__")})
_os.fdopen = _fdopen  # type: ignore[attr-defined]
layer_cache.os = _os  # type: ignore[attr-defined]

if __name__ == "__main__":
    sys.argv[0] = "hullscan"
    main()
