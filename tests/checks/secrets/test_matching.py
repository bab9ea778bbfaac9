"""Trying a rule's regex only where its start literals occur finds exactly what ``finditer``
over the whole text finds; the combined path filter answers like the separate ones."""

from __future__ import annotations

import random
import re

import pytest

from hullscan.checks.secrets import RULES, SecretRule, scan_bytes, scanner
from hullscan.checks.secrets.scanner import _any_path_filter, matches
from tests.checks.secrets.fakes import ALNUM, B64URL, jwt, rand
from tests.checks.secrets.test_rules import NEGATIVES, POSITIVES

STARTING = [rule for rule in RULES if rule.starts]

# Pieces that make matches, near-misses and overlaps: keywords in several cases, separators
# across lines (LF, CRLF, CR), quotes, values of several shapes, and every start literal.
PIECES = [
    "password", "PASSWORD", "PassWord", "passwd", "db_password", "secret", "SECRET_KEY",
    "api_key", "API_KEY", "apikey", "api-key", "access_token", "ACCESS-TOKEN", "auth_token",
    "AUTHTOKEN", "TOKEN", "token", "api", "access", "auth", "pass",
    " ", "  ", "\t", "\n", "\r\n", "\r", "\n\n", "=", " = ", ":", ": ", ":=", '"', "'", "#",
    "$", "x", "_", ".", "-", "{", "}",
    rand(ALNUM, 24, seed=1), rand(ALNUM, 9, seed=2), rand(ALNUM, 40, seed=3), "changeme",
    rand(B64URL, 36, seed=4), "sk_live_", "rk_live_", "SK", "SG.", "npm_", "pypi-AgE", "eyJ",
    "xox", "xoxb-", "AIza", "github_pat_", rand("0123456789abcdef", 32, seed=5), jwt(),
]


def texts(seed: int, count: int) -> list[bytes]:
    generator = random.Random(seed)
    out = []
    for _ in range(count):
        parts = [generator.choice(PIECES) for _ in range(generator.randint(0, 14))]
        out.append("".join(parts).encode())
    return out


def assignments(seed: int, count: int) -> list[bytes]:
    """Texts of ``NAME <sep> value`` assignments in many shapes, between noise."""
    generator = random.Random(seed)
    names = ["password", "PASSWORD", "Passwd", "db_password_x", "SECRET", "secret.key",
             "API_KEY", "apikey", "Api-Key", "ACCESS_TOKEN", "access-token", "authtoken", "TOKEN"]
    spaces = ["", " ", "\t", "\n", "\r\n", " \n\n "]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(generator.randint(1, 4)):
            quote = generator.choice(['"', "'", ""])
            value = rand(generator.choice([ALNUM, "ab", B64URL]), generator.randint(4, 30),
                         seed=generator.randint(0, 99))
            parts.append(generator.choice(["", "x", "# ", "\n", "\r\n", "export "])
                         + generator.choice(names) + generator.choice(["", '"', "'"])
                         + generator.choice(spaces) + generator.choice(["=", ":", ":=", " "])
                         + generator.choice(spaces) + quote + value + quote
                         + generator.choice(["", " ", "\n", "\r\n", "\r", " #c\n"]))
        out.append("".join(parts).encode())
    return out


def spans(found: list[re.Match[bytes]]) -> list[tuple[tuple[int, int], tuple[bytes, ...]]]:
    return [(m.span(), m.groups()) for m in found]


def run_on(rule: SecretRule, text: bytes) -> bytes:
    return text.lower() if rule.lowercase else text


@pytest.mark.parametrize("rule", STARTING, ids=lambda r: r.id)
def test_every_match_starts_with_a_start_literal(rule: SecretRule) -> None:
    # What makes trying only those positions exact; checked on matches that do occur.
    seen = 0
    for text in texts(1, 3000) + assignments(1, 3000) + [
            t.encode() for _, _, t in POSITIVES + NEGATIVES]:
        for match in rule.pattern.finditer(run_on(rule, text)):
            seen += 1
            assert any(run_on(rule, text).startswith(s, match.start()) for s in rule.starts)
    if rule.id.startswith("HS-SEC-GENERIC"):
        assert seen > 20  # the generated texts do exercise the generic rules


@pytest.mark.parametrize("rule", STARTING, ids=lambda r: r.id)
def test_matches_equal_finditer_on_varied_text(rule: SecretRule) -> None:
    samples = texts(2, 3000) + assignments(2, 3000) + [
        t.encode() for _, _, t in POSITIVES + NEGATIVES]
    # Start and end of the text, a match right after another, multi-line and CRLF values.
    samples += [b'password="' + rand(ALNUM, 20).encode() + b'"',
                b'PASSWORD=' + rand(ALNUM, 20).encode(),
                b'PASSWORD=' + rand(ALNUM, 20).encode() + b'\r\nTOKEN=' + rand(ALNUM, 12).encode(),
                b'x\npassword\n\n  =\r\n  "' + rand(ALNUM, 16).encode() + b'"\n',
                b'secret="' + rand(ALNUM, 12).encode() + b'"secret="' + rand(ALNUM, 13).encode()
                + b'"', b"", b"passw", b"\r\n"]
    for text in samples:
        on = run_on(rule, text)
        assert spans(matches(rule, on)) == spans(list(rule.pattern.finditer(on))), text


def test_dense_start_literals_fall_back_to_the_regex_and_agree() -> None:
    rule = next(r for r in RULES if r.id == "HS-SEC-GENERIC-PASSWORD")
    line = 'password_policy secretary token_count api access auth secret = "{}"\n'
    text = "".join(line.format(rand(ALNUM, 12, seed=n)) for n in range(2000)).encode()
    assert len(matches(rule, text)) == 2000
    assert spans(matches(rule, text)) == spans(list(rule.pattern.finditer(text)))


def test_scan_bytes_is_unchanged_by_the_start_literals(monkeypatch: pytest.MonkeyPatch) -> None:
    # Reference: every triggered rule's regex over the whole content.
    samples = texts(3, 1500) + assignments(3, 1500) + [
        t.encode() for _, _, t in POSITIVES + NEGATIVES]
    paths = ["app/settings.py", "root/.netrc", "home/u/.kube/config", "srv/app/.npmrc", ""]
    fast = [[(h.rule.id, h.line, h.evidence) for h in scan_bytes(paths[i % 5], text)]
            for i, text in enumerate(samples)]
    monkeypatch.setattr(scanner, "matches", lambda rule, text, starts=None: list(
        rule.pattern.finditer(text)))
    full = [[(h.rule.id, h.line, h.evidence) for h in scan_bytes(paths[i % 5], text)]
            for i, text in enumerate(samples)]
    assert fast == full
    assert sum(map(len, fast)) > 100


def test_any_path_filter_answers_like_each_filter() -> None:
    filters = [rule.path_filter for rule in RULES if rule.path_filter is not None]
    combined = _any_path_filter(filters)
    assert combined is not None
    for path in ["root/.docker/config.json", "config.json", "x/config.jsonx", "home/a/.netrc",
                 "a_netrc", "srv/.pypirc", "npmrc", "app/.npmrc.bak", "etc/kubernetes/admin.conf",
                 "home/u/.kube/config", "my-kubeconfig.yaml", "usr/bin/ls", ""]:
        assert (combined.search(path) is not None) == any(
            f.search(path) is not None for f in filters), path


def test_any_path_filter_declines_what_it_cannot_combine() -> None:
    assert _any_path_filter([re.compile(r"(a)\1")]) is None  # groups: back-references
    assert _any_path_filter([re.compile("x", re.IGNORECASE)]) is None
    assert _any_path_filter([re.compile("a"), re.compile("(?i)b")]) is None  # global flag
    never = _any_path_filter([])
    assert never is not None and never.search("anything") is None
