"""SemVer 2.0 (semver.org §11 precedence example), npm's loose forms (node-semver README)
and Go module versions (go.dev/ref/mod "Versions" and "Pseudo-versions")."""

from __future__ import annotations

import pytest

from hullscan.versions import InvalidVersionError, compare
from tests.versions.helpers import assert_ascending, assert_order

SEMVER_SPEC_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
]


@pytest.mark.parametrize("scheme", ["semver", "npm", "golang"])
def test_semver_spec_precedence(scheme: str) -> None:
    assert_ascending(scheme, SEMVER_SPEC_ORDER)


def test_semver_details() -> None:
    assert_order("semver", "1.0.0+20130313144700", "=", "1.0.0")  # build metadata ignored
    assert_order("semver", "v1.2.3", "=", "1.2.3")
    assert_order("semver", "1.0.0-2", "<", "1.0.0-10")


@pytest.mark.parametrize("bad", ["1.0", "01.0.0", "1.0.0-01", "1.0.0-", "a.b.c", ""])
def test_semver_invalid(bad: str) -> None:
    with pytest.raises(InvalidVersionError, match="semver"):
        compare("semver", bad, "1.0.0")


def test_npm_loose_forms() -> None:
    assert_order("npm", "=1.2.3", "=", "1.2.3")
    assert_order("npm", "v1.2.3", "=", "1.2.3")
    assert_order("npm", " 1.2.3 ", "=", "1.2.3")
    assert_order("npm", "1.2.3beta", "=", "1.2.3-beta")
    with pytest.raises(InvalidVersionError):
        compare("npm", "1.2", "1.2.0")


def test_golang_versions() -> None:
    assert_order("golang", "v1.2.3", "=", "1.2.3")
    assert_order("golang", "v2.0.0+incompatible", "=", "v2.0.0")
    assert_order("golang", "v1", "=", "v1.0.0")
    assert_order("golang", "v1.2", "=", "v1.2.0")
    # Pseudo-versions: vX.0.0-yyyymmddhhmmss-abcdefabcdef sorts before vX.0.0 ...
    assert_order("golang", "v0.0.0-20191109021931-daa7c04131f5", "<", "v0.0.1")
    # ... and vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef after vX.Y.Z, before vX.Y.(Z+1).
    assert_ascending(
        "golang",
        ["v1.2.3", "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4-0.20200101000000-aaaaaaaaaaaa",
         "v1.2.4"],
    )  # fmt: skip
    with pytest.raises(InvalidVersionError):
        compare("golang", "v1.2.3.4", "v1.0.0")
