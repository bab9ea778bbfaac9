"""What a gate is: named triggers, each describing its parameters and finding fires.

A trigger's ``evaluate`` gets the :class:`~hullscan.policy.context.EvaluationContext` and its
rule's validated parameters and yields one :class:`Fire` per thing it objects to. The fire's
``trigger_id`` is what allowlist items match (``CVE-2023-1234+openssl``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hullscan.catalog.package import LayerRef
from hullscan.vuln.severity import Severity

if TYPE_CHECKING:
    from hullscan.policy.context import EvaluationContext


class ParamKind(enum.StrEnum):
    """The type of a trigger parameter (also its JSON Schema type in ``policy gates``)."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    """One of ``choices``."""
    LIST = "list"
    """A list of strings, or one comma-separated string."""
    REGEX = "regex"
    """A Python regular expression (compiled on validation)."""
    SEVERITY = "severity"
    """critical, high, medium, low, negligible, unknown."""
    DATE = "date"
    """An ISO date (``2027-03-31``)."""


COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
"""The comparison operators parameters like ``severity_comparison`` accept."""


def compare(left: float, operator: str, right: float) -> bool:
    """``left operator right`` for one of :data:`COMPARISONS`."""
    return {
        "=": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
        ">": left > right, ">=": left >= right,
    }[operator]


@dataclass(frozen=True)
class Param:
    """One trigger parameter: its name, type, meaning and whether it must be given."""

    name: str
    kind: ParamKind
    description: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    validator: Callable[[Any], Any] | None = field(default=None, compare=False)
    """Extra check on the parsed value: returns it (possibly normalised) or raises ValueError."""

    def parse(self, raw: Any) -> Any:
        """The typed value of ``raw`` (native JSON/YAML values or their string forms).

        Raises ValueError with a message saying what is wrong.
        """
        value = _PARSERS[self.kind](self, raw)
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be at least {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be at most {self.maximum:g}")
        return self.validator(value) if self.validator is not None else value

    def describe(self) -> dict[str, Any]:
        """The parameter as data (for ``policy gates --format json`` and the docs)."""
        out: dict[str, Any] = {"name": self.name, "type": self.kind.value,
                               "description": self.description, "required": self.required}
        if self.default is not None:
            out["default"] = self.default
        if self.choices:
            out["choices"] = list(self.choices)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


def _string(param: Param, raw: Any) -> str:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ValueError(f"expected a string, got {_kind_of(raw)}")
    return str(raw)


def _integer(param: Param, raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*-?\d+\s*", raw):
        return int(raw)
    raise ValueError(f"expected an integer, got {raw!r}")


def _number(param: Param, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            pass
    raise ValueError(f"expected a number, got {raw!r}")


def _boolean(param: Param, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"true", "false"}:
        return raw.strip().lower() == "true"
    raise ValueError(f"expected true or false, got {raw!r}")


def _enum(param: Param, raw: Any) -> str:
    value = _string(param, raw)
    if value not in param.choices:
        raise ValueError(f"expected one of {', '.join(param.choices)}, got {value!r}")
    return value


def _list(param: Param, raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        items = [part.strip() for part in raw.split(",")]
    elif isinstance(raw, list) and all(isinstance(i, str | int) and not isinstance(i, bool)
                                       for i in raw):
        items = [str(i).strip() for i in raw]
    else:
        raise ValueError(f"expected a list of strings or a comma-separated string, "
                         f"got {_kind_of(raw)}")
    items = [i for i in items if i]
    if not items:
        raise ValueError("expected at least one item")
    if param.choices:
        unknown = [i for i in items if i not in param.choices]
        if unknown:
            raise ValueError(f"unknown item(s) {', '.join(unknown)} "
                             f"(choose from {', '.join(param.choices)})")
    return tuple(items)


def _regex(param: Param, raw: Any) -> re.Pattern[str]:
    text = _string(param, raw)
    try:
        return re.compile(text)
    except re.error as error:
        raise ValueError(f"invalid regular expression {text!r}: {error}") from None


def _severity(param: Param, raw: Any) -> Severity:
    text = _string(param, raw).strip().lower()
    names = [s.name.lower() for s in sorted(Severity, reverse=True)]
    if text not in names:
        raise ValueError(f"expected one of {', '.join(names)}, got {raw!r}")
    return Severity.parse(text)


def _date(param: Param, raw: Any) -> Any:
    import datetime

    if isinstance(raw, datetime.date):
        return raw
    try:
        return datetime.date.fromisoformat(_string(param, raw))
    except ValueError:
        raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {raw!r}") from None


def _kind_of(raw: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean", type(None): "null"}.get(
        type(raw), type(raw).__name__)


_PARSERS: dict[ParamKind, Callable[[Param, Any], Any]] = {
    ParamKind.STRING: _string, ParamKind.INTEGER: _integer, ParamKind.NUMBER: _number,
    ParamKind.BOOLEAN: _boolean, ParamKind.ENUM: _enum, ParamKind.LIST: _list,
    ParamKind.REGEX: _regex, ParamKind.SEVERITY: _severity, ParamKind.DATE: _date,
}


@dataclass(frozen=True)
class Fire:
    """One thing a trigger objects to: what, where, and the id allowlists match."""

    trigger_id: str
    """What allowlist items match (``CVE-2023-1234+openssl``, ``HS-SEC-GITHUB-TOKEN+app/.env``)."""
    message: str
    """One sentence naming the finding and why it fired (``critical CVE-... in openssl ...``)."""
    layer: LayerRef | None = None
    """The layer (and build step) the finding comes from, when it has one."""
    severity: Severity | None = None
    """The finding's own severity, when it has one (reports use it)."""
    path: str | None = None
    """The file, without leading slash."""
    package: str | None = None
    """``name version (type)`` of the package involved."""
    finding_id: str | None = None
    """The vulnerability id, check rule id or other identifier of what fired."""
    dockerfile_line: int | None = None
    """The Dockerfile line, when the finding comes from a given Dockerfile."""
    details: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """Extra facts for reports (CVSS, EPSS, fix versions, ...)."""


Evaluate = Callable[["EvaluationContext", Mapping[str, Any]], Iterable[Fire]]


@dataclass(frozen=True)
class Trigger:
    """One condition a gate can check."""

    name: str
    description: str
    params: tuple[Param, ...]
    evaluate: Evaluate = field(compare=False)

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``."""
        return next((p for p in self.params if p.name == name), None)

    def validate(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Typed parameters with defaults, and ``(param name, problem)`` for each error."""
        values: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for name in raw:
            if self.param(str(name)) is None:
                known = ", ".join(p.name for p in self.params) or "none"
                problems.append((str(name), f"unknown parameter (this trigger takes: {known})"))
        for param in self.params:
            if param.name in raw and raw[param.name] is not None:
                try:
                    values[param.name] = param.parse(raw[param.name])
                except ValueError as error:
                    problems.append((param.name, str(error)))
            elif param.required:
                problems.append((param.name, "required parameter is missing"))
            elif param.default is not None:
                values[param.name] = param.parse(param.default)
        return values, problems

    def describe(self) -> dict[str, Any]:
        """The trigger as data."""
        return {"name": self.name, "description": self.description,
                "params": [p.describe() for p in self.params]}


@dataclass(frozen=True)
class Gate:
    """A family of triggers about one kind of finding."""

    name: str
    description: str
    triggers: tuple[Trigger, ...]

    def trigger(self, name: str) -> Trigger | None:
        """The trigger called ``name``."""
        return next((t for t in self.triggers if t.name == name), None)

    def describe(self) -> dict[str, Any]:
        """The gate as data."""
        return {"name": self.name, "description": self.description,
                "triggers": [t.describe() for t in self.triggers]}


class GateRegistry:
    """Gates by name; each gate module registers its gate."""

    def __init__(self, gates: Sequence[Gate] = ()) -> None:
        self._gates: dict[str, Gate] = {}
        for gate in gates:
            self.register(gate)

    def register(self, gate: Gate) -> Gate:
        """Add ``gate``; names are unique."""
        if gate.name in self._gates:
            raise ValueError(f"gate {gate.name!r} registered twice")
        self._gates[gate.name] = gate
        return gate

    def get(self, name: str) -> Gate | None:
        """The gate called ``name``."""
        return self._gates.get(name)

    def __iter__(self) -> Iterator[Gate]:
        return iter(sorted(self._gates.values(), key=lambda g: g.name))

    def names(self) -> list[str]:
        """Every gate name, sorted."""
        return sorted(self._gates)
