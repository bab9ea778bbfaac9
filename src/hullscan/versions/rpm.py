"""RPM versions, ordered as rpm's own ``rpmvercmp`` and EVR comparison order them.

``[epoch:]version[-release]``. Version and release are split into runs of ASCII digits or
ASCII letters; every other character only separates runs, except ``~`` (sorts before
anything, even the end) and ``^`` (sorts after the end but before any further run). A
numeric run is newer than an alphabetic one; numbers compare numerically, letters by
byte value. As ``rpm.vercmp`` (rpm 4.18's EVR comparison), a missing epoch is 0 and a
missing release is the empty string, older than any release.

Each of version and release becomes a tuple of tokens closed by an END token, ranked
``~`` < END < ``^`` < letters < digits, so that tuple comparison is ``rpmvercmp``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hullscan.versions._base import InvalidVersionError, KeyScheme

_Token = tuple[int, int, str]
_Tokens = tuple[_Token, ...]
_Parsed = tuple[int, _Tokens, _Tokens]

_TILDE: _Token = (0, 0, "")
_END: _Token = (1, 0, "")
_CARET: _Token = (2, 0, "")
_TOKEN = re.compile(r"([0-9]+)|([A-Za-z]+)|(~)|(\^)")


def _tokens(text: str) -> _Tokens:
    out: list[_Token] = []
    for match in _TOKEN.finditer(text):
        digits, letters, tilde, _caret = match.groups()
        if digits is not None:
            out.append((4, int(digits), ""))
        elif letters is not None:
            out.append((3, 0, letters))
        elif tilde is not None:
            out.append(_TILDE)
        else:
            out.append(_CARET)
    out.append(_END)
    return tuple(out)


class Rpm(KeyScheme):
    name = "rpm"

    @staticmethod
    @lru_cache(maxsize=65536)
    def _parse(version: str) -> _Parsed:
        text = version.strip()
        if not text or any(c.isspace() for c in text):
            raise InvalidVersionError("rpm", version)
        epoch = 0
        head, colon, rest = text.partition(":")
        if colon and head.isdigit():
            epoch, text = int(head), rest
        elif colon and not head:
            text = rest
        version_part, dash, release = text.rpartition("-")
        if not dash:
            version_part, release = text, ""
        if not version_part:
            raise InvalidVersionError("rpm", version, "empty version")
        return epoch, _tokens(version_part), _tokens(release)

    def parse(self, version: str) -> _Parsed:
        return self._parse(version)


SCHEME = Rpm()
