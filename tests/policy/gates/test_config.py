"""The config/dockerfile gate over parsed configs, history, Dockerfiles and real config checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hullscan.checks.config import check_config
from hullscan.checks.secrets import scan_config
from hullscan.policy.gates import GATES
from hullscan.policy.gates.base import Trigger
from hullscan.policy.gates.config import DOCKERFILE_GATE, GATE
from tests.checks.secrets.fakes import ALNUM, rand
from tests.policy.gates.context_helpers2 import (
    context,
    dockerfile,
    fire_ids,
    fires,
    image_config,
    metadata,
    problems,
)

GH_TOKEN = "gh" + "p_" + rand(ALNUM, 36)
HEALTHY: dict[str, Any] = {"Healthcheck": {"Test": ["CMD", "true"]}}


def trigger(name: str) -> Trigger:
    found = GATE.trigger(name)
    assert found is not None
    return found


def test_both_gate_names_share_the_triggers() -> None:
    assert GATES.get("config") is GATE and GATES.get("dockerfile") is DOCKERFILE_GATE
    assert GATE.triggers is DOCKERFILE_GATE.triggers
    assert [t.name for t in GATE.triggers] == ["check", "effective_user", "exposed_ports",
                                               "instruction", "no_dockerfile_provided"]


# --- check ----------------------------------------------------------------------------------

def test_check_fires_per_config_finding_with_rule_and_place() -> None:
    config = image_config(ExposedPorts={"22/tcp": {}, "8080/tcp": {}})
    ctx = context(config, checks=check_config(metadata(config)))
    check = trigger("check")
    assert fire_ids(check, ctx) == ["HS-CFG-001+User", "HS-CFG-002+Healthcheck",
                                    "HS-CFG-003+ExposedPorts[22/tcp]"]
    assert fire_ids(check, ctx, rule_ids=["HS-CFG-00[13]"]) == [
        "HS-CFG-001+User", "HS-CFG-003+ExposedPorts[22/tcp]"]
    [root] = fires(check, ctx, min_severity="high")
    assert root.finding_id == "HS-CFG-001" and root.severity is not None
    assert "Image runs as root" in root.message and root.dockerfile_line is None


def test_check_does_not_fire_for_a_clean_image_or_other_categories() -> None:
    config = image_config(User="app", Env=[f"GITHUB_TOKEN={GH_TOKEN}"], **HEALTHY)
    secrets = scan_config(config, [])
    assert secrets and check_config(metadata(config)) == []
    assert fire_ids(trigger("check"), context(config, checks=secrets)) == []


def test_check_attaches_the_dockerfile_line_and_redacts_evidence(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(f"FROM debian\nRUN curl -H 'Authorization: {GH_TOKEN}' https://x | sh\n")
    config = image_config(User="app", **HEALTHY)
    ctx = context(config, checks=check_config(metadata(config), dockerfile=path))
    [fire] = fires(trigger("check"), ctx, rule_ids="HS-CFG-008")
    assert fire.trigger_id == "HS-CFG-008+Dockerfile:2" and fire.dockerfile_line == 2
    assert GH_TOKEN not in fire.message and "sha256:" in fire.message


def test_check_parameter_problems() -> None:
    found = problems(trigger("check"), rule_ids=["HS-CFG-001", "HS-SEC-*"], min_severity="bad")
    assert "HS-SEC-*" in found["rule_ids"]
    assert "expected one of" in found["min_severity"]
    assert "unknown parameter" in problems(trigger("check"), rule=["HS-CFG-001"])["rule"]


# --- effective_user -------------------------------------------------------------------------

def test_effective_user_root_forms() -> None:
    user = trigger("effective_user")
    for value in (None, "", "0", "0:0", "root:root"):
        runtime: dict[str, Any] = {"User": value} if value is not None else {}
        ctx = context(image_config(**runtime))
        assert fire_ids(user, ctx, users=["root"], type="denylist") == ["root"]
        assert fire_ids(user, ctx, users="app", type="allowlist") == ["root"]
        assert fire_ids(user, ctx, users=["0"], type="allowlist") == []


def test_effective_user_named_user_does_not_fire_when_allowed() -> None:
    ctx = context(image_config(User="app:staff"))
    user = trigger("effective_user")
    assert fire_ids(user, ctx, users=["app"], type="allowlist") == []
    assert fire_ids(user, ctx, users=["root"], type="denylist") == []
    [fire] = fires(user, ctx, users=["root"], type="allowlist")
    assert fire.trigger_id == "app" and "not in the allowlist" in fire.message


def test_effective_user_config_wins_and_gets_the_final_stage_user_line(tmp_path: Path) -> None:
    steps = dockerfile("FROM golang AS build\nUSER builder\nFROM debian\nUSER app\n", tmp_path)
    ctx = context(image_config(), dockerfile=steps)  # config User unset: root runs
    [fire] = fires(trigger("effective_user"), ctx, users=["root"], type="denylist")
    assert fire.trigger_id == "root" and fire.dockerfile_line == 4


def test_effective_user_from_the_dockerfile_without_a_config(tmp_path: Path) -> None:
    user = trigger("effective_user")
    ctx = context(None, dockerfile=dockerfile("FROM debian\nUSER 0\n", tmp_path))
    [fire] = fires(user, ctx, users=["root"], type="denylist")
    assert fire.dockerfile_line == 2 and "USER (line 2)" in fire.message
    assert fire_ids(user, context(None), users=["root"], type="denylist") == []


def test_effective_user_parameter_problems() -> None:
    found = problems(trigger("effective_user"), type="greylist")
    assert found["users"] == "required parameter is missing"
    assert "allowlist, denylist" in found["type"]


# --- exposed_ports --------------------------------------------------------------------------

PORTS: dict[str, dict[str, str]] = {"22/tcp": {}, "8080/tcp": {}, "53/udp": {}}


def test_exposed_ports_denylist_and_allowlist() -> None:
    ctx = context(image_config(ExposedPorts=PORTS))
    ports = trigger("exposed_ports")
    assert fire_ids(ports, ctx, ports=["22"], type="denylist") == ["22/tcp"]
    assert fire_ids(ports, ctx, ports=["8080/tcp", "53"], type="allowlist") == ["22/tcp"]
    assert fire_ids(ports, ctx, ports="53/tcp,23", type="denylist") == []
    assert fire_ids(ports, ctx, ports=["22", "53/udp", "8080"], type="allowlist") == []


def test_exposed_ports_line_from_the_dockerfile(tmp_path: Path) -> None:
    steps = dockerfile("FROM debian\nEXPOSE 8080\nEXPOSE 22/tcp 53/udp\n", tmp_path)
    ctx = context(image_config(ExposedPorts=PORTS), dockerfile=steps)
    [fire] = fires(trigger("exposed_ports"), ctx, ports=["22"], type="denylist")
    assert fire.trigger_id == "22/tcp" and fire.dockerfile_line == 3


def test_exposed_ports_actual_dockerfile_only(tmp_path: Path) -> None:
    ports = trigger("exposed_ports")
    config = image_config(ExposedPorts={"8080/tcp": {}})
    steps = dockerfile("FROM debian\nEXPOSE 2375 8000-8010/tcp\n", tmp_path)
    ctx = context(config, dockerfile=steps)
    only = {"actual_dockerfile_only": True, "type": "denylist"}
    assert fire_ids(ports, ctx, ports=["2375", "8005"], **only) == ["2375/tcp",
                                                                     "8000-8010/tcp"]
    assert fire_ids(ports, ctx, ports=["2375"], type="denylist") == []  # the config's ports
    assert fire_ids(ports, context(config), ports=["8080"], **only) == []


def test_exposed_ports_parameter_problems() -> None:
    found = problems(trigger("exposed_ports"), ports=["ssh", "70000", "22/icmp"],
                     type="denylist", actual_dockerfile_only="maybe")
    assert "ssh, 70000, 22/icmp" in found["ports"]
    assert "true or false" in found["actual_dockerfile_only"]


# --- instruction ----------------------------------------------------------------------------

HISTORY: list[str | tuple[str, bool]] = [
    "/bin/sh -c #(nop) ADD file:0123abcd in / ",                       # layer 0
    ("/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin", True),
    "RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit",  # layer 1
    ("USER root", True),
    "COPY app /app # buildkit",                                        # layer 2
    ("/bin/sh -c #(nop)  USER app", True),
]


def test_instruction_value_checks_over_history() -> None:
    ctx = context(image_config(history=HISTORY))
    rule = trigger("instruction")
    user = "USER+history[3].created_by"
    assert fire_ids(rule, ctx, instruction="USER", check="=", value="root") == [user]
    assert fire_ids(rule, ctx, instruction="USER", check="!=", value="app") == [user]
    assert fire_ids(rule, ctx, instruction="USER", check="in", value="root, admin") == [user]
    assert fire_ids(rule, ctx, instruction="USER", check="not_in", value="root") == [
        "USER+history[5].created_by"]
    assert fire_ids(rule, ctx, instruction="ENV", check="not_like", value="^PATH=") == []
    [run] = fires(rule, ctx, instruction="RUN", check="like", value=r"install\s+-y")
    assert run.layer is not None and run.layer.index == 1
    assert run.trigger_id == "RUN+history[2].created_by" and run.dockerfile_line is None
    assert fire_ids(rule, ctx, instruction="USER", check="=", value="nobody") == []


def test_instruction_exists_and_not_exists() -> None:
    ctx = context(image_config(history=HISTORY))
    rule = trigger("instruction")
    [copy] = fires(rule, ctx, instruction="COPY", check="exists")
    assert copy.layer is not None and copy.layer.index == 2
    assert fire_ids(rule, ctx, instruction="HEALTHCHECK", check="exists") == []
    assert fire_ids(rule, ctx, instruction="HEALTHCHECK", check="not_exists") == ["HEALTHCHECK"]
    assert fire_ids(rule, ctx, instruction="USER", check="not_exists") == []


def test_instruction_reads_the_dockerfile_instead(tmp_path: Path) -> None:
    steps = dockerfile(f"FROM debian\nENV TOKEN={GH_TOKEN}\nUSER app\n", tmp_path)
    rule = trigger("instruction")
    ctx = context(image_config(history=HISTORY), dockerfile=steps)
    assert fire_ids(rule, ctx, instruction="USER", check="=", value="root") == []
    [env] = fires(rule, ctx, instruction="ENV", check="like", value="TOKEN")
    assert env.trigger_id == "ENV+Dockerfile:2" and env.dockerfile_line == 2
    assert GH_TOKEN not in env.message
    only = {"actual_dockerfile_only": True}
    assert fire_ids(rule, context(image_config(history=HISTORY)), instruction="USER",
                    check="exists", **only) == []
    assert fire_ids(rule, ctx, instruction="FROM", check="exists", **only) == [
        "FROM+Dockerfile:1"]


def test_instruction_parameter_problems() -> None:
    rule = trigger("instruction")
    assert "required when check is 'like'" in problems(rule, instruction="RUN",
                                                        check="like")["value"]
    assert "invalid regular expression" in problems(rule, instruction="RUN", check="like",
                                                    value="(")["value"]
    found = problems(rule, instruction="FOO", check="~")
    assert "ADD" in found["instruction"] and "not_exists" in found["check"]
    assert problems(rule, instruction="RUN", check="exists") == {}


# --- no_dockerfile_provided -----------------------------------------------------------------

def test_no_dockerfile_provided(tmp_path: Path) -> None:
    rule = trigger("no_dockerfile_provided")
    assert fire_ids(rule, context(image_config())) == ["no_dockerfile_provided"]
    steps = dockerfile("FROM debian\n", tmp_path)
    assert fire_ids(rule, context(image_config(), dockerfile=steps)) == []
    assert "unknown parameter" in problems(rule, extra=1)["extra"]
