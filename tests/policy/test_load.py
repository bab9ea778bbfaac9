"""Bundle loading: every problem named with file, line, path and reason."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from hullscan.errors import HullscanError
from hullscan.policy.load import BundleError, load_bundle, parse_bundle
from hullscan.policy.model import Action
from hullscan.policy.schema import BUNDLE_SCHEMA
from tests.policy.core_helpers import registry

ROOT = Path(__file__).resolve().parents[2]


def problems(text: str) -> list[str]:
    with pytest.raises(BundleError) as caught:
        parse_bundle(text.encode(), "bundle.yaml", registry())
    return [p.render("bundle.yaml") for p in caught.value.problems]


def test_valid_bundle_in_both_params_forms() -> None:
    bundle = parse_bundle(b"""version: "1"
id: b
name: Bundle
policies:
  - id: p
    rules:
      - {gate: test, trigger: ids, params: {ids: "a, b", layer: "2"}, action: stop}
      - {id: named, gate: test, trigger: ids, action: WARN, recommendation: fix it,
         params: [{name: ids, value: [c]}]}
allowlists:
  - id: a
    items: [{id: i, gate: test, trigger_id: "a*", reason: ok, expires_on: 2027-01-31}]
mappings:
  - {registry: "*", repository: "*", policy_ids: [p], allowlist_ids: [a]}
""", "b.yaml", registry())
    first, second = bundle.policies[0].rules
    assert first.id == "p:1" and first.action is Action.STOP
    assert first.params == {"ids": ("a", "b"), "layer": 2}
    assert second.id == "named" and second.params == {"ids": ("c",)}
    assert second.recommendation == "fix it"
    assert bundle.allowlists[0].items[0].expires_on == datetime.date(2027, 1, 31)
    assert bundle.mappings[0].selector.tag == "*"
    assert bundle.source == "b.yaml"


def test_unknown_gate_trigger_and_param_are_located() -> None:
    found = problems("""version: "1"
id: b
policies:
  - id: p
    rules:
      - {gate: nope, trigger: x, action: WARN}
      - {gate: test, trigger: nope, action: WARN}
      - {gate: test, trigger: ids, action: WARN, params: {ids: [a], colour: red}}
      - {gate: test, trigger: ids, action: WARN, params: {layer: many}}
""")
    assert found[0].startswith("bundle.yaml:6: policies[0].rules[0].gate: unknown gate 'nope'")
    assert "gates: always, test" in found[0]
    assert found[1] == ("bundle.yaml:7: policies[0].rules[1].trigger: gate 'test' has no "
                        "trigger 'nope' (triggers: ids)")
    assert found[2].startswith("bundle.yaml:8: policies[0].rules[2].params.colour: unknown "
                               "parameter")
    assert "bundle.yaml:9: policies[0].rules[3].params.ids: required parameter is missing" \
        in found
    assert "bundle.yaml:9: policies[0].rules[3].params.layer: expected an integer, got 'many'" \
        in found


def test_schema_problems_are_located() -> None:
    found = problems("""version: "1"
id: b
policies:
  - id: p
    rules:
      - {gate: test, trigger: ids, action: MAYBE}
allowlists:
  - id: a
    items:
      - {id: i, gate: test, trigger_id: x}
      - {id: j, gate: test, trigger_id: x, reason: r, expires_on: "next week"}
colour: red
""")
    assert any(p.startswith("bundle.yaml:6: policies[0].rules[0].action: 'MAYBE' is not one of")
               for p in found)
    assert any(p.startswith("bundle.yaml:10: allowlists[0].items[0]: 'reason' is a required")
               for p in found)
    assert any(p.startswith("bundle.yaml:11: allowlists[0].items[1].expires_on: 'next week' "
                            "is not a 'date'") for p in found)
    assert any("(top level): unknown key(s) not allowed ('colour' was unexpected)" in p
               for p in found)


def test_references_and_duplicates() -> None:
    found = problems("""version: "1"
id: b
policies:
  - {id: p, rules: []}
  - {id: p, rules: []}
mappings:
  - {registry: "*", repository: "*", policy_ids: [p, q], allowlist_ids: [none]}
""")
    assert "bundle.yaml:5: policies[1].id: duplicate policy id 'p'" in found
    assert "bundle.yaml:7: mappings[0].policy_ids[1]: no policy has id 'q'" in found
    assert "bundle.yaml:7: mappings[0].allowlist_ids[0]: no allowlist has id 'none'" in found


@pytest.mark.parametrize(("data", "message"), [
    (b"version: '1'\nid: [", "not valid YAML or JSON"),
    (b"- a\n- b\n", "a bundle is a mapping"),
    (b"\xff\xfe", "not UTF-8 text"),
    (b'{"version": "1", "id": "b"}', "'policies' is a required property"),
])
def test_unreadable_bundles(data: bytes, message: str) -> None:
    with pytest.raises(BundleError, match=r"bundle\.json"):
        parse_bundle(data, "bundle.json", registry())
    with pytest.raises(BundleError) as caught:
        parse_bundle(data, "bundle.json", registry())
    assert message in str(caught.value)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(HullscanError, match=r"missing\.yaml"):
        load_bundle(tmp_path / "missing.yaml", registry())


def test_json_bundle(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"version": "1", "id": "j", "policies": [
        {"id": "p", "rules": [{"gate": "always", "trigger": "always", "action": "GO"}]}]}))
    assert load_bundle(path, registry()).policies[0].rules[0].action is Action.GO


def test_published_schema_is_current() -> None:
    published = json.loads((ROOT / "docs" / "policy-bundle.schema.json").read_text())
    assert published == BUNDLE_SCHEMA
