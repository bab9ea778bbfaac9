"""The ``config`` gate, also registered as ``dockerfile`` (Anchore's name): the image config,
its build history and the Dockerfile given with ``--dockerfile``.

Trigger ids (what allowlist items match):

* ``check``: the rule id, then ``+`` and the finding's config key or path when it has one
  (``HS-CFG-003+ExposedPorts[22/tcp]``, ``HS-CFG-010+history[4].created_by``,
  ``HS-CFG-017+var/cache/apt/archives``); the bare rule id otherwise;
* ``effective_user``: the user name (``root``);
* ``exposed_ports``: ``22/tcp``;
* ``instruction``: the instruction and where it is (``USER+Dockerfile:12``,
  ``RUN+history[3].created_by``); the bare instruction for ``not_exists``;
* ``no_dockerfile_provided``: ``no_dockerfile_provided``.

The Dockerfile's *final stage* (the instructions after its last ``FROM``) decides the user and
the ports it exposes. Values from the history or a Dockerfile pass through the secret
scanner's redaction before they reach a message.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hullscan.checks.config.rules import RULES
from hullscan.checks.config.steps import Step, history_steps
from hullscan.checks.finding import Category
from hullscan.checks.secrets.scanner import redact_text
from hullscan.policy.context import DockerfileInstruction, EvaluationContext
from hullscan.policy.gates.base import Fire, Gate, Param, ParamKind, Trigger

LIST_TYPES = ("allowlist", "denylist")
INSTRUCTIONS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
                "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL",
                "USER", "VOLUME", "WORKDIR")
CHECKS = ("=", "!=", "exists", "not_exists", "like", "not_like", "in", "not_in")
_PORT = re.compile(r"(\d+)(?:-(\d+))?(?:/(tcp|udp|sctp))?")
_EVIDENCE_CHARS = 200

CrossCheck = Callable[[Mapping[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class CheckedTrigger(Trigger):
    """A trigger whose parameters are also checked together (``value`` needed by ``check``)."""

    cross_check: CrossCheck | None = field(default=None, compare=False)
    """``(typed values) -> [(param name, problem)]``, run when every parameter parsed."""

    def validate(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """As :meth:`Trigger.validate`, plus the cross-parameter problems."""
        values, problems = super().validate(raw)
        if not problems and self.cross_check is not None:
            problems.extend(self.cross_check(values))
        return values, problems


# --- check ----------------------------------------------------------------------------------

def _known_rule_globs(globs: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [g for g in globs if not any(fnmatch.fnmatchcase(r.id, g) for r in RULES)]
    if unknown:
        raise ValueError(f"no config rule matches {', '.join(unknown)} "
                         f"(rules: {RULES[0].id} .. {RULES[-1].id})")
    return globs


def _check(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    globs: tuple[str, ...] = params["rule_ids"]
    minimum = params.get("min_severity")
    for finding in context.checks:
        if finding.category is not Category.CONFIG or not any(
                fnmatch.fnmatchcase(finding.rule_id, g) for g in globs):
            continue
        if minimum is not None and finding.severity < minimum:
            continue
        where = finding.config_key or finding.path
        from_dockerfile = (finding.config_key or "").startswith("Dockerfile:")
        evidence = redact_text(finding.evidence)[:_EVIDENCE_CHARS] if finding.evidence else None
        yield Fire(
            trigger_id=f"{finding.rule_id}+{where}" if where else finding.rule_id,
            message=f"{finding.title} ({finding.rule_id}, {finding.severity})"
                    + (f" at {where}" if where else "") + (f": {evidence}" if evidence else ""),
            layer=finding.layer, severity=finding.severity, path=finding.path,
            finding_id=finding.rule_id, dockerfile_line=finding.line if from_dockerfile else None,
            details={"remediation": finding.remediation})


# --- effective_user -------------------------------------------------------------------------

def user_name(user: str | None) -> str:
    """The user part of a ``User`` value; unset, empty and uid 0 are ``root``."""
    name = (user or "").split(":", 1)[0].strip()
    return "root" if name in ("", "0") else name


def final_stage(dockerfile: Sequence[DockerfileInstruction]) -> tuple[DockerfileInstruction, ...]:
    """The instructions after the last ``FROM`` (all of them when there is none)."""
    starts = [i for i, item in enumerate(dockerfile) if item.instruction == "FROM"]
    return tuple(dockerfile[starts[-1] + 1:] if starts else dockerfile)


def _effective_user(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    stage = final_stage(context.dockerfile or ())
    user_line = next((i for i in reversed(stage) if i.instruction == "USER"), None)
    if context.config is not None:  # what actually runs, whatever the Dockerfile says
        raw, source = context.config.user, "the image config"
    elif user_line is not None:
        raw, source = user_line.value, f"the Dockerfile's USER (line {user_line.line})"
    else:
        return  # no config and no USER: the base image's user, which we cannot know
    user = user_name(raw)
    listed = user in {user_name(u) for u in params["users"]}
    denylist = params["type"] == "denylist"
    if listed != denylist:
        return
    how = "is denylisted" if denylist else "is not in the allowlist"
    shown = f"User={raw!r}" if raw else "User unset"
    yield Fire(trigger_id=user,
               message=f"the image runs as {user} ({shown} in {source}), which {how}",
               finding_id=user, dockerfile_line=user_line.line if user_line else None)


# --- exposed_ports --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Port:
    """An exposed port (or range) and where it was declared."""

    low: int
    high: int
    protocol: str
    dockerfile_line: int | None = None

    @property
    def text(self) -> str:
        span = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        return f"{span}/{self.protocol}"


def _parse_port(text: str, line: int | None = None) -> _Port | None:
    match = _PORT.fullmatch(text.strip().lower())
    if match is None:
        return None
    low = int(match.group(1))
    return _Port(low, int(match.group(2) or low), match.group(3) or "tcp", line)


def _valid_ports(ports: tuple[str, ...]) -> tuple[str, ...]:
    bad = [p for p in ports if (parsed := _parse_port(p)) is None or parsed.low != parsed.high
           or not 0 < parsed.low <= 65535]
    if bad:
        raise ValueError(f"expected ports like 22 or 53/udp, got {', '.join(bad)}")
    return tuple(p.strip().lower() for p in ports)


def _dockerfile_ports(dockerfile: Sequence[DockerfileInstruction]) -> list[_Port]:
    ports = []
    for item in final_stage(dockerfile):
        if item.instruction == "EXPOSE":
            ports += [p for token in item.value.split()
                      if (p := _parse_port(token, item.line)) is not None]
    return ports


def _declared_line(port: _Port, declared: Sequence[_Port]) -> int | None:
    """The line of the first EXPOSE covering ``port``."""
    return next((d.dockerfile_line for d in declared if d.protocol == port.protocol
                 and d.low <= port.low and port.high <= d.high), None)


def _listed(port: _Port, listed: tuple[str, ...]) -> bool:
    for text in listed:
        number, _, protocol = text.partition("/")
        if port.low <= int(number) <= port.high and protocol in ("", port.protocol):
            return True
    return False


def _exposed_ports(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    declared = _dockerfile_ports(context.dockerfile or ())
    if params["actual_dockerfile_only"]:
        if context.dockerfile is None:
            return
        ports, source = declared, "the Dockerfile"
    elif context.config is not None:
        ports = [_Port(p.low, p.high, p.protocol, _declared_line(p, declared))
                 for text in context.config.exposed_ports
                 if (p := _parse_port(text)) is not None]
        source = "the image config"
    else:
        return
    denylist = params["type"] == "denylist"
    for port in ports:
        if _listed(port, params["ports"]) == denylist:
            how = "is denylisted" if denylist else "is not in the allowlist"
            yield Fire(trigger_id=port.text, message=f"port {port.text} is exposed ({source}) "
                                                     f"and {how}",
                       finding_id=port.text, dockerfile_line=port.dockerfile_line)


# --- instruction ----------------------------------------------------------------------------

def _in(actual: str, value: str) -> bool:
    return actual in {item.strip() for item in value.split(",")}


COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "=": lambda actual, value: actual == value,
    "!=": lambda actual, value: actual != value,
    "like": lambda actual, value: re.search(value, actual) is not None,
    "not_like": lambda actual, value: re.search(value, actual) is None,
    "in": _in,
    "not_in": lambda actual, value: not _in(actual, value),
}
"""For each value check: does the instruction's value (stripped) meet it? ``like`` searches
the regex in the value; ``in`` takes a comma-separated list."""


def _instruction_params(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    check, value = values["check"], values.get("value")
    if check in COMPARISONS and value is None:
        return [("value", f"required when check is {check!r}")]
    if check in ("like", "not_like") and isinstance(value, str):
        try:
            re.compile(value)
        except re.error as error:
            return [("value", f"invalid regular expression {value!r}: {error}")]
    return []


def instruction_steps(context: EvaluationContext, dockerfile_only: bool = False
                      ) -> tuple[Step, ...] | None:
    """The given Dockerfile's instructions, else (unless ``dockerfile_only``) the history's
    build steps; None when there is neither."""
    if context.dockerfile is not None:
        return tuple(Step(i.instruction, i.value, f"Dockerfile:{i.line}", line=i.line)
                     for i in context.dockerfile)
    if dockerfile_only or context.config is None:
        return None
    return history_steps(context.config)


def _instruction(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    steps = instruction_steps(context, params["actual_dockerfile_only"])
    if steps is None:
        return
    wanted, check, value = params["instruction"], params["check"], str(params.get("value"))
    matching = [s for s in steps if s.instruction == wanted]
    if check == "not_exists":
        if not matching:
            source = "the Dockerfile" if context.dockerfile is not None else "the image history"
            yield Fire(trigger_id=wanted, message=f"no {wanted} instruction in {source}",
                       finding_id=wanted)
        return
    for step in matching:
        if check == "exists" or COMPARISONS[check](step.arguments.strip(), value):
            shown = redact_text(step.arguments)[:_EVIDENCE_CHARS]
            condition = "exists" if check == "exists" else f"{check} {value!r}"
            yield Fire(trigger_id=f"{wanted}+{step.config_key}",
                       message=f"{wanted} {shown} at {step.config_key} ({condition})",
                       layer=step.layer, finding_id=wanted, dockerfile_line=step.line)


# --- no_dockerfile_provided -----------------------------------------------------------------

def _no_dockerfile(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    if context.dockerfile is None:
        yield Fire(trigger_id="no_dockerfile_provided",
                   message="no Dockerfile was given with the image (--dockerfile)")


_TYPE = Param("type", ParamKind.ENUM, "allowlist: fire for what is not listed; denylist: fire "
                                      "for what is listed.", required=True, choices=LIST_TYPES)
_DOCKERFILE_ONLY = Param("actual_dockerfile_only", ParamKind.BOOLEAN,
                         "Only look at the given Dockerfile (no fire without one), not the "
                         "image config or history.", default=False)

TRIGGERS: tuple[Trigger, ...] = (
    Trigger("check", "Fires for each config check finding (HS-CFG-*) selected by rule id and "
                     "severity.",
            (Param("rule_ids", ParamKind.LIST, "Config rule ids or globs (HS-CFG-001, "
                                               "HS-CFG-01*); default every config rule.",
                   default="HS-CFG-*", validator=_known_rule_globs),
             Param("min_severity", ParamKind.SEVERITY,
                   "Only findings at least this severe.")),
            _check),
    Trigger("effective_user", "Fires when the user the image runs as (config User; unset or "
                              "uid 0 is root; the Dockerfile's USER when there is no config) "
                              "is denylisted or not allowlisted.",
            (Param("users", ParamKind.LIST, "User names (root, app) or uids.", required=True),
             _TYPE),
            _effective_user),
    Trigger("exposed_ports", "Fires for each exposed port that is denylisted or not "
                             "allowlisted.",
            (Param("ports", ParamKind.LIST, "Ports: 22 (any protocol) or 53/udp.",
                   required=True, validator=_valid_ports),
             _TYPE, _DOCKERFILE_ONLY),
            _exposed_ports),
    CheckedTrigger("instruction", "Fires for each instruction of a kind meeting a check (the "
                                  "given Dockerfile, else the image history).",
                   (Param("instruction", ParamKind.ENUM, "The instruction to look at.",
                          required=True, choices=INSTRUCTIONS),
                    Param("check", ParamKind.ENUM, "exists/not_exists, or how the value is "
                                                   "compared with `value`.",
                          required=True, choices=CHECKS),
                    Param("value", ParamKind.STRING, "What to compare with: a regex for "
                                                     "like/not_like, a comma list for in/not_in."),
                    _DOCKERFILE_ONLY),
                   _instruction, cross_check=_instruction_params),
    Trigger("no_dockerfile_provided", "Fires when no Dockerfile was given with the image.", (),
            _no_dockerfile),
)

GATE = Gate(name="config", description="The image config, its build history and the given "
                                       "Dockerfile: config checks, user, ports, instructions.",
            triggers=TRIGGERS)
DOCKERFILE_GATE = Gate(name="dockerfile", description="The same triggers as the config gate, "
                                                      "under Anchore's gate name.",
                       triggers=TRIGGERS)
