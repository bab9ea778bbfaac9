"""Custom secret rules, allow rules and the size limit from the ``secrets`` config section."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hullscan.checks.secrets.rules import ALLOW_RULES, RULES, AllowRule, SecretRule
from hullscan.checks.secrets.scanner import DEFAULT_MAX_FILE_SIZE
from hullscan.vuln.severity import Severity

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1000, "KB": 1000, "KIB": 1024, "KI": 1024, "M": 1000**2,
          "MB": 1000**2, "MIB": 1024**2, "MI": 1024**2, "G": 1000**3, "GB": 1000**3,
          "GIB": 1024**3, "GI": 1024**3}


def _section(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    section = mapping.get("secrets") or {}
    if not isinstance(section, Mapping):
        raise ValueError("config: 'secrets' must be a mapping")
    return section


def _list(section: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = section.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise ValueError(f"config: 'secrets.{key}' must be a list of mappings")
    return items


def _compile(text: object, where: str) -> re.Pattern[str]:
    if not isinstance(text, str) or not text:
        raise ValueError(f"config: {where} must be a non-empty regex string")
    try:
        return re.compile(text)
    except re.error as error:
        raise ValueError(f"config: {where}: invalid regex ({error})") from None


def _custom_rule(item: Mapping[str, Any], n: int) -> SecretRule:
    where = f"secrets.rules[{n}]"
    rule_id = item.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise ValueError(f"config: {where}.id is required")
    pattern = _compile(item.get("regex"), f"{where}.regex")
    compiled = re.compile(pattern.pattern.encode("utf-8"), pattern.flags & ~re.UNICODE)
    keywords = item.get("keywords") or []
    if isinstance(keywords, str):
        keywords = [keywords]
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k for k in keywords):
        raise ValueError(f"config: {where}.keywords must be a list of strings")
    group: int | str = item.get("secret-group", "secret" if "secret" in compiled.groupindex
                                else 1 if compiled.groups else 0)
    if not isinstance(group, int | str):
        raise ValueError(f"config: {where}.secret-group must be a number or name")
    entropy = item.get("entropy")
    if entropy is not None and not isinstance(entropy, int | float):
        raise ValueError(f"config: {where}.entropy must be a number")
    path = item.get("path")
    try:
        severity = Severity.parse(str(item.get("severity", "high")))
    except ValueError as error:
        raise ValueError(f"config: {where}.severity: {error}") from None
    return SecretRule(rule_id, str(item.get("title") or rule_id), severity,
                      tuple(k.lower() for k in keywords), compiled, group,
                      float(entropy) if entropy is not None else None,
                      _compile(path, f"{where}.path") if path is not None else None)


def _custom_allow(item: Mapping[str, Any], n: int) -> AllowRule:
    where = f"secrets.allow[{n}]"
    rule, path, value = item.get("rule"), item.get("path"), item.get("value")
    if rule is None and path is None and value is None:
        raise ValueError(f"config: {where} needs at least one of rule, path, value")
    for name, field in (("rule", rule), ("path", path)):
        if field is not None and not isinstance(field, str):
            raise ValueError(f"config: {where}.{name} must be a string")
    return AllowRule(str(item.get("reason") or "configured"), rule, path,
                     _compile(value, f"{where}.value") if value is not None else None)


def load_secret_config(mapping: Mapping[str, Any]
                       ) -> tuple[tuple[SecretRule, ...], tuple[AllowRule, ...]]:
    """Built-in plus configured rules and allow rules (``ValueError`` on a bad config)."""
    section = _section(mapping)
    custom = tuple(_custom_rule(item, n) for n, item in enumerate(_list(section, "rules")))
    allow = tuple(_custom_allow(item, n) for n, item in enumerate(_list(section, "allow")))
    ids = [r.id for r in custom]
    if len(set(ids)) != len(ids) or set(ids) & {r.id for r in RULES}:
        raise ValueError("config: secrets.rules ids must be unique and not built-in ids")
    return RULES + custom, ALLOW_RULES + allow


def load_max_file_size(mapping: Mapping[str, Any]) -> int:
    """``secrets.max-file-size`` in bytes (``10MiB``, ``500KB``, ``1048576``)."""
    value = _section(mapping).get("max-file-size")
    if value is None:
        return DEFAULT_MAX_FILE_SIZE
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.match(str(value))
    if match is None or isinstance(value, bool):
        raise ValueError(f"config: secrets.max-file-size {value!r} is not a size")
    size = int(float(match.group(1)) * _UNITS[(match.group(2) or "").upper()])
    if size <= 0:
        raise ValueError("config: secrets.max-file-size must be positive")
    return size
