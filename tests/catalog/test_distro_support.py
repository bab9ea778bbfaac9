"""End of free security support from Debian's distro-info data."""

from __future__ import annotations

import datetime
from pathlib import Path

from hullscan.catalog.distro_support import DEFAULT_LOCATION, with_support_status
from hullscan.image.distro import Distro

BOOKWORM = Distro("debian", "12", "Debian GNU/Linux 12 (bookworm)", "bookworm")
DAY = datetime.date(2026, 11, 27)


def test_real_distro_info_data() -> None:
    assert (DEFAULT_LOCATION / "debian.csv").is_file(), ".ci/run installs distro-info-data"
    bookworm = with_support_status(BOOKWORM, DAY)
    assert bookworm is not None
    assert bookworm.support_ends is not None and bookworm.support_ends >= "2028-01-01"
    assert bookworm.end_of_life is False
    later = with_support_status(BOOKWORM, datetime.date.fromisoformat(bookworm.support_ends)
                                + datetime.timedelta(days=1))
    assert later is not None and later.end_of_life is True
    buster = with_support_status(Distro("debian", "10", None, "buster"), DAY)
    assert buster is not None and buster.end_of_life is True
    focal = with_support_status(Distro("ubuntu", "20.04", None, "focal"), DAY)
    assert focal is not None and focal.end_of_life is True
    noble = with_support_status(Distro("ubuntu", "24.04", None, "noble"), DAY)
    assert noble is not None and noble.end_of_life is False


def test_point_releases_and_missing_data(tmp_path: Path) -> None:
    (tmp_path / "debian.csv").write_text(
        "version,codename,series,created,release,eol,eol-lts,eol-elts\n"
        "12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-07-11,2028-06-30,2033-06-30\n"
        "14,Forky,forky,2025-08-09,,,,\n")
    point = with_support_status(Distro("debian", "12.4", None, None), DAY, tmp_path)
    assert point is not None and point.support_ends == "2028-06-30"
    future = with_support_status(Distro("debian", "14", None, "forky"), DAY, tmp_path)
    assert future is not None and (future.end_of_life, future.support_ends) == (False, None)
    unknown = Distro("alpine", "3.19.1", None)
    assert with_support_status(unknown, DAY, tmp_path) == unknown
    assert with_support_status(BOOKWORM, DAY, tmp_path / "nowhere") == BOOKWORM
