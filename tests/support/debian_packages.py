"""Real Debian packages for tests: downloaded once with ``apt-get download`` and cached.

The cache is ``<cache>/debs/`` where ``<cache>`` is ``HULLSCAN_TEST_CACHE`` or
``<project>/.test-cache`` (see :func:`tests.support.debian_base.cache_root`). A
``fcntl.flock`` lock makes parallel pytest-xdist workers download and extract each package
once.

* ``fetch_debian_package(name)``   the downloaded ``.deb`` file
* ``extract_debian_package(name)`` a directory holding its ``dpkg-deb -x`` extraction
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.build_steps import locked
from tests.support.debian_base import cache_root


class DebianPackageUnavailableError(RuntimeError):
    """The package could not be downloaded (no apt, no network, unknown name)."""


def _debs_dir() -> Path:
    debs = cache_root() / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    return debs



def _check_name(name: str) -> None:
    if not name or not all(c.isalnum() or c in "+-." for c in name) or name[0] in "-.":
        raise ValueError(f"not a Debian package name: {name!r}")


def _cached_deb(folder: Path, name: str) -> Path | None:
    found = sorted(folder.glob(f"{name}_*.deb"))
    return found[-1] if found else None


def fetch_debian_package(name: str) -> Path:
    """Return the cached ``.deb`` of ``name``, running ``apt-get download`` if needed."""
    _check_name(name)
    debs = _debs_dir()
    with locked(debs / ".lock"):
        cached = _cached_deb(debs, name)
        if cached is not None:
            return cached
        if shutil.which("apt-get") is None:
            raise DebianPackageUnavailableError("apt-get is not installed")
        scratch = debs / f".download-{name}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        try:
            result = subprocess.run(
                ["apt-get", "download", name],
                cwd=scratch,
                capture_output=True,
                text=True,
                check=False,
                timeout=600,
            )
            downloaded = _cached_deb(scratch, name)
            if result.returncode != 0 or downloaded is None:
                raise DebianPackageUnavailableError(
                    f"apt-get download {name} exited {result.returncode}: "
                    f"{result.stderr.strip()[-500:]}"
                )
            target = debs / downloaded.name
            downloaded.replace(target)
            return target
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def extract_debian_package(name: str) -> Path:
    """Return a directory holding the files of ``name`` (``dpkg-deb -x``), cached."""
    deb = fetch_debian_package(name)
    debs = _debs_dir()
    target = debs / "extracted" / deb.stem
    with locked(debs / ".lock"):
        marker = target / ".hullscan-complete"
        if marker.is_file():
            return target
        shutil.rmtree(target, ignore_errors=True)
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        result = subprocess.run(
            ["dpkg-deb", "-x", str(deb), str(partial)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise DebianPackageUnavailableError(
                f"dpkg-deb -x {deb.name} exited {result.returncode}: {result.stderr.strip()}"
            )
        partial.rename(target)
        marker.write_text("ok\n", encoding="utf-8")
    return target
