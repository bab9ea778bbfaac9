"""Member-name normalisation: the quick answer for plain names is the component walk's."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.errors import HostileContentError
from hullscan.image.paths import normalise_member_path


def _walk(name: str) -> str:
    """The definition: drop empty and ``.`` components, ``..`` pops, above the root refused."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise HostileContentError("escapes")
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


PIECES = ["", ".", "..", "a", ".b", "c.", "..d", "e..", "/", "//", "./", "x/y", "é", ".wh.f"]


@settings(max_examples=3000)
@given(st.lists(st.sampled_from(PIECES), max_size=8).map("/".join))
def test_normalised_as_the_component_walk(name: str) -> None:
    try:
        expected = _walk(name)
    except HostileContentError:
        with pytest.raises(HostileContentError):
            normalise_member_path(name, subject="layer")
        return
    assert normalise_member_path(name, subject="layer") == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("usr/bin/env", "usr/bin/env"), ("./usr/bin/", "usr/bin"), ("/etc//passwd", "etc/passwd"),
    ("./", ""), ("a/./b/../c", "a/c"), (".env", ".env"), ("app/.wh..wh..opq", "app/.wh..wh..opq"),
])
def test_examples(name: str, expected: str) -> None:
    assert normalise_member_path(name, subject="layer") == expected


def test_nul_and_traversal_are_refused() -> None:
    for name in ("a\x00b", "../etc/passwd", "a/../../b", "./.."):
        with pytest.raises(HostileContentError):
            normalise_member_path(name, subject="layer")
