"""Constraint strings from the non-OSV feeds in the shared data (npm NSWG, FriendsOfPHP,
rubysec), pulled out with small regular expressions (no YAML parser is needed for them)."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator

from tests.support.build_steps import shared_vulndata as vulndata

_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def npm_advisories() -> Iterator[dict[str, object]]:
    with zipfile.ZipFile(vulndata() / "native" / "npm-nodejs-security-wg.zip") as archive:
        for member in archive.namelist():
            if member.endswith(".json"):
                yield json.loads(archive.read(member))


def composer_branch_constraints() -> Iterator[tuple[str, list[str]]]:
    """(member, the ``versions`` list of one branch): the list items are ANDed."""
    with zipfile.ZipFile(vulndata() / "native" / "Packagist-friendsofphp.zip") as archive:
        for member in archive.namelist():
            if not member.endswith((".yaml", ".yml")):
                continue
            text = archive.read(member).decode("utf-8")
            for match in re.finditer(r"^\s+versions:\s*\[(.*)\]\s*$", text, re.MULTILINE):
                items = [a or b for a, b in _QUOTED.findall(match.group(1))]
                if items:
                    yield member, items


def gem_requirements() -> Iterator[tuple[str, str, str]]:
    """(member, field, requirement) for every patched/unaffected requirement in rubysec."""
    with zipfile.ZipFile(vulndata() / "native" / "RubyGems-rubysec.zip") as archive:
        for member in archive.namelist():
            if not member.startswith("gems/") or not member.endswith(".yml"):
                continue
            field = None
            for line in archive.read(member).decode("utf-8").splitlines():
                if re.match(r"^(patched|unaffected)_versions:\s*$", line):
                    field = line.split(":", 1)[0]
                    continue
                item = re.match(r"^\s+-\s+(.*)$", line)
                if field and item:
                    value = item.group(1).strip()
                    quoted = _QUOTED.fullmatch(value)
                    if quoted:
                        value = quoted.group(1) or quoted.group(2)
                    yield member, field, value
                elif line and not line[0].isspace():
                    field = None
