"""Read a policy bundle (YAML or JSON), check it against the schema and the gate registry.

Every problem is reported with the file, the path inside the bundle (``policies[0].rules[2]
.params.severity``), the line where the file shows it, and what is wrong.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hullscan.errors import HullscanError
from hullscan.policy.gates import GATES
from hullscan.policy.gates.base import GateRegistry
from hullscan.policy.model import (
    Action,
    Allowlist,
    AllowlistItem,
    Bundle,
    ImageSelector,
    Policy,
    PolicyMapping,
    Rule,
)
from hullscan.policy.schema import BUNDLE_SCHEMA

MAX_BUNDLE_BYTES = 8 * 1024 * 1024
DEFAULT_BUNDLE = Path(__file__).with_name("default_bundle.yaml")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle."""

    path: str
    """Where in the bundle (``policies[0].rules[2].params.severity``; ``""`` for the top)."""
    message: str
    line: int | None = None

    def render(self, source: str) -> str:
        """``file:line: path: message``."""
        where = f"{source}:{self.line}" if self.line else source
        return f"{where}: {self.path or '(top level)'}: {self.message}"


class BundleError(HullscanError):
    """A bundle that cannot be used; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = problems[0] if problems else Problem("", "invalid bundle")
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        where = f"{source}:{first.line}" if first.line else source
        super().__init__(f"{first.path or '(top level)'}: {first.message}{more}", subject=where)
        self.source = source


def load_bundle(path: Path, gates: GateRegistry = GATES) -> Bundle:
    """The bundle in ``path``; raises :class:`BundleError` listing every problem."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BUNDLE_BYTES + 1)
    except OSError as error:
        raise HullscanError(error.strerror or "cannot read", subject=source) from None
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(source, [Problem("", f"larger than {MAX_BUNDLE_BYTES} bytes")])
    return parse_bundle(data, source, gates)


def load_default_bundle() -> Bundle:
    """The built-in bundle used when ``scan`` is given no ``--policy``."""
    # Its schema conformance is a test (tests/cli/test_scan_policy.py); the gate registry
    # still checks every rule.
    return parse_bundle(DEFAULT_BUNDLE.read_bytes(), "<built-in>", check_schema=False)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML was built with it (several times faster than pure Python)."""


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the document built from it: one parse. A broken
    document is parsed again by the pure-Python loader, whose error positions users know."""
    try:
        return _parse_with(_LOADER, text)
    except yaml.YAMLError:
        if _LOADER is yaml.SafeLoader:
            raise
        return _parse_with(yaml.SafeLoader, text)


def _parse_with(loader_class: Any, text: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def parse_bundle(data: bytes, source: str, gates: GateRegistry = GATES, *,
                 check_schema: bool = True) -> Bundle:
    """Parse and check a bundle's bytes (YAML, of which JSON is a subset)."""
    try:
        node, document = _parse_yaml(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BundleError(source, [Problem("", "not UTF-8 text")]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise BundleError(source, [Problem("", f"not valid YAML or JSON: {reason}",
                                           line)]) from None
    lines = _line_index(node)
    document = _dates_as_text(document)
    if not isinstance(document, dict):
        raise BundleError(source, [Problem("", "a bundle is a mapping (JSON object)", 1)])
    problems = _schema_problems(document, lines) if check_schema else []
    if problems:
        raise BundleError(source, problems)
    bundle, problems = _build(document, source, gates, lines)
    if problems:
        raise BundleError(source, problems)
    return bundle


def _schema_problems(document: dict[str, Any], lines: Mapping[str, int]) -> list[Problem]:
    # Imported here: with its optional format checkers installed, jsonschema takes a second
    # to import, which a scan with the built-in bundle should not pay.
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        BUNDLE_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path))):
        path = _path_text(error.absolute_path)
        problems.append(Problem(path, _schema_message(error), _line_of(lines, path)))
    return problems


def _schema_message(error: Any) -> str:
    """A schema error (``jsonschema.ValidationError``) as one phrase."""
    if error.validator == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed",
                                          "unknown key(s) not allowed")
    if error.validator == "oneOf" and error.absolute_path and \
            list(error.absolute_path)[-1] == "params":
        return "params must be a mapping of names to values or a list of {name, value}"
    return str(error.message)


def _build(document: dict[str, Any], source: str, gates: GateRegistry,
           lines: Mapping[str, int]) -> tuple[Bundle, list[Problem]]:
    problems: list[Problem] = []

    def problem(path: str, message: str) -> None:
        problems.append(Problem(path, message, _line_of(lines, path)))

    policies = []
    for p_index, raw_policy in enumerate(document["policies"]):
        rules = []
        for r_index, raw_rule in enumerate(raw_policy["rules"]):
            path = f"policies[{p_index}].rules[{r_index}]"
            rule = _rule(raw_rule, f"{raw_policy['id']}:{r_index + 1}", path, gates, problem)
            if rule is not None:
                rules.append(rule)
        policies.append(Policy(raw_policy["id"], raw_policy.get("name") or raw_policy["id"],
                               tuple(rules), raw_policy.get("description")))
    _unique([p.id for p in policies], "policies", "policy", problem)
    for p_index, policy in enumerate(policies):
        _unique([r.id for r in policy.rules], f"policies[{p_index}].rules", "rule", problem)

    allowlists = []
    for a_index, raw_list in enumerate(document.get("allowlists", [])):
        items = []
        for i_index, raw_item in enumerate(raw_list["items"]):
            path = f"allowlists[{a_index}].items[{i_index}]"
            if gates.get(raw_item["gate"]) is None:
                problem(f"{path}.gate", f"unknown gate {raw_item['gate']!r} "
                                        f"(gates: {', '.join(gates.names())})")
            expires = raw_item.get("expires_on")
            items.append(AllowlistItem(
                raw_item["id"], raw_item["gate"], raw_item["trigger_id"], raw_item["reason"],
                datetime.date.fromisoformat(expires) if expires else None))
        _unique([i.id for i in items], f"allowlists[{a_index}].items", "item", problem)
        allowlists.append(Allowlist(raw_list["id"], raw_list.get("name") or raw_list["id"],
                                    tuple(items)))
    _unique([a.id for a in allowlists], "allowlists", "allowlist", problem)

    policy_ids = {p.id for p in policies}
    allowlist_ids = {a.id for a in allowlists}
    mappings = []
    for m_index, raw_mapping in enumerate(document.get("mappings", [])):
        path = f"mappings[{m_index}]"
        for k, policy_id in enumerate(raw_mapping["policy_ids"]):
            if policy_id not in policy_ids:
                problem(f"{path}.policy_ids[{k}]", f"no policy has id {policy_id!r}")
        for k, allowlist_id in enumerate(raw_mapping.get("allowlist_ids", [])):
            if allowlist_id not in allowlist_ids:
                problem(f"{path}.allowlist_ids[{k}]", f"no allowlist has id {allowlist_id!r}")
        selector = _selector(raw_mapping)
        mappings.append(PolicyMapping(
            raw_mapping.get("name") or raw_mapping.get("id") or f"mapping {m_index + 1}",
            selector, tuple(raw_mapping["policy_ids"]),
            tuple(raw_mapping.get("allowlist_ids", []))))

    bundle = Bundle(
        id=document["id"], name=document.get("name") or document["id"],
        version=str(document["version"]), policies=tuple(policies),
        allowlists=tuple(allowlists), mappings=tuple(mappings),
        allowlisted_images=tuple(_selector(s) for s in document.get("allowlisted_images", [])),
        denylisted_images=tuple(_selector(s) for s in document.get("denylisted_images", [])),
        description=document.get("description"), source=source)
    return bundle, problems


def _rule(raw: dict[str, Any], default_id: str, path: str, gates: GateRegistry,
          problem: Any) -> Rule | None:
    gate = gates.get(raw["gate"])
    if gate is None:
        problem(f"{path}.gate", f"unknown gate {raw['gate']!r} (gates: {', '.join(gates.names())})")
        return None
    trigger = gate.trigger(raw["trigger"])
    if trigger is None:
        names = ", ".join(t.name for t in gate.triggers)
        problem(f"{path}.trigger", f"gate {gate.name!r} has no trigger {raw['trigger']!r} "
                                   f"(triggers: {names})")
        return None
    raw_params = raw.get("params") or {}
    if isinstance(raw_params, list):
        raw_params = {pair["name"]: pair["value"] for pair in raw_params}
    values, errors = trigger.validate(raw_params)
    for name, message in errors:
        problem(f"{path}.params.{name}", message)
    if errors:
        return None
    return Rule(id=raw.get("id") or default_id, gate=gate.name, trigger=trigger.name,
                action=Action(raw["action"].upper()), params=values,
                recommendation=raw.get("recommendation"))


def _selector(raw: dict[str, Any]) -> ImageSelector:
    tag, digest = raw.get("tag", "*"), raw.get("digest")
    image = raw.get("image")
    if image is not None:
        if image["type"] == "digest":
            tag, digest = "*", image["value"]
        else:
            tag = image["value"]
    return ImageSelector(registry=raw["registry"], repository=raw["repository"], tag=tag,
                         digest=digest, name=raw.get("name"))


def _unique(ids: Sequence[str], path: str, what: str, problem: Any) -> None:
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            problem(f"{path}[{index}].id", f"duplicate {what} id {item!r}")
        seen.add(item)


def _dates_as_text(value: Any) -> Any:
    """YAML reads ``2027-03-31`` as a date; the schema (and JSON) see text."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(v) for v in value]
    return value


def _path_text(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_index(node: yaml.Node | None) -> dict[str, int]:
    """Bundle path -> 1-based line, from the YAML node tree."""
    lines: dict[str, int] = {}

    def walk(current: yaml.Node, path: str) -> None:
        lines.setdefault(path, current.start_mark.line + 1)
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                child = f"{path}.{key.value}" if path else str(key.value)
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(current, yaml.SequenceNode):
            for index, value in enumerate(current.value):
                walk(value, f"{path}[{index}]")

    if node is not None:
        walk(node, "")
    return lines


def _line_of(lines: Mapping[str, int], path: str) -> int | None:
    """The line of ``path`` or of its nearest ancestor the file shows."""
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""

