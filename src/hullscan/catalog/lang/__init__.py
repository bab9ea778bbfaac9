"""Parsers for language-ecosystem package metadata and lock files.

One module per ecosystem; each exposes pure functions
``parse_*(path: str, content: bytes) -> list[FoundPackage]`` that read one file's bytes and
never touch the filesystem. Malformed input raises
:class:`~hullscan.errors.CorruptContentError` naming ``path``.

The small helpers below are shared by those modules.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

from hullscan.errors import CorruptContentError


def decode_text(path: str, content: bytes) -> str:
    """UTF-8 text (a leading BOM dropped); undecodable bytes are corrupt content."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptContentError(f"not UTF-8 text: {exc.reason}", subject=path) from None


def load_json(path: str, content: bytes) -> Any:
    """Parse JSON, turning every failure into :class:`CorruptContentError`."""
    text = decode_text(path, content)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CorruptContentError(f"invalid JSON: {exc}", subject=path) from None


def load_json_object(path: str, content: bytes) -> dict[str, Any]:
    """Parse JSON that must be an object."""
    data = load_json(path, content)
    if not isinstance(data, dict):
        raise CorruptContentError("expected a JSON object", subject=path)
    return data


def load_toml(path: str, content: bytes) -> dict[str, Any]:
    """Parse TOML, turning every failure into :class:`CorruptContentError`."""
    text = decode_text(path, content)
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise CorruptContentError(f"invalid TOML: {exc}", subject=path) from None


def as_str(value: object) -> str | None:
    """``value`` if it is a non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


def as_dict(value: object) -> dict[str, Any]:
    """``value`` if it is a dict, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def name_and_version(entry: dict[str, Any], path: str, what: str) -> tuple[str, str]:
    """The ``name`` and ``version`` strings of a lock-file entry; both are required."""
    name, version = as_str(entry.get("name")), as_str(entry.get("version"))
    if name is None or version is None:
        raise CorruptContentError(f"{what} package without name or version", subject=path)
    return name, version
