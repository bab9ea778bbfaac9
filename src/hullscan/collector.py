"""The cyclic garbage collector tuned for analysing an image."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

THRESHOLD_WHILE_ANALYSING = 50_000
"""Allocations between collections of the youngest generation while an image is analysed
(Python's default: 700)."""

_lock = threading.Lock()
_analyses = 0
_thresholds: tuple[int, int, int] = (0, 0, 0)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the collector less often while an image is analysed, then as before (the service
    analyses images in several threads: the last one out restores the thresholds).

    An analysis makes a tuple for each tar entry, a record for each file of the squashed
    view and each package, and keeps them all; with the default threshold the collector
    keeps traversing that growing heap for cycles none of it forms. On the bench's 1 GB
    image (319,000 entries) the SBOM took 4.0-4.4 s with the default and 3.6 s with this
    (3.9 s when only the layer pass had it), at the same peak memory.
    """
    global _analyses, _thresholds
    with _lock:
        if _analyses == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(THRESHOLD_WHILE_ANALYSING, *_thresholds[1:])
        _analyses += 1
    try:
        yield
    finally:
        with _lock:
            _analyses -= 1
            if _analyses == 0:
                gc.set_threshold(*_thresholds)
