"""Helpers shared by the loaders."""

from __future__ import annotations

import json
import re
from typing import Any, BinaryIO

import yaml

_CVE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)


def json_object(stream: BinaryIO) -> dict[str, Any]:
    """Parse a JSON document whose top level must be an object."""
    document = json.load(stream)
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object at the top level")
    return document


def yaml_mapping(stream: BinaryIO) -> dict[str, Any]:
    """Parse a YAML document (with libyaml when present) whose top level is a mapping."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(stream, Loader=loader)
    if not isinstance(document, dict):
        raise ValueError("expected a YAML mapping at the top level")
    return document


def has_key(head: bytes, key: bytes, value_start: bytes = b"") -> bool:
    """Whether the JSON ``head`` has ``"key":`` followed (after spaces) by ``value_start``."""
    pattern = b'"' + re.escape(key) + rb'"\s*:\s*' + re.escape(value_start)
    return re.search(pattern, head) is not None


def is_json_object(head: bytes) -> bool:
    """Whether ``head`` starts like a JSON object."""
    return head.startswith(b"{")


def as_list(value: object) -> list[Any]:
    """``value`` if it is a list, a one-item list for a scalar, else ``[]``."""
    if isinstance(value, list):
        return value
    if value is None or isinstance(value, dict):
        return []
    return [value]


def is_cve(text: str) -> bool:
    """Whether ``text`` is a CVE id."""
    return _CVE.fullmatch(text) is not None


def zero_date(text: object) -> str | None:
    """An RFC 3339 timestamp, or ``None`` for missing and zero (``0001-01-01…``) ones."""
    if text is None:
        return None
    value = str(text).strip()
    if not value or value.startswith("0001-01-01"):
        return None
    return value
