"""RubyGems versions, ordered as ``Gem::Version#<=>``.

A version is segments of digits or letters (``1.2.0.rc1`` is ``1, 2, 0, "rc", 1``; a hyphen
means ``.pre.``). A version with a letter segment is a pre-release. Trailing zeros are
dropped from the numeric head and from the part after the first letter segment (the
"canonical segments"), then segments compare pairwise with missing ones as 0: numbers
numerically, strings by byte value, and a string is older than a number.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hullscan.versions._base import InvalidVersionError

_VALID = re.compile(r"[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\Z")
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")

Segments = tuple[int | str, ...]


def _drop_zeros(segments: list[int | str]) -> list[int | str]:
    while segments and segments[-1] == 0:
        segments.pop()
    return segments


class Gem:
    name = "gem"

    @staticmethod
    @lru_cache(maxsize=65536)
    def _parse(version: str) -> Segments:
        text = version.strip() or "0"
        if not _VALID.match(text):
            raise InvalidVersionError("gem", version)
        text = text.replace("-", ".pre.")
        segments: list[int | str] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(text)]
        first_string = next(
            (i for i, s in enumerate(segments) if isinstance(s, str)), len(segments)
        )
        head = _drop_zeros(segments[:first_string])
        tail = _drop_zeros(segments[first_string:])
        return tuple(head + tail)

    def parse(self, version: str) -> Segments:
        return self._parse(version)

    def validate(self, version: str) -> bool:
        try:
            self._parse(version)
        except InvalidVersionError:
            return False
        return True

    @staticmethod
    def is_prerelease(version: str) -> bool:
        return any(c.isalpha() for c in version)

    def compare(self, a: str, b: str) -> int:
        sa, sb = self._parse(a), self._parse(b)
        for index in range(max(len(sa), len(sb))):
            left = sa[index] if index < len(sa) else 0
            right = sb[index] if index < len(sb) else 0
            if left == right:
                continue
            if isinstance(left, str) and isinstance(right, int):
                return -1
            if isinstance(left, int) and isinstance(right, str):
                return 1
            return -1 if left < right else 1  # type: ignore[operator]
        return 0

    def release_segments(self, version: str) -> list[int]:
        """The numeric segments before the first letter segment (for ``~>`` bumps)."""
        out: list[int] = []
        text = version.strip().replace("-", ".pre.")
        for seg in _SEGMENT.findall(text):
            if not seg.isdigit():
                break
            out.append(int(seg))
        return out


SCHEME = Gem()
