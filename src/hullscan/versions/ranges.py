"""Range evaluation: OSV ``affected`` entries, npm ranges, Composer constraints, gem requirements.

All functions raise :class:`InvalidVersionError` for a version or range they cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cmp_to_key, lru_cache
from typing import Any

from hullscan.versions import gem as gem_scheme
from hullscan.versions._base import InvalidVersionError
from hullscan.versions.composer import SCHEME as COMPOSER
from hullscan.versions.semver import NPM, SemverKey, pre_key

__all__ = [
    "composer_constraint_satisfies",
    "gem_requirement_satisfies",
    "npm_range_satisfies",
    "osv_affected",
    "osv_range_affected",
]

# --------------------------------------------------------------------------- OSV


@lru_cache(maxsize=64)
def _get_scheme(name: str) -> Any:
    from hullscan.versions import get_scheme  # late: the package imports this module's siblings

    return get_scheme(name)


def osv_affected(scheme: str, version: str, affected: Mapping[str, Any]) -> bool:
    """Whether ``version`` is affected according to one OSV ``affected`` entry.

    True when the version is in the explicit ``versions`` list or in any ``ECOSYSTEM`` or
    ``SEMVER`` range (``GIT`` ranges name commits, not versions, and are ignored).
    ``scheme`` orders ``ECOSYSTEM`` ranges and the ``versions`` list; ``SEMVER`` ranges
    are always ordered as SemVer 2.0.
    """
    impl = _get_scheme(scheme)
    key = impl.parse(version)
    listed = tuple(affected.get("versions") or ())
    if listed and version in listed:
        return True
    if listed:
        keys = _listed_keys(scheme, listed)
        if keys is not None:
            if key in keys:
                return True
        elif any(isinstance(other, str) and impl.validate(other)
                 and impl.compare(version, other) == 0 for other in listed):
            return True
    for entry in affected.get("ranges") or ():
        kind = str(entry.get("type", "")).upper()
        if kind == "ECOSYSTEM":
            range_scheme = scheme
        elif kind == "SEMVER":
            range_scheme = "semver"
        else:
            continue
        if osv_range_affected(range_scheme, version, entry.get("events") or ()):
            return True
    return False


_EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}


@lru_cache(maxsize=16384)
def _listed_keys(scheme: str, listed: tuple[object, ...]) -> frozenset[Any] | None:
    """Parsed keys of an explicit ``versions`` list (computed once per list): a version is
    listed when its key equals one of them, as ``compare`` would say. None for schemes
    whose keys cannot be hashed (Maven's nested lists): those compare one by one."""
    impl = _get_scheme(scheme)
    keys = set()
    try:
        for other in listed:
            if isinstance(other, str) and impl.validate(other):
                keys.add(impl.parse(other))
    except TypeError:
        return None
    return frozenset(keys)


def osv_range_affected(scheme: str, version: str, events: Iterable[Mapping[str, str]]) -> bool:
    """Evaluate one OSV range's events for ``version``, as the OSV schema describes.

    Events are sorted by version (``introduced: "0"`` first); walking them, a version at or
    after ``introduced`` is affected, at or after ``fixed`` (exclusive bound) or after
    ``last_affected`` (inclusive bound) it is not. ``limit`` events cap the range: the
    version must be below one of them (``limit: "*"`` means no cap).
    """
    impl = _get_scheme(scheme)
    if scheme == "semver":
        version = version.removeprefix("v")
    pairs = tuple((kind, value) for event in events for kind, value in event.items()
                  if kind in _EVENT_ORDER and isinstance(value, str))
    walk, limits = _prepared_events(scheme, pairs)
    if limits and not any(impl.compare(version, limit) < 0 for limit in limits):
        return False
    affected = False
    for kind, value in walk:
        if kind == "introduced":
            if value == "0" or impl.compare(version, value) >= 0:
                affected = True
        elif kind == "fixed":
            if impl.compare(version, value) >= 0:
                affected = False
        elif kind == "last_affected" and impl.compare(version, value) > 0:
            affected = False
    return affected


@lru_cache(maxsize=65536)
def _prepared_events(scheme: str, pairs: tuple[tuple[str, str], ...]
                     ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The walk (sorted as OSV says) and the limits of one range, once per distinct range:
    a scan evaluates the same ranges for many packages, and sorting dominated."""
    impl = _get_scheme(scheme)
    walk = [(kind, value) for kind, value in pairs if kind != "limit"]
    limits = tuple(value for kind, value in pairs if kind == "limit" and value != "*")

    def before(a: tuple[str, str], b: tuple[str, str]) -> int:
        zero_a = a[0] == "introduced" and a[1] == "0"
        zero_b = b[0] == "introduced" and b[1] == "0"
        if zero_a or zero_b:
            return int(zero_b) - int(zero_a)
        result = impl.compare(a[1], b[1])
        return result or _EVENT_ORDER[a[0]] - _EVENT_ORDER[b[0]]

    return tuple(sorted(walk, key=cmp_to_key(before))), limits


# --------------------------------------------------------------------------- npm

_Comparator = tuple[str, SemverKey]
_PARTIAL = re.compile(
    r"^[v=\s]*(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*])(?:\.(?P<patch>\d+|[xX*])"
    r"(?:-?(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?)?)?$"
)
_OP = re.compile(r"^(\^|~>?|[<>]=?|=)?\s*(.*)$")


def _wild(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _npm_key(major: int, minor: int, patch: int, pre: str | None = None) -> SemverKey:
    return (major, minor, patch, pre_key(pre))


def _npm_comparators(op: str, text: str, source: str) -> list[_Comparator]:
    if text in ("", "*", "x", "X"):
        return [] if op not in ("<", ">") else [("<", _npm_key(0, 0, 0, "0"))]
    match = _PARTIAL.match(text)
    if match is None:
        raise InvalidVersionError("npm", source, "bad range")
    ma, mi, pa, pre = match.group("major", "minor", "patch", "pre")
    if _wild(ma):
        return [] if op not in ("<", ">") else [("<", _npm_key(0, 0, 0, "0"))]
    major = int(ma)
    minor = 0 if _wild(mi) else int(mi)
    patch = 0 if _wild(pa) else int(pa)
    if _wild(mi) or _wild(pa):
        pre = None
    low = _npm_key(major, minor, patch, pre)
    if op == "^":
        if major or _wild(mi):
            high = _npm_key(major + 1, 0, 0, "0")
        elif minor or _wild(pa):
            high = _npm_key(0, minor + 1, 0, "0")
        else:
            high = _npm_key(0, 0, patch + 1, "0")
        return [(">=", low), ("<", high)]
    if op in ("~", "~>"):
        high = _npm_key(major + 1, 0, 0, "0") if _wild(mi) else _npm_key(major, minor + 1, 0, "0")
        return [(">=", low), ("<", high)]
    if _wild(mi) or _wild(pa):
        upper = _npm_key(major + 1, 0, 0, "0") if _wild(mi) else _npm_key(major, minor + 1, 0, "0")
        if op in ("", "="):
            return [(">=", low), ("<", upper)]
        if op == ">":
            return [(">=", upper)]
        if op == ">=":
            return [(">=", low)]
        if op == "<":
            return [("<", _npm_key(major, minor, patch, "0"))]
        return [("<", upper)]  # <=
    return [(op or "=", low)]


def _npm_set(text: str, source: str) -> list[_Comparator]:
    hyphen = re.fullmatch(r"\s*(\S+)\s+-\s+(\S+)\s*", text)
    if hyphen:
        low = _npm_comparators(">=", hyphen.group(1), source)
        high_text = hyphen.group(2)
        match = _PARTIAL.match(high_text)
        if match is None:
            raise InvalidVersionError("npm", source, "bad range")
        high = _npm_comparators("<=", high_text, source)
        return low + high
    tokens = re.sub(r"(\^|~>?|[<>]=?|=)\s+", r"\1", text.strip()).split()
    out: list[_Comparator] = []
    for token in tokens:
        match = _OP.match(token)
        assert match is not None
        out.extend(_npm_comparators(match.group(1) or "", match.group(2), source))
    return out


@lru_cache(maxsize=16384)
def _npm_range(text: str) -> tuple[tuple[_Comparator, ...], ...]:
    return tuple(tuple(_npm_set(part, text)) for part in text.split("||"))


def _holds(op: str, result: int) -> bool:
    if op == "<":
        return result < 0
    if op == "<=":
        return result <= 0
    if op == ">":
        return result > 0
    if op == ">=":
        return result >= 0
    return result == 0


def npm_range_satisfies(version: str, range_text: str) -> bool:
    """Whether ``version`` satisfies the node-semver range (``includePrerelease`` off).

    As node-semver: a pre-release version satisfies a comparator set only if one of the
    set's comparators has a pre-release on the same ``major.minor.patch``.
    """
    key = NPM.parse(version)
    for comparators in _npm_range(range_text):
        if not all(_holds(op, (key > bound) - (key < bound)) for op, bound in comparators):
            continue
        if key[3] == (1,):
            return True
        if any(bound[3] != (1,) and bound[:3] == key[:3] for _, bound in comparators):
            return True
    return False


# --------------------------------------------------------------------------- Composer

_COMPOSER_OP = re.compile(r"^(>=|<=|<>|!=|==|[<>=^~])?\s*(.+)$")


def _composer_bump(parts: list[int], index: int) -> str:
    bumped = parts[: index + 1]
    bumped[index] += 1
    return ".".join(str(p) for p in bumped + [0] * (4 - len(bumped))) + "-dev"


def _composer_single(text: str, source: str) -> list[tuple[str, str]]:
    match = _COMPOSER_OP.match(text)
    if match is None:
        raise InvalidVersionError("composer", source, "bad constraint")
    op, body = match.group(1) or "", match.group(2).strip()
    body = re.sub(r"@(?:stable|rc|beta|alpha|dev)$", "", body, flags=re.IGNORECASE)
    if body in ("*", "x", "X") or re.fullmatch(r"v?[xX*](?:\.[xX*])*", body):
        return [] if op in ("", ">=", "==", "=") else [("<", "0.0.0.0-dev")]
    wild = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\.[xX*]", body)
    if wild:
        parts = [int(p) for p in wild.groups() if p is not None]
        low = ".".join(str(p) for p in parts + [0] * (4 - len(parts))) + "-dev"
        return [(">=", low), ("<", _composer_bump(parts, len(parts) - 1))]
    numbers = re.match(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?", body)
    if numbers is None:
        raise InvalidVersionError("composer", source, "bad constraint")
    parts = [int(p) for p in numbers.groups() if p is not None]
    COMPOSER.parse(body)
    has_modifier = bool(re.search(r"[a-zA-Z]", body.lstrip("vV")))
    if op == "~":
        low = body if has_modifier else body + "-dev"
        index = max(len(parts) - 2, 0)
        return [(">=", low), ("<", _composer_bump(parts, index))]
    if op == "^":
        low = body if has_modifier else body + "-dev"
        index = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
        return [(">=", low), ("<", _composer_bump(parts, index))]
    if op in ("<", ">=") and not has_modifier:
        return [(op, body + "-dev")]
    if op in ("<>", "!="):
        return [("!=", body)]
    return [(op if op not in ("", "=") else "==", body)]


def _composer_and(text: str, source: str) -> list[tuple[str, str]]:
    text = text.strip()
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        low, high = hyphen.groups()
        out = [(">=", low if re.search(r"[a-zA-Z]", low.lstrip("vV")) else low + "-dev")]
        high_parts = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", high)
        if high_parts and high_parts.group(3) is None:
            parts = [int(p) for p in high_parts.groups() if p is not None]
            out.append(("<", _composer_bump(parts, len(parts) - 1)))
        else:
            out.append(("<=", high))
        return out
    text = re.sub(r"(>=|<=|<>|!=|==|[<>=^~])\s+", r"\1", text)
    out = []
    for piece in re.split(r"\s*,\s*|\s+", text):
        if piece:
            out.extend(_composer_single(piece, source))
    return out


@lru_cache(maxsize=16384)
def _composer_constraint(text: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    if not text.strip():
        raise InvalidVersionError("composer", text, "empty constraint")
    return tuple(tuple(_composer_and(part, text)) for part in re.split(r"\s*\|\|?\s*", text))


def composer_constraint_satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` satisfies a Composer constraint (``>=1.0,<1.5.2|^2.1``)."""
    COMPOSER.parse(version)
    for conjunction in _composer_constraint(constraint):
        if all(
            (op == "!=" and COMPOSER.compare(version, bound) != 0)
            or (op != "!=" and _holds(op.replace("==", "="), COMPOSER.compare(version, bound)))
            for op, bound in conjunction
        ):
            return True
    return False


# --------------------------------------------------------------------------- RubyGems

_GEM_REQ = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*(\S+)\s*$")


def _gem_bump(version: str) -> str:
    segments = gem_scheme.SCHEME.release_segments(version)
    if len(segments) > 1:
        segments.pop()
    segments[-1] += 1
    return ".".join(str(s) for s in segments)


def _gem_release(version: str) -> str:
    if not gem_scheme.SCHEME.is_prerelease(version):
        return version
    return ".".join(str(s) for s in gem_scheme.SCHEME.release_segments(version)) or "0"


def gem_requirement_satisfies(version: str, requirement: str) -> bool:
    """Whether ``version`` satisfies a RubyGems requirement (``>= 1.2, < 2``, ``~> 1.4.2``).

    Comma-separated requirements must all hold, as in ``Gem::Requirement``.
    """
    scheme = gem_scheme.SCHEME
    scheme.parse(version)
    for piece in requirement.split(","):
        match = _GEM_REQ.match(piece)
        if match is None:
            raise InvalidVersionError("gem", requirement, "bad requirement")
        op, bound = match.group(1) or "=", match.group(2)
        result = scheme.compare(version, bound)
        if op == "~>":
            if result < 0 or scheme.compare(_gem_release(version), _gem_bump(bound)) >= 0:
                return False
        elif op == "!=":
            if result == 0:
                return False
        elif not _holds(op, result):
            return False
    return True
