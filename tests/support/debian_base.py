"""A real Debian bookworm minbase root filesystem, built once with debootstrap and cached.

The cache lives in ``/work/main/.test-cache/`` (gitignored) unless ``HULLSCAN_TEST_CACHE``
points elsewhere. A ``fcntl.flock`` lock makes parallel pytest-xdist workers build it once.

Cache layout (under ``<cache>/debian-bookworm-minbase/``):

* ``rootfs/``         the debootstrap output
* ``rootfs.tar``      an uncompressed layer tar of it (numeric owners, sorted, disk mtimes)
* ``build-info.json`` mirror, timings, sizes and the tar's diff ID
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.build_steps import locked

SUITE = "bookworm"
VARIANT = "minbase"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_CACHE_NAME = f"debian-{SUITE}-{VARIANT}"
_LOG_TAIL_LINES = 40
#: Left out of the layer tar, like the official Debian images do (downloaded .debs, apt lists).
LAYER_EXCLUDE = (
    ".hullscan-complete",
    "var/cache/apt/archives/*.deb",
    "var/cache/apt/*.bin",
    "var/lib/apt/lists/*_*",
)


class DebootstrapError(RuntimeError):
    """debootstrap failed; the message carries the tail of its log."""


class DebootstrapUnavailableError(DebootstrapError):
    """debootstrap cannot run here (not root, or not installed)."""


@dataclass(frozen=True)
class DebianBase:
    """The cached Debian base: rootfs directory, layer tar and its facts."""

    rootfs: Path
    layer_tar: Path
    diff_id: str
    tar_size: int
    build_seconds: float
    tar_seconds: float
    mirror: str | None


def cache_root() -> Path:
    """Return the test cache directory (``HULLSCAN_TEST_CACHE`` or ``<project>/.test-cache``)."""
    override = os.environ.get("HULLSCAN_TEST_CACHE")
    root = Path(override) if override else _PROJECT_ROOT / ".test-cache"
    root.mkdir(parents=True, exist_ok=True)
    return root


def debian_mirror(suite: str = SUITE) -> str | None:
    """Return the Debian mirror URI configured in apt for ``suite``, or None.

    Reads deb822 ``/etc/apt/sources.list.d/*.sources`` first, then ``/etc/apt/sources.list``.
    None means: let debootstrap use its own default mirror.
    """
    for sources in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        uri = _mirror_from_deb822(sources.read_text(encoding="utf-8", errors="replace"), suite)
        if uri:
            return uri
    legacy = Path("/etc/apt/sources.list")
    if legacy.is_file():
        return _mirror_from_one_line(legacy.read_text(encoding="utf-8", errors="replace"), suite)
    return None


def _mirror_from_deb822(text: str, suite: str) -> str | None:
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" in fields.get("types", "").split() and suite in fields.get("suites", "").split():
            uris = fields.get("uris", "").split()
            if uris:
                return uris[0]
    return None


def _mirror_from_one_line(text: str, suite: str) -> str | None:
    for line in text.splitlines():
        words = [w for w in line.split("#", 1)[0].split() if w]
        if words[:1] != ["deb"]:
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 2 and words[1] == suite:
            return words[0]
    return None


def debian_base(cache: Path | None = None) -> DebianBase:
    """Return the cached Debian base, building the rootfs and its layer tar if needed."""
    work = (cache or cache_root()) / _CACHE_NAME
    work.mkdir(parents=True, exist_ok=True)
    with locked(work / ".lock"):
        info_path = work / "build-info.json"
        info = _read_info(info_path)
        rootfs = work / "rootfs"
        if not (rootfs / ".hullscan-complete").is_file():
            info = {"mirror": debian_mirror()}
            info["build_seconds"] = _debootstrap(rootfs, info["mirror"], work / "debootstrap.log")
            _write_info(info_path, info)
        layer_tar = work / "rootfs.tar"
        if "diff_id" not in info or not layer_tar.is_file():
            info.update(_write_layer_tar(rootfs, layer_tar))
            _write_info(info_path, info)
    return DebianBase(
        rootfs=rootfs,
        layer_tar=layer_tar,
        diff_id=str(info["diff_id"]),
        tar_size=int(info["tar_size"]),
        build_seconds=float(info.get("build_seconds", 0.0)),
        tar_seconds=float(info.get("tar_seconds", 0.0)),
        mirror=info.get("mirror"),
    )


def _read_info(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_info(path: Path, info: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def _debootstrap(rootfs: Path, mirror: str | None, log_path: Path) -> float:
    """Run debootstrap into a scratch dir and move it to ``rootfs``; return seconds taken."""
    if os.geteuid() != 0:
        raise DebootstrapUnavailableError("debootstrap needs root")
    if shutil.which("debootstrap") is None:
        raise DebootstrapUnavailableError("debootstrap is not installed")
    scratch = rootfs.with_name("rootfs.partial")
    for stale in (scratch, rootfs):
        _remove_tree(stale)
    command = ["debootstrap", f"--variant={VARIANT}", SUITE, str(scratch)]
    if mirror:
        command.append(mirror)
    started = time.monotonic()
    with log_path.open("wb") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        tail = _log_tail(log_path, scratch / "debootstrap" / "debootstrap.log")
        _remove_tree(scratch)
        raise DebootstrapError(
            f"{' '.join(command)} exited {result.returncode} after {seconds:.0f}s; "
            f"log tail:\n{tail}"
        )
    _unmount_below(scratch)
    scratch.rename(rootfs)
    (rootfs / ".hullscan-complete").write_text(f"{seconds:.1f}\n", encoding="utf-8")
    return seconds


def _log_tail(*logs: Path) -> str:
    parts = []
    for log in logs:
        if log.is_file():
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            parts.append(f"--- {log} ---\n" + "\n".join(lines[-_LOG_TAIL_LINES:]))
    return "\n".join(parts) or "(no log)"


def _mounts_below(path: Path) -> list[Path]:
    prefix = str(path.resolve())
    found = []
    for line in Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        point = fields[1].encode().decode("unicode_escape")
        if point == prefix or point.startswith(prefix + "/"):
            found.append(Path(point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def _unmount_below(path: Path) -> None:
    """Lazily unmount anything a failed debootstrap left mounted below ``path``."""
    if not path.exists():
        return
    for point in _mounts_below(path):
        subprocess.run(["umount", "-l", str(point)], check=False, capture_output=True)
    if _mounts_below(path):
        raise DebootstrapError(f"cannot unmount leftovers below {path}")


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        _unmount_below(path)
        shutil.rmtree(path)


def _write_layer_tar(rootfs: Path, dest: Path) -> dict[str, Any]:
    """Write ``rootfs`` as an uncompressed layer tar; return its diff ID, size and timing."""
    from tests.support.image_builder import write_tree_tar

    started = time.monotonic()
    tmp = dest.with_suffix(".tmp")
    write_tree_tar(rootfs, tmp, exclude=LAYER_EXCLUDE)
    digest = hashlib.sha256()
    with tmp.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    tmp.replace(dest)
    return {
        "diff_id": f"sha256:{digest.hexdigest()}",
        "tar_size": dest.stat().st_size,
        "tar_seconds": round(time.monotonic() - started, 2),
    }
