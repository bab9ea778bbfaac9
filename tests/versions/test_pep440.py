"""PEP 440 through ``packaging``. Cases from PEP 440's "Summary of permitted suffixes and
relative ordering" section."""

from __future__ import annotations

import pytest

from hullscan.versions import InvalidVersionError, compare
from tests.versions.helpers import assert_ascending, assert_order


def test_pep440_summary_order() -> None:
    assert_ascending(
        "pep440",
        [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ],
    )


def test_normalisation() -> None:
    assert_order("pep440", "1.0", "=", "1.0.0")
    assert_order("pep440", "1.0RC1", "=", "1.0rc1")
    assert_order("pep440", "v1.0", "=", "1.0")
    assert_order("pep440", "1!0.5", ">", "2.0")  # epoch


@pytest.mark.parametrize("legacy", ["2004d", "1.0-foo-bar", "dev", "1.0.x"])
def test_legacy_versions_are_invalid(legacy: str) -> None:
    with pytest.raises(InvalidVersionError, match="pep440"):
        compare("pep440", legacy, "1.0")
