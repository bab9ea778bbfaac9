"""The ``files`` gate: the final (squashed) file system's names, contents and permissions.

Every trigger fires once per file; the trigger id is the path without leading slash
(``usr/bin/passwd``). Regexes are searched in the path with and without the leading slash,
so ``^/etc/`` (Anchore style) and ``^etc/`` both work.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator, Mapping
from typing import Any

from hullscan.image.layer import FileEntry, FileKind
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import Fire, Gate, Param, ParamKind, Trigger

_REGULAR = frozenset({FileKind.REGULAR, FileKind.HARDLINK})
_WRITABLE_KINDS = _REGULAR | {FileKind.DIRECTORY}
"""Symlinks are always mode 777 and devices are not content: neither counts."""


def path_matches(pattern: re.Pattern[str], path: str) -> bool:
    """Is ``pattern`` found in ``path`` (no leading slash) or in ``/path``?"""
    return pattern.search(path) is not None or pattern.search("/" + path) is not None


def _excluded(params: Mapping[str, Any], path: str) -> bool:
    exclude: re.Pattern[str] | None = params.get("exclude")
    return exclude is not None and path_matches(exclude, path)


def _fire(context: EvaluationContext, entry: FileEntry, message: str) -> Fire:
    return Fire(trigger_id=entry.path, message=message, path=entry.path,
                layer=context.layer_ref(entry.layer_index))


def _name_match(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    for entry in context.files:
        if path_matches(params["regex"], entry.path):
            yield _fire(context, entry, f"{entry.kind} {entry.path} matches "
                                        f"{params['regex'].pattern!r}")


def _content_regex_match(context: EvaluationContext,
                         params: Mapping[str, Any]) -> Iterator[Fire]:
    pattern = params["regex"].pattern
    entries = {entry.path: entry for entry in context.files}
    for path in context.content_matches.get(pattern, ()):
        entry = entries.get(path)
        yield Fire(trigger_id=path, message=f"the content of {path} matches {pattern!r}",
                   path=path, layer=context.layer_ref(entry.layer_index) if entry else None)


def _suid_or_guid_set(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    for entry in context.files:
        bits = entry.mode & (stat.S_ISUID | stat.S_ISGID)
        if entry.kind in _REGULAR and bits and not _excluded(params, entry.path):
            which = " and ".join(name for bit, name in ((stat.S_ISUID, "setuid"),
                                                        (stat.S_ISGID, "setgid")) if bits & bit)
            yield _fire(context, entry, f"{which} file {entry.path} (mode {entry.mode:04o}, "
                                        f"owner {entry.uid}:{entry.gid})")


def _world_writable(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    for entry in context.files:
        if (entry.kind in _WRITABLE_KINDS and entry.mode & stat.S_IWOTH
                and not (entry.kind is FileKind.DIRECTORY and entry.mode & stat.S_ISVTX)
                and not _excluded(params, entry.path)):
            yield _fire(context, entry, f"world-writable {entry.kind} {entry.path} "
                                        f"(mode {entry.mode:04o})")


_EXCLUDE = Param("exclude", ParamKind.REGEX, "Skip paths matching this regex.")

GATE = Gate(
    name="files",
    description="The final file system: file names, contents and permissions.",
    triggers=(
        Trigger("name_match", "Fires for each file whose path matches a regex.",
                (Param("regex", ParamKind.REGEX, "Regex searched in each path.",
                       required=True),),
                _name_match),
        Trigger("content_regex_match", "Fires for each file whose content matches a regex "
                                       "(regular files within the size limit, not binaries).",
                (Param("regex", ParamKind.REGEX, "Regex searched in each file's content.",
                       required=True),),
                _content_regex_match),
        Trigger("suid_or_guid_set", "Fires for each regular file with the setuid or setgid "
                                    "bit.", (_EXCLUDE,), _suid_or_guid_set),
        Trigger("world_writable", "Fires for each file or directory anyone may write to "
                                  "(sticky directories such as /tmp excepted).",
                (_EXCLUDE,), _world_writable),
    ),
)
