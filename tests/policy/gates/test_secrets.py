"""The secret_scans gate over secret findings from real layers and a real image config."""

from __future__ import annotations

from hullscan.checks.finding import CheckFinding
from hullscan.checks.secrets import SecretVisitor, findings, scan_config
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.policy.context import EvaluationContext
from hullscan.policy.evaluate import evaluate
from hullscan.policy.gates.secrets import GATE
from hullscan.policy.load import parse_bundle
from hullscan.policy.model import Action
from tests.checks.secrets.fakes import ALNUM, rand
from tests.policy.gates.context_helpers2 import (
    context,
    fire_ids,
    fires,
    image_config,
    layer_refs,
    problems,
    read_layers,
)
from tests.support.image_builder import File, LayerSpec, Whiteout

GH_TOKEN = "gh" + "p_" + rand(ALNUM, 36)
PASSWORD = rand(ALNUM, 20, seed=3)
TRIGGER = GATE.triggers[0]


def secret_findings(*, with_config: bool = True) -> list[CheckFinding]:
    """Layer 0 adds app/.env (GitHub token) and root/.netrc (password); layer 1 deletes
    app/.env; the config has a token in an ENV value."""
    visitor = SecretVisitor()
    layers = read_layers([
        LayerSpec([File("/app/.env", f"GITHUB={GH_TOKEN}\n".encode()),
                   File("/root/.netrc", f"machine h login u password {PASSWORD}\n".encode()),
                   File("/etc/app.conf", b"debug = false\n")], created_by="COPY . /"),
        LayerSpec([Whiteout("/app/.env")], created_by="RUN rm /app/.env"),
    ], visitor)
    refs = layer_refs(layers)
    out = findings(visitor, SquashedFilesystem(layers).layer_of, refs)
    if with_config:
        config = image_config(layers=2, Env=[f"DEPLOY_TOKEN={GH_TOKEN}"])
        out += scan_config(config, refs)
    return out


def ctx(checks: list[CheckFinding] | None = None) -> EvaluationContext:
    return context(image_config(layers=2), layers=2,
                   checks=secret_findings() if checks is None else checks)


def rule_of(path_or_key: str) -> str:
    return next(f.rule_id for f in secret_findings()
                if path_or_key in (f.path, f.config_key))


def test_fires_per_secret_with_path_or_config_key() -> None:
    env, netrc, config = rule_of("app/.env"), rule_of("root/.netrc"), rule_of(
        "Env[DEPLOY_TOKEN]")
    assert fire_ids(TRIGGER, ctx()) == sorted([f"{env}+app/.env", f"{netrc}+root/.netrc",
                                               f"{config}+Env[DEPLOY_TOKEN]"])


def test_deleted_secret_message_names_both_layers_and_never_the_value() -> None:
    by_path = {f.path: f for f in fires(TRIGGER, ctx())}
    deleted = by_path["app/.env"]
    assert "still retrievable from layer 0 (deleted by layer 1)" in deleted.message
    assert deleted.layer is not None and deleted.layer.index == 0
    assert "still retrievable" not in by_path["root/.netrc"].message
    assert "the image config (Env[DEPLOY_TOKEN])" in by_path[None].message
    for fire in by_path.values():
        assert GH_TOKEN not in fire.message and PASSWORD not in fire.message


def test_selection_by_name_file_and_deletion() -> None:
    netrc = rule_of("root/.netrc")
    assert fire_ids(TRIGGER, ctx(), content_regex_name=netrc) == [f"{netrc}+root/.netrc"]
    assert fire_ids(TRIGGER, ctx(), content_regex_name=["HS-SEC-NOPE-*"]) == []
    assert fire_ids(TRIGGER, ctx(), filename_regex="^/root/") == [f"{netrc}+root/.netrc"]
    assert fire_ids(TRIGGER, ctx(), filename_regex=r"\.env$", include_deleted=True) == [
        f"{rule_of('app/.env')}+app/.env"]
    kept = fire_ids(TRIGGER, ctx(), include_deleted=False)
    assert len(kept) == 2 and not any(i.endswith("+app/.env") for i in kept)


def test_notfound() -> None:
    assert fire_ids(TRIGGER, ctx(), content_regex_name="HS-SEC-AWS-*",
                    match_type="notfound") == ["notfound"]
    assert fire_ids(TRIGGER, ctx(), match_type="notfound") == []
    assert fire_ids(TRIGGER, ctx([]), match_type="notfound") == ["notfound"]
    assert fire_ids(TRIGGER, ctx([])) == []


def test_parameter_problems() -> None:
    found = problems(TRIGGER, filename_regex="(", match_type="maybe", include_deleted="x")
    assert "invalid regular expression" in found["filename_regex"]
    assert "found, notfound" in found["match_type"]
    assert "true or false" in found["include_deleted"]
    assert "at least one item" in problems(TRIGGER, content_regex_name=[])["content_regex_name"]


BUNDLE = """
id: secrets
version: "1"
policies:
  - id: default
    rules:
      - {gate: secret_scans, trigger: content_regex_checks, action: STOP,
         params: {filename_regex: "^app/"}}
allowlists:
  - id: app-secrets
    items:
      - {id: rotated, gate: secret_scans, trigger_id: "HS-SEC-*+app/*",
         reason: "rotated; file deleted"}
"""


def test_bundle_stops_on_a_deleted_secret_and_an_allowlist_suppresses_it() -> None:
    stop = evaluate(parse_bundle(BUNDLE.split("allowlists:")[0].encode(), "test.yaml"), ctx())
    assert stop.final_action is Action.STOP
    [triggered] = stop.triggered
    assert triggered.fire.path == "app/.env" and triggered.allowlisted is None
    assert "deleted by layer 1" in triggered.fire.message

    allowed = evaluate(parse_bundle(BUNDLE.encode(), "test.yaml"), ctx())
    assert allowed.final_action is Action.GO
    [suppressed] = allowed.triggered
    assert suppressed.allowlisted is not None and suppressed.allowlisted.item.id == "rotated"
