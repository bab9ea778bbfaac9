"""Evaluate a bundle against one image: image lists, mapping, rules, allowlists, verdict."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from hullscan.errors import HullscanError
from hullscan.policy.context import EvaluationContext, ImageName
from hullscan.policy.gates import GATES
from hullscan.policy.gates.base import Fire, GateRegistry
from hullscan.policy.model import (
    Action,
    Allowlist,
    Bundle,
    ImageSelector,
    Policy,
    PolicyMapping,
    Rule,
)
from hullscan.policy.result import AllowlistMatch, Evaluation, TriggeredRule


class NoMappingError(HullscanError):
    """The bundle has mappings and none selects the image: refusing to guess a policy."""


def evaluate(bundle: Bundle, context: EvaluationContext,
             gates: GateRegistry = GATES) -> Evaluation:
    """The bundle's verdict on the image in ``context``.

    A denylisted image is STOP and an allowlisted one GO (the denylist wins when both
    match); otherwise every rule of the mapped policies is evaluated and the worst action of
    the fires no valid allowlist item suppresses decides. Rules still run for listed images,
    so that the report shows what they found.
    """
    mapping = select_mapping(bundle, context.image)
    if mapping is None:
        policies, allowlists = bundle.policies, bundle.allowlists
    else:
        policies = tuple(bundle.policy(i) for i in mapping.policy_ids)
        allowlists = tuple(bundle.allowlist(i) for i in mapping.allowlist_ids)
    triggered = [result for policy in policies
                 for result in _evaluate_policy(policy, allowlists, context, gates)]
    worst = Action.worst([t.effective_action for t in triggered])
    denied = _first_selecting(bundle.denylisted_images, context.image)
    allowed = _first_selecting(bundle.allowlisted_images, context.image)
    if denied is not None:
        final, reason = Action.STOP, f"the image is denylisted ({_describe(denied)})"
    elif allowed is not None:
        final, reason = Action.GO, f"the image is allowlisted ({_describe(allowed)})"
    else:
        final, reason = worst, _reason(worst, triggered)
    return Evaluation(
        bundle_id=bundle.id, bundle_name=bundle.name, bundle_source=bundle.source,
        image=context.image, mapping=mapping.name if mapping else None,
        policy_ids=tuple(p.id for p in policies), allowlist_ids=tuple(a.id for a in allowlists),
        final_action=final, reason=reason, triggered=tuple(triggered),
        evaluated_at=context.now, base_layer_count=context.base_layer_count)


def select_mapping(bundle: Bundle, image: ImageName) -> PolicyMapping | None:
    """The first mapping selecting ``image``; None when the bundle has no mappings.

    Raises :class:`NoMappingError` when it has mappings and none matches.
    """
    if not bundle.mappings:
        return None
    for mapping in bundle.mappings:
        if _selects(mapping.selector, image):
            return mapping
    raise NoMappingError(f"no mapping of policy bundle {bundle.id!r} matches this image "
                         f"(add a catch-all mapping with registry, repository and tag '*')",
                         subject=str(image))


def _evaluate_policy(policy: Policy, allowlists: Sequence[Allowlist],
                     context: EvaluationContext, gates: GateRegistry) -> list[TriggeredRule]:
    results: list[TriggeredRule] = []
    for rule in policy.rules:
        gate = gates.get(rule.gate)
        trigger = gate.trigger(rule.trigger) if gate else None
        if trigger is None:  # the loader rejects these; a hand-made bundle may not
            raise HullscanError(f"unknown gate/trigger {rule.gate}/{rule.trigger}",
                                subject=f"policy {policy.id} rule {rule.id}")
        # Gates may find things in any order (sets, dicts): reports must not change between
        # runs of the same image.
        fires = sorted(trigger.evaluate(context, rule.params),
                       key=lambda f: (f.trigger_id, f.path or "", f.message))
        for fire in fires:
            valid, expired = _allowlisting(rule, fire, allowlists, context)
            results.append(TriggeredRule(
                policy_id=policy.id, rule_id=rule.id, gate=rule.gate, trigger=rule.trigger,
                action=rule.action, fire=fire, recommendation=rule.recommendation,
                allowlisted=valid, expired_allowlist=expired,
                from_base_image=context.from_base_image(fire.layer)))
    return results


def _allowlisting(rule: Rule, fire: Fire, allowlists: Sequence[Allowlist],
                  context: EvaluationContext
                  ) -> tuple[AllowlistMatch | None, AllowlistMatch | None]:
    """The first valid item matching the fire, and (if none) the first expired one."""
    expired: AllowlistMatch | None = None
    for allowlist in allowlists:
        for item in allowlist.items:
            if item.gate != rule.gate or not fnmatch.fnmatchcase(fire.trigger_id,
                                                                 item.trigger_id):
                continue
            if item.expired(context.today):
                expired = expired or AllowlistMatch(allowlist.id, item)
                continue
            return AllowlistMatch(allowlist.id, item), None
    return None, expired


def _selects(selector: ImageSelector, image: ImageName) -> bool:
    return image.matches(selector.registry, selector.repository, selector.tag, selector.digest)


def _first_selecting(selectors: Sequence[ImageSelector], image: ImageName
                     ) -> ImageSelector | None:
    return next((s for s in selectors if _selects(s, image)), None)


def _describe(selector: ImageSelector) -> str:
    if selector.name:
        return selector.name
    text = f"{selector.registry}/{selector.repository}:{selector.tag}"
    return f"{text}@{selector.digest}" if selector.digest else text


def _reason(worst: Action, triggered: Sequence[TriggeredRule]) -> str:
    active = [t for t in triggered if t.allowlisted is None]
    if worst is Action.GO:
        suppressed = len(triggered) - len(active)
        tail = f" ({suppressed} allowlisted)" if suppressed else ""
        return f"no STOP or WARN rule fired{tail}"
    count = sum(1 for t in active if t.action is worst)
    return f"{count} {worst.value} rule fire{'s' if count != 1 else ''}"
