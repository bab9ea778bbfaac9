"""Maven ordering. Cases from the Maven POM reference, "Version Order Specification"
(maven.apache.org/pom.html#version-order-specification), and the qualifier order it gives."""

from __future__ import annotations

import pytest

from hullscan.versions import InvalidVersionError, compare
from tests.versions.helpers import assert_ascending, assert_order


def test_qualifier_order() -> None:
    assert_ascending(
        "maven",
        [
            "1.0-alpha1",
            "1.0-beta1",
            "1.0-milestone1",
            "1.0-rc1",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp1",
            "1.0-unknown",  # unknown qualifiers after the known ones
            "1.0.1",
        ],
    )


@pytest.mark.parametrize(
    ("a", "op", "b"),
    [
        # The examples of the specification, one by one.
        ("1", "<", "1.1"),  # number padding
        ("1-snapshot", "<", "1"),
        ("1", "<", "1-sp"),  # qualifier padding
        ("1-foo2", "<", "1-foo10"),  # switching to numeric order
        ("1.foo", "=", "1-foo"),
        ("1-foo", "<", "1-1"),
        ("1-1", "<", "1.1"),
        ("1.ga", "=", "1-ga"),
        ("1-ga", "=", "1-0"),
        ("1-0", "=", "1.0"),
        ("1.0", "=", "1"),
        ("1-sp", ">", "1-ga"),
        ("1-sp.1", ">", "1-ga.1"),
        ("1-a1", "=", "1-alpha-1"),
        # Aliases and case.
        ("1.0-RC1", "=", "1.0-cr1"),
        ("1.0.FINAL", "=", "1.0"),
        ("1.0-GA", "=", "1.0"),
        ("1.0.0", "=", "1"),
        ("2.12.7.1", ">", "2.12.7"),
        ("1.10", ">", "1.9"),
    ],
)
def test_specification_examples(a: str, op: str, b: str) -> None:
    assert_order("maven", a, op, b)


def test_invalid() -> None:
    with pytest.raises(InvalidVersionError, match="maven"):
        compare("maven", "", "1")
