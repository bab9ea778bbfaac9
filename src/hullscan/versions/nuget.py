"""NuGet package versions: SemVer 2.0 plus the legacy four-part ``1.2.3.4`` form.

As NuGet's ``VersionComparer.Default``: up to four numeric parts (missing ones are 0, so
``1.0`` == ``1.0.0.0``), then a release is newer than a pre-release; pre-release labels
compare label by label, numeric labels numerically and before alphanumeric ones, which
compare case-insensitively; metadata after ``+`` is ignored. A ``v`` prefix is not valid.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hullscan.versions._base import InvalidVersionError, KeyScheme
from hullscan.versions.semver import pre_key

_VERSION = re.compile(
    r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\Z"
)

NugetKey = tuple[int, int, int, int, tuple[object, ...]]


class Nuget(KeyScheme):
    name = "nuget"

    @staticmethod
    @lru_cache(maxsize=65536)
    def _parse(version: str) -> NugetKey:
        match = _VERSION.match(version.strip())
        if match is None:
            raise InvalidVersionError("nuget", version)
        parts = [int(p) if p else 0 for p in match.groups()[:4]]
        pre = match.group(5)
        return parts[0], parts[1], parts[2], parts[3], pre_key(pre.lower() if pre else None)

    def parse(self, version: str) -> NugetKey:
        return self._parse(version)


SCHEME = Nuget()
