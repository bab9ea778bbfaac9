"""JavaScript packages: installed ``package.json`` and npm / Yarn / pnpm lock files.

npm scopes stay part of the name (``@babel/core``), as the model asks. Within one lock file a
``(name, version)`` pair is reported once; it is a development package only if every copy
the file lists is one.

* ``parse_package_json``: a manifest without both ``name`` and ``version`` is a project, not
  an installed package, and yields nothing.
* ``parse_package_lock``: v1 (nested ``dependencies``) and v2/v3 (``packages`` keyed by
  ``node_modules/...`` paths; the root ``""`` entry and ``link`` entries are skipped).
* ``parse_yarn_lock``: v1 (Yarn classic's own format) and berry (a YAML subset; the
  ``__metadata`` block and ``workspace:`` entries are skipped).
* ``parse_pnpm_lock``: the ``packages`` section, keys in the v5 (``/name/1.0.0``), v6
  (``/name@1.0.0(peer@2)``) and v9 (``name@1.0.0``) forms; ``dev: true`` is honoured where the
  file records it (v9 does not). No general YAML parser is used: only this layout is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from hullscan.catalog.lang import as_dict, as_list, as_str, decode_text, load_json_object
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError

_ECOSYSTEM = "npm"


class _Collector:
    """Keeps one package per (name, version) in first-seen order."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._found: dict[tuple[str, str], FoundPackage] = {}

    def add(
        self,
        name: str,
        version: str,
        *,
        development: bool = False,
        licenses: tuple[str, ...] = (),
        dependencies: tuple[str, ...] = (),
        extra: dict[str, str] | None = None,
    ) -> None:
        key = (name, version)
        previous = self._found.get(key)
        if previous is not None:
            if previous.development and not development:
                self._found[key] = FoundPackage(
                    name=previous.name,
                    version=previous.version,
                    ecosystem=_ECOSYSTEM,
                    path=self.path,
                    licenses=previous.licenses,
                    dependencies=previous.dependencies,
                    development=False,
                    extra=previous.extra,
                )
            return
        self._found[key] = FoundPackage(
            name=name,
            version=version,
            ecosystem=_ECOSYSTEM,
            path=self.path,
            licenses=licenses,
            dependencies=dependencies,
            development=development,
            extra=extra or {},
        )

    def packages(self) -> list[FoundPackage]:
        return list(self._found.values())


def _licenses(manifest: dict[str, Any]) -> tuple[str, ...]:
    """``license`` as a string, ``{"type": ...}`` object or list, or legacy ``licenses``."""
    found: list[str] = []
    for key in ("license", "licenses"):
        value = manifest.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.strip():
                found.append(item.strip())
            elif isinstance(item, dict) and as_str(item.get("type")):
                found.append(str(item["type"]).strip())
    return tuple(dict.fromkeys(found))


def _person(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        name, email = as_str(value.get("name")), as_str(value.get("email"))
        if name and email:
            return f"{name} <{email}>"
        return name or email
    return None


def parse_package_json(path: str, content: bytes) -> list[FoundPackage]:
    """The package an installed ``node_modules/**/package.json`` describes."""
    manifest = load_json_object(path, content)
    name, version = as_str(manifest.get("name")), as_str(manifest.get("version"))
    if name is None or version is None:
        return []
    supplier = _person(manifest.get("author"))
    if supplier is None:
        maintainers = as_list(manifest.get("maintainers"))
        supplier = _person(maintainers[0]) if maintainers else None
    extra = {}
    homepage = as_str(manifest.get("homepage"))
    if homepage:
        extra["homepage"] = homepage
    return [
        FoundPackage(
            name=name,
            version=version,
            ecosystem=_ECOSYSTEM,
            path=path,
            licenses=_licenses(manifest),
            supplier=supplier,
            dependencies=tuple(str(d) for d in as_dict(manifest.get("dependencies"))),
            extra=extra,
        )
    ]


def parse_project_package_json(path: str, content: bytes) -> list[FoundPackage]:
    """An application's own ``package.json`` (outside ``node_modules``), reported as the
    project it is (``extra["project"] = "true"``), never as one of its dependencies; a
    manifest without both a name and a version is not a package."""
    return [replace(package, extra={**package.extra, "project": "true"})
            for package in parse_package_json(path, content)]


def _lock_extra(entry: dict[str, Any]) -> dict[str, str]:
    return {key: str(entry[key]) for key in ("resolved", "integrity") if as_str(entry.get(key))}


def parse_package_lock(path: str, content: bytes) -> list[FoundPackage]:
    """Packages of an npm ``package-lock.json`` / ``npm-shrinkwrap.json`` (v1, v2, v3)."""
    data = load_json_object(path, content)
    collector = _Collector(path)
    packages = data.get("packages")
    if isinstance(packages, dict):
        for key, raw in packages.items():
            entry = as_dict(raw)
            if key == "" or entry.get("link") is True:
                continue
            name = as_str(entry.get("name"))
            if name is None:
                marker = key.rfind("node_modules/")
                if marker < 0:
                    continue  # a workspace folder, described again under node_modules
                name = key[marker + len("node_modules/") :]
            version = as_str(entry.get("version"))
            if not name or version is None:
                continue
            collector.add(
                name,
                version,
                development=entry.get("dev") is True,
                licenses=_licenses(entry),
                dependencies=tuple(str(d) for d in as_dict(entry.get("dependencies"))),
                extra=_lock_extra(entry),
            )
        return collector.packages()
    if "dependencies" not in data and "lockfileVersion" not in data:
        raise CorruptContentError("not a package-lock.json", subject=path)

    def walk(dependencies: dict[str, Any], depth: int) -> None:
        if depth > 200:
            raise CorruptContentError("package-lock.json nested too deeply", subject=path)
        for name, raw in dependencies.items():
            entry = as_dict(raw)
            version = as_str(entry.get("version"))
            if version is not None:
                collector.add(
                    name,
                    version,
                    development=entry.get("dev") is True,
                    dependencies=tuple(str(d) for d in as_dict(entry.get("requires"))),
                    extra=_lock_extra(entry),
                )
            walk(as_dict(entry.get("dependencies")), depth + 1)

    walk(as_dict(data.get("dependencies")), 0)
    return collector.packages()


def _split_spec(spec: str) -> tuple[str, str]:
    """``@scope/name@range`` -> (``@scope/name``, ``range``)."""
    at = spec.find("@", 1)
    if at < 0:
        return spec, ""
    return spec[:at], spec[at + 1 :]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


class _Block:
    def __init__(self, header: str) -> None:
        self.header = header
        self.fields: dict[str, str] = {}
        self.dependencies: list[str] = []


def _indented_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """``(line number, indentation, stripped line)`` of the YAML-like lock files, skipping
    blank lines and comments."""
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.strip() and not raw.lstrip().startswith("#"):
            yield number, len(raw) - len(raw.lstrip(" ")), raw.strip()


def _yarn_blocks(path: str, text: str) -> list[_Block]:
    """Top-level blocks of a yarn.lock (v1 or berry): header, 2-space fields, nested lists."""
    blocks: list[_Block] = []
    current: _Block | None = None
    section = ""
    for number, indent, line in _indented_lines(text):
        if indent == 0:
            if not line.endswith(":"):
                raise CorruptContentError(f"line {number}: unexpected top-level line", subject=path)
            current = _Block(line[:-1])
            blocks.append(current)
            section = ""
            continue
        if current is None:
            raise CorruptContentError(f"line {number}: field outside an entry", subject=path)
        if indent == 2:
            if line.endswith(":"):
                section = line[:-1].strip()
                continue
            section = ""
            if ": " in line and not line.startswith('"'):
                key, _, value = line.partition(": ")  # berry
            elif line.startswith('"'):
                end = line.find('"', 1)
                key, value = line[1:end], line[end + 1 :].lstrip(": ")
            else:
                key, _, value = line.partition(" ")  # v1
            current.fields[key.strip()] = _unquote(value)
        elif section in ("dependencies", "optionalDependencies") and indent >= 4:
            if line.startswith('"'):
                dep = line[1 : line.find('"', 1)]
            else:
                dep = re.split(r":?\s", line, maxsplit=1)[0].rstrip(":")
            current.dependencies.append(dep)
    return blocks


def parse_yarn_lock(path: str, content: bytes) -> list[FoundPackage]:
    """Packages of a ``yarn.lock``, classic v1 or berry (v2+)."""
    text = decode_text(path, content)
    collector = _Collector(path)
    for block in _yarn_blocks(path, text):
        if block.header == "__metadata":
            continue
        version = block.fields.get("version")
        if not version:
            raise CorruptContentError(f"entry {block.header!r} without a version", subject=path)
        resolution = block.fields.get("resolution")
        if resolution is not None:  # berry
            name, reference = _split_spec(resolution)
            if reference.startswith(("workspace:", "link:", "portal:")):
                continue
        else:
            first = _unquote(block.header.split(",")[0])
            name, _ = _split_spec(first)
        if not name:
            raise CorruptContentError(f"entry {block.header!r} without a name", subject=path)
        extra = {}
        for key in ("resolved", "integrity", "checksum", "resolution"):
            if block.fields.get(key):
                extra[key] = block.fields[key]
        collector.add(name, version, dependencies=tuple(block.dependencies), extra=extra)
    return collector.packages()


_PEER_SUFFIX = re.compile(r"\(.*$")


def _pnpm_key(key: str) -> tuple[str, str] | None:
    key = _unquote(key).lstrip("/")
    key = _PEER_SUFFIX.sub("", key)
    at = key.find("@", 1)
    scope_slashes = 1 if key.startswith("@") else 0
    if at > 0 and key[:at].count("/") == scope_slashes:
        return key[:at], key[at + 1 :]  # v6 /name@1.0.0, v9 name@1.0.0
    # v5: name/1.0.0 or @scope/name/1.0.0, optionally with a _peer@x suffix
    name, _, version = key.rpartition("/")
    version = version.split("_", 1)[0]
    if not name or not version:
        return None
    return name, version


def parse_pnpm_lock(path: str, content: bytes) -> list[FoundPackage]:
    """Packages of a ``pnpm-lock.yaml`` (the ``packages`` section)."""
    text = decode_text(path, content)
    if not re.search(r"^lockfileVersion:", text, re.MULTILINE):
        raise CorruptContentError("not a pnpm lock file (no lockfileVersion)", subject=path)
    collector = _Collector(path)
    in_packages = False
    key: tuple[str, str] | None = None
    fields: dict[str, str] = {}
    entry_indent = -1

    def flush() -> None:
        if key is not None:
            extra = {}
            integrity = re.search(r"integrity:\s*([^,}\s]+)", fields.get("resolution", ""))
            if integrity:
                extra["integrity"] = integrity.group(1)
            collector.add(
                key[0],
                fields.get("version", key[1]),
                development=fields.get("dev") == "true",
                extra=extra,
            )

    for number, indent, line in _indented_lines(text):
        if indent == 0:
            flush()
            key = None
            in_packages = line == "packages:"
            continue
        if not in_packages:
            continue
        if entry_indent < 0:
            entry_indent = indent
        if indent == entry_indent:
            flush()
            fields = {}
            head = (
                line.split(":", 1)[0]
                if not line.startswith(("'", '"'))
                else line[: line.find(line[0], 1) + 1]
            )
            key = _pnpm_key(head)
            if key is None:
                raise CorruptContentError(f"line {number}: unreadable package key", subject=path)
        elif indent == entry_indent + 2 and key is not None and ":" in line:
            name, _, value = line.partition(":")
            fields[name.strip()] = _unquote(value)
    flush()
    return collector.packages()
