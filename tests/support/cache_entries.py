"""Tell the cache directory's whole-image entries from its layer entries (tests only: it
reads every entry, which ``hullscan cache status`` does not)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

_MAGIC = b"HSLC1\n"


def entry_subjects(directory: Path) -> dict[Path, str]:
    """Each entry file and its subject (a diff ID, or ``image:`` and a config digest)."""
    subjects = {}
    for path in sorted(directory.glob("??/*.layer")):
        raw = path.read_bytes()
        assert raw.startswith(_MAGIC), path
        subjects[path] = json.loads(zlib.decompress(raw[len(_MAGIC):]))["diff_id"]
    return subjects


def image_entries(directory: Path) -> list[Path]:
    """The whole-image entries."""
    return [p for p, subject in entry_subjects(directory).items() if subject.startswith("image:")]


def layer_entries(directory: Path) -> list[Path]:
    """The per-layer entries."""
    return [p for p, subject in entry_subjects(directory).items()
            if not subject.startswith("image:")]
