"""Parse ``WWW-Authenticate`` challenges (RFC 7235) as registries send them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge: a scheme (``bearer``, ``basic``) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a header such as ``Bearer realm="https://auth",service="reg",scope="a:b:pull"``."""
    challenges: list[Challenge] = []
    rest = header.strip()
    while rest:
        scheme_match = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s*", rest)
        if not scheme_match:
            break
        scheme = scheme_match.group(1).lower()
        rest = rest[scheme_match.end():]
        params: dict[str, str] = {}
        while rest:
            param = _PARAM_RE.match(rest)
            if not param:
                break
            value = param.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[param.group(1).lower()] = value
            rest = rest[param.end():].lstrip()
        challenges.append(Challenge(scheme, params))
        rest = rest.lstrip(", ")
    return challenges
