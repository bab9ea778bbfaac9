"""RubyGems ordering. Cases from the ``Gem::Version`` documentation ("1.0.a.2 < 1.0.b1 <
1.0 < 1.0.1", prerelease letters, ``-`` meaning ``.pre.``) and ``Gem::Version#<=>``."""

from __future__ import annotations

import pytest

from hullscan.versions import InvalidVersionError, compare
from tests.versions.helpers import assert_ascending, assert_order


def test_documented_order() -> None:
    assert_ascending("gem", ["1.0.a.2", "1.0.b1", "1.0", "1.0.1"])


@pytest.mark.parametrize(
    ("a", "op", "b"),
    [
        ("1.0", "=", "1.0.0"),
        ("1", "=", "1.0.0.0"),
        ("1.10", ">", "1.9"),
        ("1.0.0.pre", "<", "1.0.0"),
        ("2.0.0.rc1", "<", "2.0.0.rc2"),
        ("2.0.0.rc2", "<", "2.0.0"),
        ("1.0-1", "=", "1.0.pre.1"),  # "-" is ".pre."
        ("1.0-1", "<", "1.0"),
        ("5.2.4.3", ">", "5.2.4"),
        ("1.a", "<", "1"),
    ],
)
def test_table(a: str, op: str, b: str) -> None:
    assert_order("gem", a, op, b)


@pytest.mark.parametrize("bad", ["junk", "1..2", "1.0 2.0", "-1"])
def test_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersionError, match="gem"):
        compare("gem", bad, "1.0")
