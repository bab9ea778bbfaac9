"""Composer ordering. Cases from Composer's documentation ("Versions and constraints":
stability order dev < alpha < beta < RC < stable, ``v`` prefixes, patch releases) and
``VersionParser::normalize`` (four numeric parts)."""

from __future__ import annotations

import pytest

from hullscan.versions import InvalidVersionError, compare
from tests.versions.helpers import assert_ascending, assert_order


def test_stability_order() -> None:
    assert_ascending(
        "composer",
        [
            "1.0.0-dev",
            "1.0.0-alpha1",
            "1.0.0-alpha2",
            "1.0.0-beta1",
            "1.0.0-beta2",
            "1.0.0-RC1",
            "1.0.0",
            "1.0.0-patch1",
            "1.0.1",
        ],
    )


@pytest.mark.parametrize(
    ("a", "op", "b"),
    [
        ("v1.0.0", "=", "1.0.0"),
        ("1.0", "=", "1.0.0.0"),
        ("1.0.0-a1", "=", "1.0.0-alpha1"),
        ("1.0.0-b2", "=", "1.0.0-beta2"),
        ("1.0.0-rc1", "=", "1.0.0-RC1"),
        ("1.0.0-p1", "=", "1.0.0-patch1"),
        ("1.0.0-stable", "=", "1.0.0"),
        ("1.0.0-beta2-dev", "<", "1.0.0-beta2"),
        ("2.10", ">", "2.9.99"),
        ("1.0.0.1", ">", "1.0.0"),
    ],
)
def test_table(a: str, op: str, b: str) -> None:
    assert_order("composer", a, op, b)


@pytest.mark.parametrize("bad", ["dev-main", "1.x-dev", "foo", ""])
def test_branches_and_junk_are_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersionError, match="composer"):
        compare("composer", bad, "1.0")
