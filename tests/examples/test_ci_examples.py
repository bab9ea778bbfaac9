"""The CI examples in examples/ci: schema-valid workflows that only call real hullscan commands.

The workflow files are validated against the GitHub Actions and GitLab CI JSON Schemas that
``check-jsonschema`` vendors (schemastore.org copies), offline: every run gets a dead HTTP(S)
proxy and an empty cache directory, so a schema download would fail rather than pass.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CI_DIR = ROOT / "examples" / "ci"
GITHUB = CI_DIR / "github-actions.yml"
GITLAB = CI_DIR / "gitlab-ci.yml"
POLICY = CI_DIR / "policy.yaml"
WORKFLOWS = {GITHUB: "vendor.github-workflows", GITLAB: "vendor.gitlab-ci"}

ALLOWED_SUBCOMMANDS = {"scan", "promote", "db update", "policy check"}
DEAD_PROXY = "http://127.0.0.1:9"


def _offline_env(cache_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = DEAD_PROXY
    env["XDG_CACHE_HOME"] = str(cache_dir)  # no previously cached remote schema either
    return env


def _check_jsonschema(tmp_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *map(str, args)],
        capture_output=True,
        text=True,
        env=_offline_env(tmp_path / "cache"),
        timeout=120,
        check=False,
    )


# --- schema validation -----------------------------------------------------------------


@pytest.mark.parametrize("workflow", list(WORKFLOWS), ids=lambda p: p.name)
def test_workflow_is_valid_under_its_schema(workflow: Path, tmp_path: Path) -> None:
    result = _check_jsonschema(tmp_path, "--builtin-schema", WORKFLOWS[workflow], workflow)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validation done" in result.stdout


def test_the_offline_environment_really_blocks_downloads(tmp_path: Path) -> None:
    """A remote schema cannot be fetched, so the passing runs above used no network."""
    result = _check_jsonschema(
        tmp_path,
        "--no-cache",
        "--schemafile",
        "https://json.schemastore.org/github-workflow.json",
        GITHUB,
    )
    assert result.returncode != 0
    assert "validation done" not in result.stdout
    assert re.search(r"connect|proxy|resolve", result.stdout + result.stderr, re.IGNORECASE)


def _broken_copy(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {source.name}: update the negative test"
    broken = tmp_path / source.name
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    return broken


@pytest.mark.parametrize(
    ("source", "old", "new", "expected"),
    [
        pytest.param(
            GITHUB,
            "    runs-on: ubuntu-24.04\n",
            "",
            "'runs-on' is a required property",
            id="github-runs-on-missing",
        ),
        pytest.param(
            GITHUB,
            "\njobs:\n",
            "\njobs: 5\nx-rest:\n",
            "5 is not of type 'object'",
            id="github-jobs-5",
        ),
        pytest.param(
            GITLAB,
            "    when: always\n",
            "    when: sometimes\n",
            "'sometimes' is not one of",
            id="gitlab-artifacts-when",
        ),
        pytest.param(
            GITLAB, "stages:\n", "stages: 5\nx-stages:\n", "$.stages", id="gitlab-stages-5"
        ),
    ],
)
def test_a_broken_workflow_fails_validation(
    tmp_path: Path, source: Path, old: str, new: str, expected: str
) -> None:
    broken = _broken_copy(tmp_path, source, old, new)
    result = _check_jsonschema(tmp_path, "--builtin-schema", WORKFLOWS[source], broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout, result.stdout


# --- hullscan command lines ------------------------------------------------------------

_SCRIPT_KEYS = {"run", "script", "before_script", "after_script"}
# "hullscan" as a command word: not part of a path, file name or URL (.hullscan/,
# hullscan.sarif, github.com/hullscan/hullscan@main), nor the pip requirement "hullscan @ ...".
_COMMAND = re.compile(r"(?<![\w./@-])hullscan[ \t]+(?!@)(?P<rest>[^\n;&|)]*)")
_WORD = re.compile(r"[A-Za-z][\w-]*")


def _script_strings(node: Any, key: object = None) -> Iterator[str]:
    if isinstance(node, dict):
        for k, value in node.items():
            yield from _script_strings(value, k)
    elif isinstance(node, list):
        for item in node:
            yield from _script_strings(item, key)
    elif isinstance(node, str) and key in _SCRIPT_KEYS:
        yield node


def hullscan_commands(script: str) -> list[tuple[str, str]]:
    """``(subcommand, argument text)`` of each hullscan invocation in a shell script."""
    script = re.sub(r"\\\n[ \t]*", " ", script)  # join continuation lines
    found = []
    for line in script.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for match in _COMMAND.finditer(line):
            words = match["rest"].split()
            if not words or not _WORD.fullmatch(words[0]):
                found.append(("", match["rest"]))
                continue
            if words[0] in {"db", "policy"} and len(words) > 1:
                found.append((f"{words[0]} {words[1]}", " ".join(words[2:])))
            else:
                found.append((words[0], " ".join(words[1:])))
    return found


def _commands_in(workflow: Path) -> list[tuple[str, str]]:
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    return [c for script in _script_strings(document) for c in hullscan_commands(script)]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('pip install "hullscan @ git+https://github.com/hullscan/hullscan@main"', []),
        ('cat hullscan.md >> "$GITHUB_STEP_SUMMARY"', []),
        ("ls .hullscan/policy.yaml .hullscan-cache", []),
        ("# hullscan inspect is not run\ntrue", []),
        ("hullscan db update", ["db update"]),
        ("set -e && hullscan sbom img", ["sbom"]),
        ("hullscan db \\\n    status", ["db status"]),
        ("hullscan policy check p.yaml; hullscan scan x --policy p", ["policy check", "scan"]),
        ("hullscan --version", [""]),
    ],
)
def test_command_extraction(script: str, expected: list[str]) -> None:
    assert [sub for sub, _ in hullscan_commands(script)] == expected


@pytest.mark.parametrize("workflow", list(WORKFLOWS), ids=lambda p: p.name)
def test_only_known_hullscan_subcommands(workflow: Path) -> None:
    commands = _commands_in(workflow)
    unknown = [f"hullscan {sub} {args}" for sub, args in commands if sub not in ALLOWED_SUBCOMMANDS]
    assert not unknown
    assert {"scan", "promote", "db update"} <= {sub for sub, _ in commands}


@pytest.mark.parametrize("workflow", list(WORKFLOWS), ids=lambda p: p.name)
def test_scan_and_promote_use_the_policy_and_write_the_reports(workflow: Path) -> None:
    commands = _commands_in(workflow)
    for sub, args in commands:
        if sub in {"scan", "promote"}:
            assert "--policy .hullscan/policy.yaml" in args, args
    (scan,) = [args for sub, args in commands if sub == "scan"]
    for option in (
        "--dockerfile Dockerfile",
        "--output-sarif hullscan.sarif",
        "--output-junit hullscan-junit.xml",
        "--output-markdown hullscan.md",
    ):
        assert option in scan
    (promote,) = [args for sub, args in commands if sub == "promote"]
    assert "--attach-report" in promote
    assert "--attach-sbom" in promote
    assert len(promote.split()) >= 2  # source and destination


# --- the pipelines' shape --------------------------------------------------------------


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_github_reports_are_uploaded_even_when_the_scan_fails() -> None:
    workflow = _load(GITHUB)
    # PyYAML reads the bare key "on" as YAML 1.1 true; GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert triggers["push"]["branches"] == ["main"]
    assert "pull_request" in triggers

    job = workflow["jobs"]["build-and-scan"]
    assert job["permissions"]["security-events"] == "write"
    steps = job["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    for action in (
        "docker/login-action",
        "docker/build-push-action",
        "actions/cache",
        "github/codeql-action/upload-sarif",
        "actions/upload-artifact",
    ):
        assert action in uses
    scan_index = next(i for i, step in enumerate(steps) if step.get("id") == "scan")
    after_scan = steps[scan_index + 1 :]
    assert any("upload-sarif" in step.get("uses", "") for step in after_scan)
    assert any("$GITHUB_STEP_SUMMARY" in step.get("run", "") for step in after_scan)
    assert all("always()" in step.get("if", "") for step in after_scan)


def test_github_promotes_only_from_main_after_the_scan() -> None:
    promote = _load(GITHUB)["jobs"]["promote"]
    assert promote["needs"] == "build-and-scan"
    assert "refs/heads/main" in promote["if"]
    assert "always()" not in promote["if"]


def test_gitlab_keeps_the_reports_and_promotes_on_the_default_branch() -> None:
    pipeline = _load(GITLAB)
    assert pipeline["stages"] == ["build", "scan", "promote"]
    artifacts = pipeline["scan"]["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"]["junit"] == "hullscan-junit.xml"
    assert {"hullscan.sarif", "hullscan.md"} <= set(artifacts["paths"])
    assert "$CI_REGISTRY_IMAGE/staging:$CI_COMMIT_SHA" in pipeline["variables"]["STAGING_IMAGE"]
    promote = pipeline["promote"]
    assert promote["stage"] == "promote"
    assert promote["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    template = pipeline[promote["extends"]]
    assert any("DOCKER_AUTH_CONFIG" in line for line in template["before_script"])


# --- the policy bundle -----------------------------------------------------------------


def test_policy_bundle_parses_and_is_consistent() -> None:
    bundle = _load(POLICY)
    assert {"version", "policies", "allowlists", "mappings"} <= set(bundle)
    assert bundle["version"] == "1"
    policy_ids = {policy["id"] for policy in bundle["policies"]}
    allowlist_ids = {allowlist["id"] for allowlist in bundle["allowlists"]}
    for policy in bundle["policies"]:
        assert policy["rules"]
        for rule in policy["rules"]:
            assert {"gate", "trigger", "params", "action"} <= set(rule)
            assert rule["action"] in {"STOP", "WARN", "GO"}
    for mapping in bundle["mappings"]:
        assert set(mapping["policy_ids"]) <= policy_ids
        assert set(mapping["allowlist_ids"]) <= allowlist_ids
