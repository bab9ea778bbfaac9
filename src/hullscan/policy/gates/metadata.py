"""The ``metadata`` gate: compare one image attribute (size, distro, age, ...) with a value.

Each attribute is an entry of :data:`ATTRIBUTES` (how to read it, whether it is numeric) and
each check an entry of :data:`_CHECKS`. An attribute has zero or more values (``like_distro``
can have several): positive checks hold when any value satisfies them, negated ones when none
does.
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hullscan.errors import HullscanError
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import Fire, Gate, Param, ParamKind, Trigger

_SIZE = re.compile(r"\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]?i?b?)\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
          "gb": 1000**3, "t": 1000**4, "tb": 1000**4, "ki": 1024, "kib": 1024,
          "mi": 1024**2, "mib": 1024**2, "gi": 1024**3, "gib": 1024**3, "ti": 1024**4,
          "tib": 1024**4}


def parse_size(text: str) -> float:
    """Bytes in ``500MB``, ``1.5GiB``, ``1024`` (decimal and binary units); ValueError if not."""
    match = _SIZE.fullmatch(text)
    unit = match.group("unit").lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"expected a size like 500MB or 1GiB, got {text!r}")
    return float(match.group("number")) * _UNITS[unit]


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None


def _version_key(text: str) -> tuple[int, ...] | str:
    """Dotted release numbers order numerically (3.9 < 3.18); other text as text."""
    return tuple(int(p) for p in text.split(".")) if re.fullmatch(r"\d+(\.\d+)*", text) \
        else text


@dataclass(frozen=True)
class Attribute:
    """How to read one image attribute and to read values compared with it."""

    read: Callable[[EvaluationContext], tuple[Any, ...]]
    """The attribute's values (empty when the image does not have it)."""
    parse: Callable[[str], Any]
    """A value from the rule, as the attribute's type."""
    order: Callable[[Any], Any]
    """The sort key used by <, <=, >, >=."""
    description: str


def _one(value: Any) -> tuple[Any, ...]:
    return () if value is None or value == "" else (value,)


def _image_age_days(context: EvaluationContext) -> tuple[Any, ...]:
    text = context.config.created if context.config else None
    try:
        created = datetime.datetime.fromisoformat(text) if text else None
    except ValueError:
        return ()
    if created is None:
        return ()
    created = created if created.tzinfo else created.replace(tzinfo=datetime.UTC)
    return (float((context.now - created).days),)


def _platform_field(name: str) -> Callable[[EvaluationContext], tuple[Any, ...]]:
    def read(context: EvaluationContext) -> tuple[Any, ...]:
        platform = context.metadata.platform
        value = getattr(context.config, name, None) if context.config else None
        return _one(value or (getattr(platform, name) if platform else None))
    return read


def _distro_field(read: Callable[[Any], Any]) -> Callable[[EvaluationContext], tuple[Any, ...]]:
    def values(context: EvaluationContext) -> tuple[Any, ...]:
        distro = context.catalog.distro
        value = read(distro) if distro is not None else None
        return tuple(value) if isinstance(value, tuple) else _one(value)
    return values


def _numeric(read: Callable[[EvaluationContext], tuple[Any, ...]], description: str,
             parse: Callable[[str], float] = _number) -> Attribute:
    return Attribute(read, parse, float, description)


def _text(read: Callable[[EvaluationContext], tuple[Any, ...]], description: str) -> Attribute:
    return Attribute(read, str.strip, _version_key, description)


ATTRIBUTES: dict[str, Attribute] = {
    "size": _numeric(lambda c: (float(c.metadata.total_size),),
                     "sum of the stored (compressed) layer sizes in bytes; values may use "
                     "units (500MB, 1GiB)", parse_size),
    "layer_count": _numeric(lambda c: (float(len(c.metadata.layers)),), "number of layers"),
    "distro": _text(_distro_field(lambda d: d.id), "distribution id (debian, alpine)"),
    "distro_version": _text(_distro_field(lambda d: d.version_id),
                            "distribution release (12, 3.20.1)"),
    "like_distro": _text(_distro_field(lambda d: d.id_like),
                         "the distributions it is like (os-release ID_LIKE; may be several)"),
    "architecture": _text(_platform_field("architecture"), "CPU architecture (amd64, arm64)"),
    "os": _text(_platform_field("os"), "operating system (linux, windows)"),
    "image_age_days": _numeric(_image_age_days,
                               "whole days since the image config's created time"),
}
"""Attribute name -> how it is read and compared."""


def _parsed(attribute: Attribute, value: str | None) -> Any:
    if value is None:
        raise ValueError("this check needs a value")
    return attribute.parse(value)


def _ordering(compare: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def check(values: tuple[Any, ...], attribute: Attribute, value: str | None) -> bool:
        wanted = attribute.order(_parsed(attribute, value))
        return any(_ordered(compare, attribute.order(v), wanted) for v in values)
    return check


def _ordered(compare: Callable[[Any, Any], bool], left: Any, right: Any) -> bool:
    try:
        return compare(left, right)
    except TypeError:  # a dotted release against text: not comparable
        return False


def _equal(values: tuple[Any, ...], attribute: Attribute, value: str | None) -> bool:
    return _parsed(attribute, value) in values


def _like(values: tuple[Any, ...], attribute: Attribute, value: str | None) -> bool:
    if value is None:
        raise ValueError("this check needs a value")
    try:
        pattern = re.compile(value)
    except re.error as error:
        raise ValueError(f"invalid regular expression {value!r}: {error}") from None
    return any(pattern.fullmatch(_as_text(v)) for v in values)


def _in(values: tuple[Any, ...], attribute: Attribute, value: str | None) -> bool:
    if value is None:
        raise ValueError("this check needs a value")
    listed = [attribute.parse(item) for item in value.split(",") if item.strip()]
    return any(v in listed for v in values)


def _as_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _negated(check: Callable[..., bool]) -> Callable[..., bool]:
    return lambda values, attribute, value: not check(values, attribute, value)


_CHECKS: dict[str, Callable[..., bool]] = {
    "=": _equal,
    "!=": _negated(_equal),
    "<": _ordering(operator.lt),
    "<=": _ordering(operator.le),
    ">": _ordering(operator.gt),
    ">=": _ordering(operator.ge),
    "like": _like,
    "not_like": _negated(_like),
    "in": _in,
    "not_in": _negated(_in),
    "exists": lambda values, attribute, value: bool(values),
    "not_exists": lambda values, attribute, value: not values,
}
"""Check name -> ``(attribute values, attribute, rule value) -> holds?``."""


def _attribute(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    name, check, value = params["attribute"], params["check"], params.get("value")
    attribute = ATTRIBUTES[name]
    values = attribute.read(context)
    try:
        holds = _CHECKS[check](values, attribute, value)
    except ValueError as error:
        raise HullscanError(f"metadata/attribute {name} {check}: {error}",
                            subject=str(context.image)) from None
    if holds:
        shown = ", ".join(_as_text(v) for v in values) or "(none)"
        condition = check if value is None or check in ("exists", "not_exists") \
            else f"{check} {value}"
        yield Fire(name, f"image {name} is {shown}: matches '{condition}'", finding_id=name,
                   details={"attribute": name, "values": [_as_text(v) for v in values]})


_ATTRIBUTE_HELP = "; ".join(f"{name}: {a.description}" for name, a in ATTRIBUTES.items())

GATE = Gate(
    name="metadata",
    description="Image metadata: size, layer count, distribution, platform and age.",
    triggers=(
        Trigger("attribute", "Fires when the image attribute satisfies the check against "
                "the value. An attribute the image does not have satisfies only not_exists "
                "and the negated checks (!=, not_like, not_in).",
                (Param("attribute", ParamKind.ENUM, f"The attribute ({_ATTRIBUTE_HELP}).",
                       required=True, choices=tuple(ATTRIBUTES)),
                 Param("check", ParamKind.ENUM, "How the attribute is compared: =, != and "
                       "the orderings compare numbers for numeric attributes and dotted "
                       "releases numerically; like/not_like take a regular expression the "
                       "whole value must match; in/not_in a comma-separated list; "
                       "exists/not_exists need no value.", required=True,
                       choices=tuple(_CHECKS)),
                 Param("value", ParamKind.STRING, "The value compared with (required by "
                       "every check except exists and not_exists).")),
                _attribute),
    ),
)
