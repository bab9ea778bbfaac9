"""Rust binaries built with ``cargo auditable``: the dependency tree in section ``.dep-v0``.

The section holds zlib-compressed JSON (schema ``rustsec.org/schemas/cargo-auditable.json``)::

    {"packages": [{"name": "adler", "version": "0.2.3", "source": "registry",
                   "kind": "build", "dependencies": [1, 4], "root": true}, ...]}

What is relied on: ``packages`` is a list; each entry has ``name`` and ``version`` strings;
``source`` (the central registry, ``git``, ``local``, ``registry``, ``other``),
``kind`` (``runtime`` when absent, or ``build``) and ``root`` (false when absent) are
optional; ``dependencies`` holds indices into ``packages``. An unknown top-level
``format`` field is ignored.

Only ELF files are read (via :mod:`hullscan.catalog.elf`); anything else, or an ELF without
the section, gives ``[]``. Every runtime package is reported (ecosystem ``cargo``), the root
crate with ``extra["root"] = "true"``. Build-time dependencies (``kind: build``: build
scripts, proc macros) are not linked into the binary and are left out, as syft does.
Decompression stops at :data:`MAX_DECOMPRESSED` bytes (:class:`LimitExceededError`).
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import Any

from hullscan.catalog.elf import is_elf, parse_elf, section_names
from hullscan.catalog.lang import as_list, as_str, load_json_object
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError, LimitExceededError

SECTION = ".dep-v0"
_SECTION_NAME = SECTION.encode() + b"\x00"
MAX_DECOMPRESSED = 8 << 20


def parse_rust_binary(path: str, content: bytes) -> list[FoundPackage]:
    """Crates recorded by ``cargo auditable`` in an ELF binary; ``[]`` when absent."""
    if not is_elf(content):
        return []
    table = section_names(content)
    if _SECTION_NAME not in (content if table is None else table):
        # The section is found by its name in the section-name table: without the name
        # there is no such section, and most ELF files (every C binary) are settled by
        # their headers instead of a parse of them.
        return []
    elf = parse_elf(path, content)
    section = elf.section(SECTION)
    if section is None:
        return []
    data = _decompress(path, elf.section_data(section))
    document = load_json_object(path, data)
    entries = document.get("packages")
    if not isinstance(entries, list):
        raise CorruptContentError(f"{SECTION}: no packages list", subject=path)
    names = [as_str(entry.get("name")) if isinstance(entry, dict) else None for entry in entries]
    packages = [_package(path, entry, names) for entry in entries]
    built = {p.name for p in packages if p.extra.get("kind") == "build"}
    return [
        replace(p, dependencies=tuple(d for d in p.dependencies if d not in built))
        for p in packages
        if p.extra.get("kind") != "build"
    ]


def _decompress(path: str, compressed: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, MAX_DECOMPRESSED)
    except zlib.error as exc:
        raise CorruptContentError(f"{SECTION}: bad zlib data: {exc}", subject=path) from None
    if inflater.unconsumed_tail:
        raise LimitExceededError(
            f"{SECTION}: decompresses to more than {MAX_DECOMPRESSED} bytes", subject=path
        )
    if not inflater.eof:
        raise CorruptContentError(f"{SECTION}: truncated zlib data", subject=path)
    return data


def _package(path: str, entry: Any, names: list[str | None]) -> FoundPackage:
    if not isinstance(entry, dict):
        raise CorruptContentError(f"{SECTION}: package entry is not an object", subject=path)
    name, version = as_str(entry.get("name")), as_str(entry.get("version"))
    if name is None or version is None:
        raise CorruptContentError(f"{SECTION}: package without name or version", subject=path)
    dependencies = []
    for index in as_list(entry.get("dependencies")):
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(names):
            raise CorruptContentError(
                f"{SECTION}: {name} depends on bad index {index!r}", subject=path
            )
        dependency = names[index]
        if dependency is not None:
            dependencies.append(dependency)
    extra: dict[str, str] = {}
    source = as_str(entry.get("source"))
    if source is not None:
        extra["source"] = source
    kind = as_str(entry.get("kind"))
    if kind is not None and kind != "runtime":
        extra["kind"] = kind
    if entry.get("root") is True:
        extra["root"] = "true"
    return FoundPackage(
        name=name,
        version=version,
        ecosystem="cargo",
        path=path,
        dependencies=tuple(dependencies),
        extra=extra,
    )
