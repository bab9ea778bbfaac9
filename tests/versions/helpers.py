"""Assertions shared by the per-scheme tests."""

from __future__ import annotations

import itertools

from hullscan.versions import compare


def sign(value: int) -> int:
    return (value > 0) - (value < 0)


def assert_order(scheme: str, a: str, op: str, b: str) -> None:
    """Assert ``a op b`` under ``scheme`` (op: ``<``, ``=``, ``>``), and the mirror image."""
    want = {"<": -1, "=": 0, ">": 1}[op]
    assert sign(compare(scheme, a, b)) == want, f"{scheme}: expected {a} {op} {b}"
    assert sign(compare(scheme, b, a)) == -want, f"{scheme}: mirror of {a} {op} {b}"


def assert_ascending(scheme: str, versions: list[str]) -> None:
    """Assert every version is strictly older than the next one."""
    for a, b in itertools.pairwise(versions):
        assert_order(scheme, a, "<", b)
