"""Evaluation: worst action wins, allowlists (globs, expiry), mappings, image lists."""

from __future__ import annotations

import pytest

from hullscan.policy.context import ImageName
from hullscan.policy.evaluate import NoMappingError, evaluate
from hullscan.policy.load import parse_bundle
from hullscan.policy.model import Action
from tests.policy.core_helpers import context, registry

HEADER = 'version: "1"\nid: b\n'


def bundle(text: str):  # type: ignore[no-untyped-def]
    return parse_bundle((HEADER + text).encode(), "test.yaml", registry())


def test_worst_action_wins() -> None:
    result = evaluate(bundle("""
policies:
  - id: p
    rules:
      - {gate: test, trigger: ids, params: {ids: [a]}, action: WARN}
      - {gate: test, trigger: ids, params: {ids: [b]}, action: STOP}
      - {gate: test, trigger: ids, params: {ids: [c]}, action: GO}
"""), context(), registry())
    assert result.final_action is Action.STOP
    assert not result.passed
    assert [t.fire.trigger_id for t in result.triggered] == ["a", "b", "c"]
    assert result.reason == "1 STOP rule fire"


def test_warn_passes_and_nothing_fired_is_go() -> None:
    warn = evaluate(bundle("""
policies:
  - id: p
    rules: [{gate: test, trigger: ids, params: {ids: [a, b]}, action: WARN}]
"""), context(), registry())
    assert warn.final_action is Action.WARN and warn.passed
    assert warn.reason == "2 WARN rule fires"
    quiet = evaluate(bundle("policies: [{id: p, rules: []}]\n"), context(), registry())
    assert quiet.final_action is Action.GO and quiet.triggered == ()


ALLOWLISTED = """
policies:
  - id: p
    rules: [{gate: test, trigger: ids, params: {ids: [CVE-2023-1+openssl, CVE-2024-2+zlib]},
             action: STOP}]
allowlists:
  - id: accepted
    items:
      - {id: i1, gate: test, trigger_id: "CVE-*+openssl", reason: not reachable,
         expires_on: %s}
"""


def test_allowlist_glob_suppresses_until_it_expires() -> None:
    valid = evaluate(bundle(ALLOWLISTED % "2026-11-27"), context(), registry())
    openssl, zlib = valid.triggered
    assert openssl.allowlisted is not None and openssl.allowlisted.item.reason == "not reachable"
    assert openssl.effective_action is Action.GO
    assert zlib.allowlisted is None
    assert valid.final_action is Action.STOP  # zlib still fires

    expired = evaluate(bundle(ALLOWLISTED % "2026-11-26"), context(), registry())
    openssl = expired.triggered[0]
    assert openssl.allowlisted is None
    assert openssl.expired_allowlist is not None
    assert openssl.expired_allowlist.item.id == "i1"
    assert openssl.effective_action is Action.STOP


def test_allowlist_item_for_another_gate_does_not_suppress() -> None:
    text = ALLOWLISTED.replace("gate: test, trigger_id", "gate: always, trigger_id")
    result = evaluate(bundle(text % "2027-01-01"), context(), registry())
    assert all(t.allowlisted is None for t in result.triggered)


MAPPED = """
policies:
  - id: strict
    rules: [{gate: always, trigger: always, action: STOP}]
  - id: lenient
    rules: [{gate: always, trigger: always, action: WARN}]
mappings:
  - {name: prod, registry: "*", repository: "prod/*", tag: "*", policy_ids: [strict]}
  - {name: staging-1, registry: "127.0.0.1:5000", repository: "staging/*", tag: "1",
     policy_ids: [lenient]}
  - {name: staging-any, registry: "*", repository: "staging/*", policy_ids: [strict]}
"""


def test_first_matching_mapping_wins() -> None:
    first = evaluate(bundle(MAPPED), context(), registry())
    assert first.mapping == "staging-1" and first.policy_ids == ("lenient",)
    assert first.final_action is Action.WARN
    other_tag = ImageName("127.0.0.1:5000", "staging/app", "2", None)
    second = evaluate(bundle(MAPPED), context(other_tag), registry())
    assert second.mapping == "staging-any" and second.final_action is Action.STOP


def test_no_matching_mapping_is_an_error_not_a_pass() -> None:
    image = ImageName("127.0.0.1:5000", "other/app", "1", None)
    with pytest.raises(NoMappingError, match="no mapping"):
        evaluate(bundle(MAPPED), context(image), registry())


LISTED = """
policies:
  - id: p
    rules: [{gate: test, trigger: ids, params: {ids: [a]}, action: %s}]
allowlisted_images:
  - {registry: "*", repository: "staging/app", tag: "1"}
denylisted_images:
  - {registry: "*", repository: "staging/*", tag: "bad-*"}
  - {registry: "*", repository: "staging/app", digest: "sha256:%s"}
"""


def test_allowlisted_image_is_go_even_with_stop_fires() -> None:
    result = evaluate(bundle(LISTED % ("STOP", "00" * 32)), context(), registry())
    assert result.final_action is Action.GO
    assert "allowlisted" in result.reason
    assert result.triggered[0].action is Action.STOP  # still reported


def test_denylisted_image_is_stop_and_wins_over_allowlist() -> None:
    bad = ImageName("127.0.0.1:5000", "staging/app", "bad-1", None)
    result = evaluate(bundle(LISTED % ("GO", "00" * 32)), context(bad), registry())
    assert result.final_action is Action.STOP and "denylisted" in result.reason
    by_digest = evaluate(bundle(LISTED % ("GO", "ab" * 32)), context(), registry())
    assert by_digest.final_action is Action.STOP  # denylist beats the allowlisted tag


def test_base_image_attribution() -> None:
    text = """
policies:
  - id: p
    rules:
      - {gate: test, trigger: ids, params: {ids: [base], layer: 0}, action: WARN}
      - {gate: test, trigger: ids, params: {ids: [own], layer: 2}, action: WARN}
      - {gate: test, trigger: ids, params: {ids: [nowhere]}, action: WARN}
"""
    result = evaluate(bundle(text), context(base_layer_count=2), registry())
    assert [t.from_base_image for t in result.triggered] == [True, False, None]
    unknown = evaluate(bundle(text), context(), registry())
    assert [t.from_base_image for t in unknown.triggered] == [None, None, None]
