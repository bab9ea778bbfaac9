"""Alpine package versions, ordered as apk-tools (2.12 and later) orders them.

``digit{.digit}...{letter}{_suffix{#}}...{-r#}``, walked token by token as apk-tools'
``version.c`` does: the first number, then ``.number`` components (compared numerically,
unless either starts with ``0``: then as strings, like Gentoo), one lowercase letter,
suffixes ``_alpha`` < ``_beta`` < ``_pre`` < ``_rc`` (older than no suffix) and ``_cvs`` <
``_svn`` < ``_git`` < ``_hg`` < ``_p`` (newer), each with an optional number, and ``-rN``.
When the token kinds differ, the version that ended is older, unless the other continues
with a pre-release suffix.

apk-tools compares even malformed versions (the valid prefix, then the token kinds);
:meth:`Apk.compare` does the same so that it agrees with ``apk version -t``, while
:meth:`Apk.parse` and :meth:`Apk.validate` are strict like ``apk version -c``.
"""

from __future__ import annotations

from functools import lru_cache

from hullscan.versions._base import InvalidVersionError

_INITIAL_DIGIT = 0
_DIGIT = 1
_LETTER = 2
_SUFFIX = 3
_SUFFIX_NO = 4
_REVISION_NO = 5
_END = 6
_INVALID = 7

_SUFFIX_NONE = 5
_SUFFIXES = {
    "alpha": 1,
    "beta": 2,
    "pre": 3,
    "rc": 4,
    "cvs": 6,
    "svn": 7,
    "git": 8,
    "hg": 9,
    "p": 10,
}

#: (token kind, text, suffix rank); the last token is END or INVALID.
Token = tuple[int, str, int]
_DIGITS = frozenset("0123456789")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _span(text: str, pos: int, chars: frozenset[str]) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


@lru_cache(maxsize=65536)
def _tokens(text: str) -> tuple[Token, ...]:
    end = _span(text, 0, _DIGITS)
    if end == 0:
        return ((_INVALID, "", 0),)
    out: list[Token] = [(_INITIAL_DIGIT, text[:end], 0)]
    kind, pos = _INITIAL_DIGIT, end
    while True:
        if pos >= len(text):
            out.append((_END, "", 0))
            break
        char = text[pos]
        new: Token | None = None
        if char in _LOWER:
            if kind <= _DIGIT:
                new, pos = (_LETTER, char, 0), pos + 1
        elif char == "." or char in _DIGITS:
            if char == "." and kind > _DIGIT:
                pass
            else:
                start = pos + 1 if char == "." else pos
                end = _span(text, start, _DIGITS)
                if kind == _SUFFIX:
                    new = (_SUFFIX_NO, text[start:end], 0)
                elif kind in (_INITIAL_DIGIT, _DIGIT):
                    new = (_DIGIT, text[start:end], 0)
                pos = end
        elif char == "_":
            if kind <= _SUFFIX_NO:
                end = _span(text, pos + 1, _LOWER)
                rank = _SUFFIXES.get(text[pos + 1 : end], 0)
                if rank:
                    new, pos = (_SUFFIX, text[pos + 1 : end], rank), end
        elif char == "-" and kind < _REVISION_NO and text.startswith("-r", pos):
            end = _span(text, pos + 2, _DIGITS)
            new, pos = (_REVISION_NO, text[pos + 2 : end], 0), end
        if new is None:
            out.append((_INVALID, "", 0))
            break
        out.append(new)
        kind = new[0]
    return tuple(out)


def _token_cmp(a: Token, b: Token) -> int:
    kind = a[0]
    if kind == _DIGIT and (a[1][:1] == "0" or b[1][:1] == "0"):
        return (a[1] > b[1]) - (a[1] < b[1])
    if kind in (_INITIAL_DIGIT, _DIGIT, _SUFFIX_NO, _REVISION_NO):
        x, y = int(a[1] or 0), int(b[1] or 0)
        return (x > y) - (x < y)
    if kind == _LETTER:
        return (a[1] > b[1]) - (a[1] < b[1])
    return (a[2] > b[2]) - (a[2] < b[2])


class Apk:
    name = "apk"

    def parse(self, version: str) -> tuple[Token, ...]:
        tokens = _tokens(version)
        if tokens[-1][0] != _END:
            raise InvalidVersionError("apk", version)
        return tokens

    def validate(self, version: str) -> bool:
        return _tokens(version)[-1][0] == _END

    def compare(self, a: str, b: str) -> int:
        ta, tb = _tokens(a), _tokens(b)
        index = 0
        while True:
            x, y = ta[index], tb[index]
            if x[0] != y[0] or x[0] >= _END:
                break
            result = _token_cmp(x, y)
            if result:
                return result
            index += 1
        if x[0] == y[0]:
            return 0
        if x[0] == _SUFFIX and x[2] < _SUFFIX_NONE:
            return -1
        if y[0] == _SUFFIX and y[2] < _SUFFIX_NONE:
            return 1
        return -1 if x[0] > y[0] else 1


SCHEME = Apk()
