"""dpkg ordering. Cases from Debian Policy §5.6.12 ("Version") and deb-version(7);
``test_oracles.py`` checks thousands of real pairs against ``dpkg --compare-versions``."""

from __future__ import annotations

import pytest

from hullscan.versions import InvalidVersionError, compare
from tests.versions.helpers import assert_ascending, assert_order


def test_tilde_sorts_before_everything_even_the_end() -> None:
    # Policy §5.6.12: "~~, ~~a, ~, the empty part, a".
    assert_ascending("dpkg", ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"])
    assert_order("dpkg", "1.0~rc1", "<", "1.0")
    assert_order("dpkg", "1.0~rc1-1", "<", "1.0-1")


@pytest.mark.parametrize(
    ("a", "op", "b"),
    [
        ("1:1.0", ">", "2.0"),  # the epoch wins
        ("0:1.0", "=", "1.0"),  # a missing epoch is 0
        ("1.0", "=", "1.0-0"),  # a missing revision compares like "0"
        ("2.30", ">", "2.4"),  # digit runs compare numerically
        ("1.0a", "<", "1.0+"),  # letters sort before non-letters
        ("1.0-1", "<", "1.0-1+deb12u1"),
        ("1.0-1+deb12u1", "<", "1.0-2"),
        ("2.36-9+deb12u4", ">", "2.36-9+deb12u3"),
        ("1.2.3-1", "<", "1.2.3-10"),
        ("7.88.1-10+deb12u5", "<", "7.88.1-10+deb12u12"),
        ("1.0-1-2", ">", "1.0-1-1"),  # the revision is after the last hyphen
        ("001", "=", "1"),
    ],
)
def test_table(a: str, op: str, b: str) -> None:
    assert_order("dpkg", a, op, b)


@pytest.mark.parametrize("bad", ["", "a1.0", "x:1.0", "1.0 2", "1:", "1.0_1", "-1"])
def test_invalid_versions_raise(bad: str) -> None:
    with pytest.raises(InvalidVersionError) as caught:
        compare("dpkg", bad, "1.0")
    assert "dpkg" in str(caught.value)
    assert repr(bad) in str(caught.value)
