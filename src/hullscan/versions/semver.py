"""Semantic Versioning 2.0.0, with the loose forms the npm and Go ecosystems need.

The parsed key is ``(major, minor, patch, pre)`` where ``pre`` is ``(1,)`` for a release
and ``(0, ids...)`` for a pre-release, each identifier ``(0, n, "")`` when numeric and
``(1, 0, s)`` otherwise: so a release is newer than its pre-releases, numeric identifiers
sort before alphanumeric ones, and a shorter identifier list that is a prefix sorts first
(SemVer §11). Build metadata is ignored for precedence.

* ``semver``: strict SemVer 2.0.0, tolerating a leading ``v`` and surrounding whitespace.
* ``npm``: node-semver's loose mode: also ``=`` or ``v`` prefixes, ``1.2.3beta`` (no hyphen
  before the pre-release) and leading zeros.
* ``golang``: Go module versions (``v1.2.3``, pseudo-versions, ``+incompatible``); the OSV
  Go feed writes them without the ``v``, so it is optional. ``v1`` and ``v1.2`` are the
  shorthands ``golang.org/x/mod/semver`` accepts.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hullscan.versions._base import InvalidVersionError, KeyScheme

Ident = tuple[int, int, str]
SemverKey = tuple[int, int, int, tuple[object, ...]]

RELEASE: tuple[object, ...] = (1,)

_NUM = r"0|[1-9]\d*"
_IDENT = r"[0-9A-Za-z-]+"
_STRICT = re.compile(
    rf"v?(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?(?:\+(?P<build>{_IDENT}(?:\.{_IDENT})*))?\Z"
)
_LOOSE = re.compile(
    r"[v=\s]*(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)"
    rf"(?:-?(?P<pre>{_IDENT}(?:\.{_IDENT})*))?(?:\+(?P<build>{_IDENT}(?:\.{_IDENT})*))?\Z"
)
_GO = re.compile(
    rf"v?(?P<major>{_NUM})(?:\.(?P<minor>{_NUM})(?:\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?(?:\+(?P<build>{_IDENT}(?:\.{_IDENT})*))?)?)?\Z"
)


def pre_key(pre: str | None) -> tuple[object, ...]:
    """The precedence key of a dot-separated pre-release string (None: a release)."""
    if not pre:
        return RELEASE
    idents: list[object] = [0]
    for part in pre.split("."):
        if part.isdigit():
            idents.append((0, int(part), ""))
        else:
            idents.append((1, 0, part))
    return tuple(idents)


def _key(match: re.Match[str]) -> SemverKey:
    return (
        int(match.group("major")),
        int(match.group("minor") or 0),
        int(match.group("patch") or 0),
        pre_key(match.group("pre")),
    )


def _check_pre(scheme: str, version: str, pre: str | None) -> None:
    if pre and any(p.isdigit() and len(p) > 1 and p[0] == "0" for p in pre.split(".")):
        raise InvalidVersionError(scheme, version, "numeric identifier with a leading zero")


class Semver(KeyScheme):
    name = "semver"

    @staticmethod
    @lru_cache(maxsize=65536)
    def _parse(version: str) -> SemverKey:
        match = _STRICT.match(version.strip())
        if match is None:
            raise InvalidVersionError("semver", version)
        _check_pre("semver", version, match.group("pre"))
        return _key(match)

    def parse(self, version: str) -> SemverKey:
        return self._parse(version)


class Npm(KeyScheme):
    name = "npm"

    @staticmethod
    @lru_cache(maxsize=65536)
    def _parse(version: str) -> SemverKey:
        match = _LOOSE.match(version.strip())
        if match is None:
            raise InvalidVersionError("npm", version)
        return _key(match)

    def parse(self, version: str) -> SemverKey:
        return self._parse(version)


class Golang(KeyScheme):
    name = "golang"

    @staticmethod
    @lru_cache(maxsize=65536)
    def _parse(version: str) -> SemverKey:
        match = _GO.match(version.strip())
        if match is None:
            raise InvalidVersionError("golang", version)
        _check_pre("golang", version, match.group("pre"))
        return _key(match)

    def parse(self, version: str) -> SemverKey:
        return self._parse(version)


SEMVER = Semver()
NPM = Npm()
GOLANG = Golang()
