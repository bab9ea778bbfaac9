"""What catalogers find: packages as their own databases and lock files describe them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hullscan.errors import HullscanError


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


class PartialParseError(HullscanError):
    """A file read only in part (a nested archive over a limit, one corrupt record): the
    packages found elsewhere in it are kept, and the reason becomes an anomaly."""

    def __init__(self, reason: str, packages: Sequence[FoundPackage], *,
                 subject: str | None = None) -> None:
        super().__init__(reason, subject=subject)
        self.packages = tuple(packages)


def partial_result(packages: list[FoundPackage],
                   problems: Sequence[HullscanError]) -> list[FoundPackage]:
    """``packages`` when nothing went wrong; else raise: the first problem alone when nothing
    was found, a :class:`PartialParseError` keeping ``packages`` otherwise."""
    if not problems:
        return packages
    if not packages:
        raise problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    found = f"{len(packages)} package{'' if len(packages) == 1 else 's'}"
    raise PartialParseError(f"{found} read, but {problems[0]}{more}", packages)
