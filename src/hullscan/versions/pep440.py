"""Python package versions (PEP 440), parsed and ordered by ``packaging.version``.

Legacy (non-PEP 440) versions such as ``2004d`` or ``1.0-foo-bar`` are rejected with
:class:`InvalidVersionError`: ``packaging`` dropped ``LegacyVersion`` in 22.0 and pip no
longer installs such releases, so a scanner cannot know how an index would have ordered
them. Callers decide whether an unparsable installed version means "unknown".
"""

from __future__ import annotations

from functools import lru_cache

from packaging.version import InvalidVersion, Version

from hullscan.versions._base import InvalidVersionError, KeyScheme


class Pep440(KeyScheme):
    name = "pep440"

    @staticmethod
    @lru_cache(maxsize=65536)
    def _parse(version: str) -> Version:
        try:
            return Version(version)
        except InvalidVersion as error:
            raise InvalidVersionError("pep440", version) from error

    def parse(self, version: str) -> Version:
        return self._parse(version)


SCHEME = Pep440()
