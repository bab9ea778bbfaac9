"""Composer (Packagist) versions, normalised as Composer's ``VersionParser::normalize``.

``v1.2``, ``1.2.3.4``, ``1.0.0-beta2``, ``1.0-RC1``, ``2.0.x-dev``-free tags and date versions
(``20240101``) are accepted; the number is padded to four parts and followed by a
stability: ``dev`` < ``alpha`` (``a``) < ``beta`` (``b``) < ``RC`` < stable < ``patch``
(``pl``, ``p``), each with optional numbers (``beta2``, ``p1.2``), and an optional trailing
``-dev`` that makes it older than the same version without it. That is the order PHP's
``version_compare`` gives the normalised strings, which is what Composer's Comparator uses.

Branch versions (``dev-main``, ``1.x-dev``) have no place in that order and are rejected.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hullscan.versions._base import InvalidVersionError, KeyScheme

_STABILITY = {
    "dev": 0,
    "alpha": 1,
    "a": 1,
    "beta": 2,
    "b": 2,
    "rc": 3,
    "stable": 4,
    "patch": 5,
    "pl": 5,
    "p": 5,
}
# The stability's numbers: every run of digits after the first needs a separator, so the
# pattern cannot split one run of digits in many ways (that backtracked exponentially).
_MODIFIER = (r"[._-]?(?:(stable|beta|b|rc|alpha|a|patch|pl|p)((?:[.-]?\d+(?:[.-]\d+)*)?))?"
             r"([.-]?dev)?")
_CLASSIC = re.compile(r"v?(\d{1,5})(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?" + _MODIFIER + r"\Z")
_DATE = re.compile(r"v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})" + _MODIFIER + r"\Z")

ComposerKey = tuple[tuple[int, ...], int, tuple[int, ...], int]


class Composer(KeyScheme):
    name = "composer"

    @staticmethod
    @lru_cache(maxsize=65536)
    def _parse(version: str) -> ComposerKey:
        text = version.strip().lower()
        text = re.sub(r"@(?:stable|rc|beta|alpha|dev)\Z", "", text)
        text = re.sub(r"\+[0-9a-z.-]*\Z", "", text)  # build metadata is ignored
        numbers: tuple[int, ...]
        match = _CLASSIC.match(text)
        if match is not None:
            numbers = tuple(int(p) if p else 0 for p in match.groups()[:4])
            stability, extra, dev = match.group(5), match.group(6), match.group(7)
        else:
            match = _DATE.match(text)
            if match is None:
                raise InvalidVersionError("composer", version)
            numbers = tuple(int(p) for p in re.split(r"\D+", match.group(1)))
            stability, extra, dev = match.group(2), match.group(3), match.group(4)
        rank = _STABILITY[stability] if stability else _STABILITY["stable"]
        suffix = tuple(int(n) for n in re.findall(r"\d+", extra or ""))
        if dev and not stability:
            rank = _STABILITY["dev"]
            dev = None
        return numbers, rank, suffix, 0 if dev else 1

    def parse(self, version: str) -> ComposerKey:
        return self._parse(version)


SCHEME = Composer()
