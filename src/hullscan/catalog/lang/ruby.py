"""Ruby gems: installed ``specifications/*.gemspec`` and ``Gemfile.lock``.

Gemspecs are Ruby code; they are read as text, never evaluated. Only the simple
assignments RubyGems writes are understood: ``s.name = "x".freeze``,
``s.version = "1.0"``, ``s.licenses = ["MIT".freeze]`` / ``s.license = "MIT"`` and
``s.authors = [...]`` (the block variable may have any name).
"""

from __future__ import annotations

import re

from hullscan.catalog.lang import decode_text
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError

_ECOSYSTEM = "gem"
_ASSIGNMENT = re.compile(r"^\s*\w+\.(name|version|licenses|license|authors|author)\s*=\s*(.*)$")
_STRING = re.compile(
    r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|%q\{([^}]*)\}|%q<([^>]*)>|%q\(([^)]*)\)'
)
_ESCAPE = re.compile(r"\\(u\{[0-9A-Fa-f]+\}|u[0-9A-Fa-f]{4}|.)")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "s": " "}


def _unescape(match: re.Match[str]) -> str:
    token = match.group(1)
    if token.startswith("u{"):
        return chr(int(token[2:-1], 16))
    if token.startswith("u") and len(token) == 5:
        return chr(int(token[1:], 16))
    return _SIMPLE_ESCAPES.get(token, token)


def _strings(expression: str) -> list[str]:
    """String literals in a Ruby expression, in order (double-quoted escapes decoded)."""
    values = []
    for match in _STRING.finditer(expression):
        if match.group(1) is not None:
            values.append(_ESCAPE.sub(_unescape, match.group(1)))
        else:
            values.append(next(g for g in match.groups()[1:] if g is not None))
    return values


def parse_gemspec(path: str, content: bytes) -> list[FoundPackage]:
    """The gem an installed ``*.gemspec`` describes."""
    text = decode_text(path, content)
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line)
        if match and match.group(1) not in values:
            values[match.group(1)] = _strings(match.group(2))
    names, versions = values.get("name", []), values.get("version", [])
    if not names or not versions or not names[0] or not versions[0]:
        raise CorruptContentError("gemspec without a literal name and version", subject=path)
    licenses = values.get("licenses") or values.get("license") or []
    authors = values.get("authors") or values.get("author") or []
    return [
        FoundPackage(
            name=names[0],
            version=versions[0],
            ecosystem=_ECOSYSTEM,
            path=path,
            licenses=tuple(licence for licence in licenses if licence),
            supplier=", ".join(authors) if authors else None,
        )
    ]


_SPEC = re.compile(r"^    (\S+) \(([^)]+)\)$")
_DEPENDENCY = re.compile(r"^      (\S+)")


def parse_gemfile_lock(path: str, content: bytes) -> list[FoundPackage]:
    """Gems in the ``specs:`` of the ``GEM``, ``GIT`` and ``PATH`` sections of a Gemfile.lock.

    A platform suffix (``1.12.5-x86_64-linux``) is split off into ``architecture``; the
    section kind and remote go into ``extra``.
    """
    text = decode_text(path, content)
    packages: list[FoundPackage] = []
    section = ""
    remote = ""
    in_specs = False
    current: dict[str, object] | None = None
    seen_section = False

    def flush() -> None:
        if current is not None:
            deps = current["deps"]
            assert isinstance(deps, list)
            packages.append(
                FoundPackage(
                    name=str(current["name"]),
                    version=str(current["version"]),
                    ecosystem=_ECOSYSTEM,
                    path=path,
                    architecture=current["arch"] if isinstance(current["arch"], str) else None,
                    dependencies=tuple(deps),
                    extra={"source": section, **({"remote": remote} if remote else {})},
                )
            )

    for raw in text.splitlines():
        line = raw.rstrip()
        if not line:
            continue
        if not line.startswith(" "):
            flush()
            current = None
            section = line.strip()
            seen_section = True
            remote = ""
            in_specs = False
            continue
        if section not in ("GEM", "GIT", "PATH"):
            continue
        if line.startswith("  remote: "):
            remote = line.split(": ", 1)[1].strip()
        elif line == "  specs:":
            in_specs = True
        elif in_specs and (spec := _SPEC.match(line)):
            flush()
            version, _, arch = spec.group(2).partition("-")
            current = {"name": spec.group(1), "version": version, "arch": arch or None, "deps": []}
        elif in_specs and current is not None and (dep := _DEPENDENCY.match(line)):
            deps = current["deps"]
            assert isinstance(deps, list)
            deps.append(dep.group(1))
    flush()
    if not seen_section:
        raise CorruptContentError("no sections: not a Gemfile.lock", subject=path)
    return packages
