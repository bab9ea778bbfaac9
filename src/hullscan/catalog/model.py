"""What catalogers find: packages as their own databases and lock files describe them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FoundPackage:
    """One package as a parser read it from one file (before layer attribution and merging)."""

    name: str
    """Name as the ecosystem spells it (``libc6``, ``requests``, ``@babel/core``)."""
    version: str
    """Full version as the ecosystem writes it (dpkg ``1:2.3-4``, rpm ``1.2-3.el9``)."""
    ecosystem: str
    """``deb``, ``apk``, ``rpm``, ``pypi``, ``npm``, ``gem``, ``composer``, ``nuget``, ``cargo``,
    ``golang``, ``maven``: the Package URL type."""
    path: str
    """The file it was read from, relative to the image root (``var/lib/dpkg/status``)."""
    namespace: str | None = None
    """Maven group id, npm scope is part of the name instead, Go module host path, ..."""
    source_name: str | None = None
    """Source package (dpkg ``Source:``, rpm source RPM name, apk origin)."""
    source_version: str | None = None
    architecture: str | None = None
    epoch: int | None = None
    """rpm epoch (dpkg epochs stay inside ``version``)."""
    release: str | None = None
    """rpm release."""
    licenses: tuple[str, ...] = ()
    """Licence strings as declared (normalised to SPDX later)."""
    supplier: str | None = None
    """Maintainer, vendor or author."""
    files: tuple[str, ...] = ()
    """Files the package owns, as the database lists them (paths without leading slash)."""
    dependencies: tuple[str, ...] = ()
    """Names this package depends on, where the format says."""
    development: bool = False
    """A development-only dependency (lock files that mark it)."""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    """Format-specific facts worth keeping (checksums, ``h1:`` sums, resolved URLs)."""
