"""apk ordering. Cases from apk-tools' documented version format (apk-package(5):
``digit{.digit}...{letter}{_suf{#}}...{-r#}``) and its ``test/version.data``; the whole of
that file is checked in ``test_oracles.py``."""

from __future__ import annotations

import pytest

from hullscan.versions import SCHEMES, InvalidVersionError
from tests.versions.helpers import assert_ascending, assert_order


def test_suffix_order() -> None:
    assert_ascending(
        "apk",
        [
            "1.0_alpha",
            "1.0_alpha1",
            "1.0_beta",
            "1.0_pre",
            "1.0_rc1",
            "1.0",
            "1.0_cvs",
            "1.0_svn",
            "1.0_git",
            "1.0_hg",
            "1.0_p1",
            "1.0_p2",
        ],
    )


@pytest.mark.parametrize(
    ("a", "op", "b"),
    [
        ("1.0-r1", ">", "1.0"),
        ("1.0-r1", "<", "1.0-r10"),
        ("1.0-r0", "<", "1.0.1-r0"),
        ("1.2.3a", ">", "1.2.3"),
        ("1.2.3a", "<", "1.2.3b"),
        ("1.2.3_rc1-r5", "<", "1.2.3-r0"),
        ("1.10", ">", "1.9"),
        ("1.02", "<", "1.1"),  # a leading zero compares as a string
        ("2.0", "=", "2.0"),
        ("1.1.1g-r0", ">", "1.1.1d-r3"),
    ],
)
def test_table(a: str, op: str, b: str) -> None:
    assert_order("apk", a, op, b)


@pytest.mark.parametrize("bad", ["", "a1", "1.0-1", "1.0_foo", "1.0ab", "1.0-r1-r2"])
def test_parse_is_strict(bad: str) -> None:
    assert not SCHEMES["apk"].validate(bad)
    with pytest.raises(InvalidVersionError):
        SCHEMES["apk"].parse(bad)
