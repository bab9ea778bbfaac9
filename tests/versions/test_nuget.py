"""NuGet ordering. Cases from the NuGet docs ("Package versioning": normalisation of
four-part versions, SemVer 2.0 pre-release ordering, case-insensitive labels, metadata)."""

from __future__ import annotations

import pytest

from hullscan.versions import InvalidVersionError, compare
from tests.versions.helpers import assert_ascending, assert_order
from tests.versions.test_semver import SEMVER_SPEC_ORDER


def test_semver_precedence() -> None:
    assert_ascending("nuget", SEMVER_SPEC_ORDER)


@pytest.mark.parametrize(
    ("a", "op", "b"),
    [
        ("1.0", "=", "1.0.0"),
        ("1.0.0", "=", "1.0.0.0"),
        ("1", "=", "1.0.0.0"),
        ("1.0.0.1", ">", "1.0.0"),
        ("1.0.0.10", ">", "1.0.0.9"),
        ("1.0.0-Beta", "=", "1.0.0-beta"),
        ("1.0.0+abc", "=", "1.0.0"),
        ("4.1.0-preview.1.20", "<", "4.1.0"),
    ],
)
def test_table(a: str, op: str, b: str) -> None:
    assert_order("nuget", a, op, b)


@pytest.mark.parametrize("bad", ["v1.0.0", "1.0.0.0.0", "1.0.0-", "x"])
def test_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersionError, match="nuget"):
        compare("nuget", bad, "1.0")
