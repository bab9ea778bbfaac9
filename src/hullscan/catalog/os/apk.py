"""apk: Alpine's ``/lib/apk/db/installed`` database.

Each package is a block of ``X:value`` lines separated by blank lines. Dependencies (``D:``) may
name packages (``musl>=1.2``), provides (``so:libc.musl-x86_64.so.1``, ``cmd:sh``) or files
(``/bin/sh``); conflicts start with ``!``. Provides and files are resolved to the package in the
same database that provides or owns them; anything that cannot be resolved is dropped, and
version constraints are stripped, so ``dependencies`` holds package names only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError

_CONSTRAINT = re.compile(r"[<>=~].*$")


@dataclass
class _Record:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)
    depends: list[str] = field(default_factory=list)


def _records(path: str, content: bytes) -> list[_Record]:
    text = content.decode("utf-8", errors="replace")
    records: list[_Record] = []
    current = _Record()
    started = False
    directory = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            if started:
                records.append(current)
            current, started, directory = _Record(), False, ""
            continue
        if len(line) < 2 or line[1] != ":":
            raise CorruptContentError(f"line {number}: not a 'X:value' line", subject=path)
        key, value = line[0], line[2:]
        started = True
        if key == "F":
            directory = value.strip("/")
        elif key == "R":
            current.files.append(f"{directory}/{value}" if directory else value)
        elif key == "D":
            current.depends.extend(value.split())
        elif key == "p":
            current.provides.extend(value.split())
        elif key not in current.fields:
            current.fields[key] = value
    if started:
        records.append(current)
    return records


def _strip(token: str) -> str:
    return _CONSTRAINT.sub("", token)


def parse_installed(path: str, content: bytes) -> list[FoundPackage]:
    """Packages listed in an apk ``installed`` database."""
    records = [record for record in _records(path, content) if record.fields.get("P")]
    names = {record.fields["P"] for record in records}
    providers: dict[str, str] = {}
    for record in records:
        name = record.fields["P"]
        for provided in record.provides:
            providers.setdefault(_strip(provided), name)
        for owned in record.files:
            providers.setdefault("/" + owned, name)
    packages: list[FoundPackage] = []
    for record in records:
        name = record.fields["P"]
        dependencies: list[str] = []
        for token in record.depends:
            if token.startswith("!"):
                continue
            wanted = _strip(token)
            if wanted in names:
                target: str | None = wanted
            else:
                target = providers.get(wanted)
            if target and target != name and target not in dependencies:
                dependencies.append(target)
        licence = record.fields.get("L", "").strip()
        extra = {}
        if record.fields.get("c"):
            extra["commit"] = record.fields["c"]
        if record.fields.get("C"):
            extra["checksum"] = record.fields["C"]
        packages.append(
            FoundPackage(
                name=name,
                version=record.fields.get("V", ""),
                ecosystem="apk",
                path=path,
                source_name=record.fields.get("o") or None,
                architecture=record.fields.get("A") or None,
                licenses=(licence,) if licence else (),
                supplier=record.fields.get("m") or None,
                files=tuple(record.files),
                dependencies=tuple(dependencies),
                extra=extra,
            )
        )
    return packages
