"""Whether a distribution release is past the end of its free security support.

The dates come from Debian's ``distro-info-data`` package (``debian.csv``, ``ubuntu.csv``:
the data behind ``debian-distro-info`` and ``ubuntu-distro-info``), read from
``HULLSCAN_DISTRO_INFO`` or ``/usr/share/distro-info``. Releases the data does not cover stay
unknown rather than guessed.
"""

from __future__ import annotations

import csv
import datetime
import os
from dataclasses import replace
from pathlib import Path

from hullscan.image.distro import Distro

DEFAULT_LOCATION = Path("/usr/share/distro-info")

# Columns holding the end of free support, last first: Debian's LTS outlives its regular
# security support (ELTS is commercial); Ubuntu's standard support ends at eol or, for old
# LTS releases, eol-server (ESM is commercial).
_SUPPORT_COLUMNS = {"debian": ("eol-lts", "eol"), "ubuntu": ("eol-server", "eol")}


def data_location() -> Path:
    """Where the distro-info CSV files are read from."""
    return Path(os.environ.get("HULLSCAN_DISTRO_INFO") or DEFAULT_LOCATION)


def with_support_status(distro: Distro | None, today: datetime.date,
                        location: Path | None = None) -> Distro | None:
    """``distro`` with ``support_ends`` and ``end_of_life`` filled in where data exists."""
    if distro is None or distro.id not in _SUPPORT_COLUMNS:
        return distro
    table = (location or data_location()) / f"{distro.id}.csv"
    try:
        with table.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        return distro
    row = next((r for r in rows if _same_release(distro, r)), None)
    if row is None:
        return distro
    ends = max((row[c] for c in _SUPPORT_COLUMNS[distro.id] if row.get(c)), default=None)
    if ends is None:
        return replace(distro, end_of_life=False)  # no end date published yet
    return replace(distro, support_ends=ends,
                   end_of_life=datetime.date.fromisoformat(ends) < today)


def _same_release(distro: Distro, row: dict[str, str]) -> bool:
    if distro.codename and distro.codename.lower() == row.get("series", "").lower():
        return True
    version = (row.get("version") or "").split()[0]
    wanted = distro.version_id or ""
    if distro.id == "debian":
        wanted = wanted.split(".")[0]  # 12.4 is Debian 12
    return bool(version) and version == wanted
