"""The policy verdict as JSON, and ``--output-json``: the scan document plus that verdict.

Field names are documented in ``docs/report-json.md``.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from typing import Any

from hullscan.catalog.package import LayerRef
from hullscan.policy.model import Action
from hullscan.policy.result import AllowlistMatch, Evaluation, TriggeredRule
from hullscan.report.json_text import dumps_indented
from hullscan.report.outcome import ScanOutcome

MEDIA_TYPE = "application/json"


def evaluation_document(evaluation: Evaluation) -> dict[str, Any]:
    """The whole evaluation: bundle, image, verdict and every triggered rule."""
    image = evaluation.image
    active = evaluation.active()
    return {
        "bundle": {"id": evaluation.bundle_id, "name": evaluation.bundle_name,
                   "source": evaluation.bundle_source},
        "image": {"name": str(image), "registry": image.registry,
                  "repository": image.repository, "tag": image.tag, "digest": image.digest},
        "mapping": evaluation.mapping,
        "policies": list(evaluation.policy_ids),
        "allowlists": list(evaluation.allowlist_ids),
        "final_action": str(evaluation.final_action),
        "reason": evaluation.reason,
        "passed": evaluation.passed,
        "base_layer_count": evaluation.base_layer_count,
        "evaluated_at": evaluation.evaluated_at.isoformat(),
        "counts": {**{str(a): sum(1 for t in active if t.action is a) for a in
                      sorted(Action, key=lambda a: -a.rank)},
                   "allowlisted": len(evaluation.allowlisted()),
                   "expired_allowlist": sum(1 for t in active
                                            if t.expired_allowlist is not None)},
        "triggered": [triggered_document(t) for t in evaluation.triggered],
    }


def triggered_document(rule: TriggeredRule) -> dict[str, Any]:
    """One fire of one rule."""
    fire = rule.fire
    return {
        "gate": rule.gate, "trigger": rule.trigger, "rule_id": rule.rule_id,
        "policy_id": rule.policy_id, "action": str(rule.action),
        "effective_action": str(rule.effective_action), "trigger_id": fire.trigger_id,
        "message": fire.message,
        "severity": None if fire.severity is None else str(fire.severity),
        "finding_id": fire.finding_id, "package": fire.package, "path": fire.path,
        "layer": layer_document(fire.layer), "from_base_image": rule.from_base_image,
        "dockerfile_line": fire.dockerfile_line, "recommendation": rule.recommendation,
        "allowlisted": allowlist_document(rule.allowlisted),
        "expired_allowlist": allowlist_document(rule.expired_allowlist),
        "details": _json_safe(fire.details),
    }


def layer_document(layer: LayerRef | None) -> dict[str, Any] | None:
    """``{index, diff_id, created_by}`` or None."""
    if layer is None:
        return None
    return {"index": layer.index, "diff_id": layer.diff_id, "created_by": layer.created_by}


def allowlist_document(match: AllowlistMatch | None) -> dict[str, Any] | None:
    """``{allowlist_id, item_id, reason, expires_on}`` or None."""
    if match is None:
        return None
    item = match.item
    return {"allowlist_id": match.allowlist_id, "item_id": item.id, "reason": item.reason,
            "expires_on": None if item.expires_on is None else item.expires_on.isoformat()}


def _json_safe(value: Any) -> Any:
    """Gate-specific details as JSON values (enums by value, dates in ISO form)."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_json_safe(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, enum.Enum):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def render_json(outcome: ScanOutcome) -> str:
    """The ``hullscan-scan/1`` document with ``"policy"`` (null without an evaluation)."""
    policy = None if outcome.evaluation is None else evaluation_document(outcome.evaluation)
    return dumps_indented({**outcome.document, "policy": policy}) + "\n"
