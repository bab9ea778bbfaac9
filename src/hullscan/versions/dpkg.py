"""Debian package versions, ordered as ``dpkg --compare-versions`` orders them.

``[epoch:]upstream[-revision]``: the epoch is an integer; the revision is what follows the
last hyphen. Upstream and revision are compared by dpkg's ``verrevcmp``: alternating
non-digit and digit runs; in non-digit runs ``~`` sorts before everything, even the end of
the string, then letters, then other characters; digit runs compare numerically.

The parsed form is a tuple key: each non-digit run becomes a tuple of character weights
closed by a 0 terminator (the weight of "end"), each run pair is (weights, number); trailing
pairs that equal the padding dpkg compares against are dropped and one padding pair closes
the key, so that plain tuple comparison gives exactly dpkg's answer.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hullscan.versions._base import InvalidVersionError, KeyScheme

_Run = tuple[tuple[int, ...], int]
_Key = tuple[int, tuple[_Run, ...], tuple[_Run, ...]]

_PART = re.compile(r"(\D*)(\d*)")
_VALID = re.compile(r"[A-Za-z0-9.+~:-]*\Z")
_PAD: _Run = ((0,), 0)


def _weight(char: str) -> int:
    if char == "~":
        return -1
    if char.isascii() and char.isalpha():
        return ord(char)
    return ord(char) + 256


def _runs(text: str) -> tuple[_Run, ...]:
    runs: list[_Run] = []
    for match in _PART.finditer(text):
        letters, digits = match.group(1), match.group(2)
        if not letters and not digits:
            continue
        runs.append(((*(_weight(c) for c in letters), 0), int(digits) if digits else 0))
    while runs and runs[-1] == _PAD:
        runs.pop()
    runs.append(_PAD)
    return tuple(runs)


class Dpkg(KeyScheme):
    name = "dpkg"

    @staticmethod
    @lru_cache(maxsize=65536)
    def _parse(version: str) -> _Key:
        text = version.strip()
        epoch = 0
        if ":" in text:
            head, text = text.split(":", 1)
            if not head.isdigit():
                raise InvalidVersionError("dpkg", version, "epoch is not a number")
            epoch = int(head)
        upstream, revision = text, ""
        if "-" in text:
            upstream, _, revision = text.rpartition("-")
        if not upstream or not _VALID.match(text) or not upstream[0].isdigit():
            raise InvalidVersionError("dpkg", version)
        if ":" in revision:
            raise InvalidVersionError("dpkg", version, "colon in revision")
        return epoch, _runs(upstream), _runs(revision)

    def parse(self, version: str) -> _Key:
        return self._parse(version)


SCHEME = Dpkg()
