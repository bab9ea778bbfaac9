"""The ``passwd_file`` gate: accounts in the final image's ``/etc/passwd``.

Entry triggers fire once per offending line, with the user name as trigger id (``games``);
``content_not_available`` uses ``etc/passwd``. Parameter names are Anchore's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import Fire, Gate, Param, ParamKind, Trigger

PASSWD = "etc/passwd"


@dataclass(frozen=True)
class PasswdEntry:
    """One well-formed ``name:password:uid:gid:gecos:home:shell`` line."""

    name: str
    uid: int
    gid: int
    home: str
    shell: str
    line: int
    """1-based line number."""
    text: str
    """The whole line, stripped."""


def parse_passwd(content: bytes) -> tuple[PasswdEntry, ...]:
    """Every well-formed line; comments, blank and malformed lines are skipped."""
    entries = []
    for number, raw in enumerate(content.decode("utf-8", "replace").splitlines(), start=1):
        text = raw.strip()
        fields = text.split(":")
        if text.startswith("#") or len(fields) != 7 or not fields[0]:
            continue
        if not (fields[2].isdigit() and fields[3].isdigit()):
            continue
        entries.append(PasswdEntry(fields[0], int(fields[2]), int(fields[3]), fields[5],
                                   fields[6], number, text))
    return tuple(entries)


def _ids(items: tuple[str, ...]) -> tuple[int, ...]:
    bad = [i for i in items if not i.isdigit()]
    if bad:
        raise ValueError(f"expected numeric ids, got {', '.join(bad)}")
    return tuple(int(i) for i in items)


def _content_not_available(context: EvaluationContext,
                           params: Mapping[str, Any]) -> Iterator[Fire]:
    if PASSWD not in context.file_contents:
        yield Fire(trigger_id=PASSWD, message="the image has no /etc/passwd", path=PASSWD)


Offends = Callable[[PasswdEntry, Mapping[str, Any]], str | None]
"""A reason when the entry is denylisted by the rule's parameters, else None."""


def _denylist(offends: Offends) -> Callable[[EvaluationContext, Mapping[str, Any]],
                                             Iterator[Fire]]:
    def evaluate(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
        content = context.file_contents.get(PASSWD)
        if content is None:
            return
        layer = next((context.layer_ref(f.layer_index) for f in context.files
                      if f.path == PASSWD), None)
        for entry in parse_passwd(content):
            reason = offends(entry, params)
            if reason is not None:
                yield Fire(trigger_id=entry.name, path=PASSWD, layer=layer,
                           message=f"/etc/passwd line {entry.line}: user {entry.name} "
                                   f"{reason} (denylisted)", finding_id=entry.name)
    return evaluate


def _by_name(entry: PasswdEntry, params: Mapping[str, Any]) -> str | None:
    return "exists" if entry.name in params["user_names"] else None


def _by_uid(entry: PasswdEntry, params: Mapping[str, Any]) -> str | None:
    return f"has uid {entry.uid}" if entry.uid in params["user_ids"] else None


def _by_gid(entry: PasswdEntry, params: Mapping[str, Any]) -> str | None:
    return f"has gid {entry.gid}" if entry.gid in params["group_ids"] else None


def _by_shell(entry: PasswdEntry, params: Mapping[str, Any]) -> str | None:
    return f"has shell {entry.shell}" if entry.shell in params["shells"] else None


def _by_entry(entry: PasswdEntry, params: Mapping[str, Any]) -> str | None:
    return "has a denylisted entry" if entry.text in params["entry"] else None


def _trigger(name: str, description: str, param: Param, offends: Offends) -> Trigger:
    return Trigger(name, description, (param,), _denylist(offends))


GATE = Gate(
    name="passwd_file",
    description="Accounts in the image's /etc/passwd.",
    triggers=(
        Trigger("content_not_available", "Fires when the image has no /etc/passwd.", (),
                _content_not_available),
        _trigger("denylist_usernames", "Fires for each account with a denylisted name.",
                 Param("user_names", ParamKind.LIST, "User names.", required=True), _by_name),
        _trigger("denylist_userids", "Fires for each account with a denylisted uid.",
                 Param("user_ids", ParamKind.LIST, "Numeric uids.", required=True,
                       validator=_ids), _by_uid),
        _trigger("denylist_groupids", "Fires for each account with a denylisted primary gid.",
                 Param("group_ids", ParamKind.LIST, "Numeric gids.", required=True,
                       validator=_ids), _by_gid),
        _trigger("denylist_shells", "Fires for each account with a denylisted login shell.",
                 Param("shells", ParamKind.LIST, "Shell paths (/bin/bash).", required=True),
                 _by_shell),
        _trigger("denylist_full_entry", "Fires for each line equal to a denylisted entry.",
                 Param("entry", ParamKind.LIST, "Whole passwd lines "
                                                "(name:x:uid:gid:gecos:home:shell).",
                       required=True), _by_entry),
    ),
)
