"""rpm ordering. Cases from rpm's own ``tests/rpmvercmp.at`` rules (``~`` pre-release,
``^`` post-release, numeric-over-alpha, separators) and the EVR rules; every table entry
is also checked against the installed ``rpm`` when present, and ``test_oracles.py``
checks thousands of real AlmaLinux pairs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hullscan.versions import InvalidVersionError, compare
from tests.versions.helpers import assert_order, sign

TABLE = [
    ("1.0", "<", "1.0.1"),
    ("1.0", "=", "1.0"),
    ("2.0.1", ">", "2.0"),
    ("5.5p1", "<", "5.5p2"),
    ("5.5p10", ">", "5.5p1"),
    ("10xyz", ">", "9xyz"),
    ("xyz10", "<", "xyz10.1"),
    ("1.a", "<", "1.1"),  # a numeric run is newer than an alphabetic one
    ("1.0a", ">", "1.0"),
    ("1.0~rc1", "<", "1.0"),  # ~ sorts before the end
    ("1.0~rc1", "<", "1.0~rc2"),
    ("1.0^", ">", "1.0"),  # ^ sorts after the end
    ("1.0^git1", "<", "1.0.1"),  # ... but before any further run
    ("1.0~rc1^git1", ">", "1.0~rc1"),
    ("1.0_1", "=", "1.0.1"),  # any other separator is just a separator
    ("1:1.0-1", ">", "2.0-1"),  # epoch first
    ("0:1.0-1", "=", "1.0-1"),
    ("1.0-1.el9", "<", "1.0-1.el9_1"),
    ("5.14.0-611.54.6.el9_7", ">", "5.14.0-611.5.1.el9_7"),
    ("1.0-2", ">", "1.0"),  # rpm.vercmp: a missing release is older
]


@pytest.mark.parametrize(("a", "op", "b"), TABLE)
def test_table(a: str, op: str, b: str) -> None:
    assert_order("rpm", a, op, b)


@pytest.mark.skipif(shutil.which("rpm") is None, reason="rpm missing (test_oracles fails then)")
def test_table_agrees_with_installed_rpm() -> None:
    calls = ", ".join(f'rpm.vercmp("{a}", "{b}")' for a, _, b in TABLE)
    script = f'print(table.concat({{{calls}}}, " "))'
    out = subprocess.run(
        ["rpm", "--eval", "%{lua: " + script + "}"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [sign(int(x)) for x in out] == [{"<": -1, "=": 0, ">": 1}[op] for _, op, _ in TABLE]


@pytest.mark.parametrize("bad", ["", " ", "1.0 1", "-1"])
def test_invalid_versions_raise(bad: str) -> None:
    with pytest.raises(InvalidVersionError):
        compare("rpm", bad, "1.0")
