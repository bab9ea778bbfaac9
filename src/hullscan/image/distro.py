"""Which distribution an image is built on, from its release files."""

from __future__ import annotations

import contextlib
import shlex
from dataclasses import dataclass

from hullscan.image.filesystem import SquashedFilesystem, SymlinkLoopError

RELEASE_FILES = ("etc/os-release", "usr/lib/os-release", "etc/alpine-release",
                 "etc/debian_version", "etc/redhat-release", "etc/centos-release",
                 "etc/fedora-release", "etc/system-release", "etc/lsb-release")


def wants_release_file(path: str) -> bool:
    """Predicate for layer reads: capture the release files."""
    return path in RELEASE_FILES


@dataclass(frozen=True)
class Distro:
    """A distribution release, as ``/etc/os-release`` names it."""

    id: str
    version_id: str | None
    pretty_name: str | None
    codename: str | None = None
    id_like: tuple[str, ...] = ()
    support_ends: str | None = None
    """ISO date when the release's last free security support ends, where data says so."""
    end_of_life: bool | None = None
    """Past ``support_ends`` on the day of the scan; None when no data covers the release."""

    def __str__(self) -> str:
        return self.pretty_name or " ".join(filter(None, (self.id, self.version_id)))


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines with shell quoting, as os-release(5) specifies."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        with contextlib.suppress(ValueError):
            parts = shlex.split(raw)
            values[key.strip()] = parts[0] if parts else ""
    return values


def detect_distro(filesystem: SquashedFilesystem) -> Distro | None:
    """The image's distribution, or None when no release file says."""
    for path in ("etc/os-release", "usr/lib/os-release"):
        with contextlib.suppress(SymlinkLoopError):
            data = filesystem.read(path)
            if data:
                fields = parse_os_release(data.decode("utf-8", "replace"))
                if fields.get("ID"):
                    return Distro(fields["ID"], fields.get("VERSION_ID"),
                                  fields.get("PRETTY_NAME"),
                                  fields.get("VERSION_CODENAME"),
                                  tuple(fields.get("ID_LIKE", "").split()))
    with contextlib.suppress(SymlinkLoopError):
        if data := filesystem.read("etc/alpine-release"):
            version = data.decode("utf-8", "replace").strip()
            return Distro("alpine", version, f"Alpine Linux v{version}")
        if data := filesystem.read("etc/debian_version"):
            version = data.decode("utf-8", "replace").strip()
            return Distro("debian", version, f"Debian GNU/Linux {version}")
        for path in ("etc/redhat-release", "etc/centos-release", "etc/fedora-release"):
            if data := filesystem.read(path):
                text = data.decode("utf-8", "replace").strip()
                return Distro(text.split()[0].lower(), None, text)
    return None
