"""The keyword prefilter and the files the visitor does not read: same answers, less work."""

from __future__ import annotations

import random
import re

from hullscan.checks.secrets import ALLOW_RULES, RULES, AllowRule, SecretVisitor, scan_bytes
from hullscan.checks.secrets.scanner import KeywordPrefilter, fully_allowed_paths
from hullscan.image.layer import FileEntry, FileKind
from tests.checks.secrets.fakes import ALNUM, rand

KEYWORDS = sorted({k for rule in RULES for k in rule.keywords})


def entry(path: str, layer: int = 0, size: int = 100) -> FileEntry:
    return FileEntry(path, FileKind.REGULAR, size, 0o644, 0, 0, 0, None, layer)


def naive(keywords: list[str], lowered: bytes) -> dict[str, bool]:
    return {k: k.encode() in lowered for k in keywords}


def answers(prefilter: KeywordPrefilter, lowered: bytes) -> dict[str, bool]:
    found = prefilter.present(lowered)
    return {k: found[prefilter.index(k)] for k in KEYWORDS}


def test_prefilter_nests_keywords_under_anchors_and_shorter_keywords() -> None:
    prefilter = KeywordPrefilter(KEYWORDS)
    order = prefilter.keywords
    assert "key" in order  # an anchor shared by several keywords
    assert order.index("key") < order.index("accountkey")
    assert order.index("private") < order.index("private key") < order.index(
        "pgp private key block")
    assert order.index("passw") < order.index("password")
    assert "api" not in order  # an anchor no keyword needs costs a search and saves none
    # Without "key" in the text, the keywords holding it are not looked up (and absent).
    assert answers(prefilter, b"apikey") == naive(KEYWORDS, b"apikey")
    assert not answers(prefilter, b"apike y")["apikey"]


def test_prefilter_looks_up_punctuation_bytes_first() -> None:
    prefilter = KeywordPrefilter(KEYWORDS)
    order = prefilter.keywords
    for byte, keyword in [("_", "_live_"), ("_", "api_key"), ("-", "pypi-ag"), (".", "sg."),
                          (":", "://"), ("-", "client-key-data"), ("_", "private_key_id")]:
        assert order.index(byte) < order.index(keyword)
    # Text without the byte: the keywords holding it are not looked up (and absent).
    assert not answers(prefilter, b"api key apikey sk live npm pypi ag sg")["_live_"]
    # A keyword holding an anchor word and a byte needs both.
    assert answers(prefilter, b"x api_key") == naive(KEYWORDS, b"x api_key")
    assert not answers(prefilter, b"api_ke y")["api_key"]


def test_prefilter_answers_exactly_like_one_search_per_keyword() -> None:
    prefilter = KeywordPrefilter(KEYWORDS)
    pieces = [*KEYWORDS, "ke", "y", "pri", "vate", " ", "_", "x", "private ke", "token", "-",
              ".", ":", "/", "api", "live", "sg", "client", "npm", "pypi", "ag", "hooks"]
    generator = random.Random(20261127)
    for _ in range(2000):
        text = "".join(generator.choice(pieces) for _ in range(generator.randint(0, 6)))
        lowered = text.encode()
        assert answers(prefilter, lowered) == naive(KEYWORDS, lowered), text


def test_keywords_match_in_any_case() -> None:
    secret = rand(ALNUM, 24, seed=11)
    for spelling in ("password", "PASSWORD", "PassWord", "pAsSwOrD"):
        hits = scan_bytes("app/settings.py", f'db_{spelling} = "{secret}"\n'.encode())
        assert [hit.rule.id for hit in hits] == ["HS-SEC-GENERIC-PASSWORD"], spelling
    key = f"AccountKey={rand(ALNUM, 86, seed=2)}=="
    assert [h.rule.id for h in scan_bytes("app/azure.env", key.encode())] == [
        "HS-SEC-AZURE-STORAGE-KEY"]
    assert [h.rule.id for h in scan_bytes("app/azure.env", key.upper().encode())] == [
        "HS-SEC-AZURE-STORAGE-KEY"]


def test_same_hits_for_a_rules_list_and_a_changed_list() -> None:
    content = f'password = "{rand(ALNUM, 20, seed=3)}"\n'.encode()
    rules = list(RULES)
    assert scan_bytes("app/x.py", content, rules) != []
    rules[:] = [r for r in RULES if r.id != "HS-SEC-GENERIC-PASSWORD"]
    assert scan_bytes("app/x.py", content, rules) == []  # no stale plan for a list


def test_fully_allowed_paths_are_not_read() -> None:
    assert "usr/share/doc/**" in fully_allowed_paths(ALLOW_RULES)
    assert "**/*.md" in fully_allowed_paths(ALLOW_RULES)
    assert not any("site-packages/**/test" in glob and "dist-info" in glob
                   for glob in fully_allowed_paths(ALLOW_RULES))
    visitor = SecretVisitor()
    assert not visitor.wants(entry("usr/share/doc/tool/README"))
    assert not visitor.wants(entry("srv/app/README.md"))
    assert visitor.wants(entry("app/tests/settings.py"))
    assert visitor.wants(entry("etc/app/README"))
    # An allow rule bound to one rule or one value leaves the path to the other rules.
    narrow = (AllowRule("one rule", rule="HS-SEC-JWT", path="app/**"),
              AllowRule("one value", path="srv/**", value=re.compile("^example$")),
              AllowRule("any rule", rule="*", path="opt/vendor/**"))
    assert fully_allowed_paths(narrow) == ["opt/vendor/**"]
    visitor = SecretVisitor(allow=(narrow[0],))
    assert visitor.wants(entry("app/config.py"))


def test_wants_answers_a_composite_visitors_second_question_the_same() -> None:
    visitor = SecretVisitor(max_file_size=1000)
    big, small = entry("etc/app.conf", size=1001), entry("etc/app.conf", size=10)
    assert not visitor.wants(big) and not visitor.wants(big)
    assert visitor.wants(small) and visitor.wants(small)
    assert not visitor.wants(big)


def test_documentation_example_credentials_are_placeholders() -> None:
    from hullscan.checks.secrets.scanner import is_placeholder, scan_bytes

    for value in ("tiger", "guest", "masterkey", "[password]", "[password]]"):
        assert is_placeholder(value), value
    assert not is_placeholder("t1ger-Prod-9F3k")
    docs = b'url = "postgresql://scott:tiger@localhost/test"\nredis://[[username]:[password]]@h\n'
    assert scan_bytes("app/config.py", docs) == []
    real = b'url = "postgresql://app:S3cr3t-Pr0d-9F3k@db.internal/app"\n'
    assert [h.rule.id for h in scan_bytes("app/config.py", real)] == [
        "HS-SEC-DATABASE-URL-PASSWORD"]
