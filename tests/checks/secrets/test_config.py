"""Custom rules, allow rules and the size limit from the config file's ``secrets`` section."""

from __future__ import annotations

import pytest

from hullscan.checks.secrets import (
    ALLOW_RULES,
    RULES,
    SecretVisitor,
    load_max_file_size,
    load_secret_config,
    scan_bytes,
)
from hullscan.vuln.severity import Severity
from tests.checks.secrets.fakes import ALNUM, rand


def test_custom_rule_and_allow_rule() -> None:
    token = "acme_" + rand(ALNUM, 32)
    rules, allow = load_secret_config({"secrets": {
        "rules": [{"id": "ACME-TOKEN", "title": "Acme token", "severity": "critical",
                   "regex": r"\b(acme_[A-Za-z0-9]{32})\b", "keywords": ["acme_"]}],
        "allow": [{"rule": "ACME-TOKEN", "path": "opt/acme/examples/**"},
                  {"value": "^acme_0+$"}],
    }})
    assert rules[: len(RULES)] == RULES and allow[: len(ALLOW_RULES)] == ALLOW_RULES
    custom = rules[-1]
    assert custom.severity is Severity.CRITICAL and custom.keywords == ("acme_",)
    hits = scan_bytes("app/x.py", f"T = '{token}'\n".encode(), rules, allow)
    assert [h.rule.id for h in hits] == ["ACME-TOKEN"] and token not in hits[0].evidence
    assert scan_bytes("opt/acme/examples/a/x.py", f"{token}\n".encode(), rules, allow) == []
    assert scan_bytes("app/x.py", ("acme_" + "0" * 32).encode(), rules, allow) == []


def test_max_file_size() -> None:
    assert load_max_file_size({}) == 10 * 1024 * 1024
    assert load_max_file_size({"secrets": {"max-file-size": "10MiB"}}) == 10 * 1024 * 1024
    assert load_max_file_size({"secrets": {"max-file-size": "500KB"}}) == 500_000
    assert load_max_file_size({"secrets": {"max-file-size": 4096}}) == 4096
    assert SecretVisitor(max_file_size=4096).max_file_size == 4096
    with pytest.raises(ValueError, match="max-file-size"):
        load_max_file_size({"secrets": {"max-file-size": "lots"}})


@pytest.mark.parametrize("section", [
    {"rules": [{"title": "no id", "regex": "x"}]},
    {"rules": [{"id": "X", "regex": "("}]},
    {"rules": [{"id": "HS-SEC-JWT", "regex": "x"}]},
    {"rules": [{"id": "X", "regex": "x", "severity": "dire"}]},
    {"allow": [{}]},
    {"allow": [{"value": "["}]},
    {"rules": "nope"},
])
def test_bad_config_is_refused(section: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="config"):
        load_secret_config({"secrets": section})


def test_empty_config_gives_built_ins() -> None:
    assert load_secret_config({}) == (RULES, ALLOW_RULES)
