"""The ``always`` gate: fires unconditionally (to block or flag every image a mapping selects)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.base import Fire, Gate, Trigger


def _always(context: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
    yield Fire(trigger_id="always", message=f"the policy always fires for {context.image}")


GATE = Gate(
    name="always",
    description="Fires for every image; used to block (or warn about) everything a mapping "
                "selects, e.g. while a repository is frozen.",
    triggers=(Trigger("always", "Fires unconditionally.", (), _always),),
)
