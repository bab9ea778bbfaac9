"""The ``secret_scans`` gate: the secret scanner's findings (files of every layer, ENV,
labels, build history) as policy fires.

Trigger id: ``{rule_id}+{path or config_key}`` (``HS-SEC-AWS-ACCESS-KEY+app/.env``,
``HS-SEC-ENV-SECRET+Env[DB_PASSWORD]``); ``notfound`` for ``match_type: notfound``.
Messages carry the finding's redacted evidence only, never a secret's value.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from typing import Any

from hullscan.checks.finding import Category, CheckFinding
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import Fire, Gate, Param, ParamKind, Trigger
from hullscan.policy.gates.files import path_matches


def _selected(finding: CheckFinding, params: Mapping[str, Any]) -> bool:
    if finding.category is not Category.SECRET:
        return False
    if not any(fnmatch.fnmatchcase(finding.rule_id, g) for g in params["content_regex_name"]):
        return False
    if finding.deleted and not params["include_deleted"]:
        return False
    filename: re.Pattern[str] | None = params.get("filename_regex")
    return filename is None or (finding.path is not None
                                and path_matches(filename, finding.path))


def describe(finding: CheckFinding) -> str:
    """``GitHub token in app/.env line 3 (still retrievable from layer 1 (deleted by layer 2))``."""
    if finding.path is not None:
        where = finding.path + (f" line {finding.line}" if finding.line else "")
    else:
        where = f"the image config ({finding.config_key})"
    text = f"{finding.title} ({finding.rule_id}, {finding.severity}) in {where}"
    if finding.deleted_by is not None and finding.layer is not None:
        text += (f", still retrievable from layer {finding.layer.index} "
                 f"(deleted by layer {finding.deleted_by.index})")
    elif finding.layer is not None:
        text += f", layer {finding.layer.index}"
    return text + (f": {finding.evidence}" if finding.evidence else "")


def _content_regex_checks(context: EvaluationContext,
                          params: Mapping[str, Any]) -> Iterator[Fire]:
    found = [f for f in context.checks if _selected(f, params)]
    if params["match_type"] == "notfound":
        if not found:
            names = ", ".join(params["content_regex_name"])
            yield Fire(trigger_id="notfound", message=f"no secret matching {names} was found")
        return
    for finding in found:
        yield Fire(trigger_id=f"{finding.rule_id}+{finding.path or finding.config_key}",
                   message=describe(finding), layer=finding.layer, severity=finding.severity,
                   path=finding.path, finding_id=finding.rule_id,
                   details={"deleted_by": finding.deleted_by.index
                            if finding.deleted_by is not None else None,
                            "remediation": finding.remediation})


GATE = Gate(
    name="secret_scans",
    description="Secrets found in the image's files (deleted ones included), environment, "
                "labels and build history.",
    triggers=(Trigger(
        "content_regex_checks",
        "Fires for each secret finding selected by rule id and file name (found), or once "
        "when there is none (notfound).",
        (Param("content_regex_name", ParamKind.LIST,
               "Secret rule ids or globs (HS-SEC-AWS-*); default every rule.",
               default="*"),
         Param("filename_regex", ParamKind.REGEX,
               "Only secrets in files whose path matches (searched, with or without the "
               "leading slash); config findings have no file and never match."),
         Param("include_deleted", ParamKind.BOOLEAN,
               "Also secrets only retrievable from an earlier layer.", default=True),
         Param("match_type", ParamKind.ENUM,
               "found: fire per secret; notfound: fire when there is none.",
               default="found", choices=("found", "notfound"))),
        _content_regex_checks),),
)
