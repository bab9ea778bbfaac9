"""The indented JSON writer against ``json.dumps(indent=2)``, byte for byte."""

from __future__ import annotations

import enum
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.report.json_text import dumps_indented


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(),
    st.sampled_from([Colour.RED, Level.HIGH, "\u00e9\u2028\U0001f600", "\x00\t\"\\"]))
_values = st.recursive(
    _leaves,
    lambda children: st.one_of(st.lists(children, max_size=5),
                               st.lists(children, max_size=3).map(tuple),
                               st.dictionaries(st.text(max_size=8), children, max_size=5)),
    max_leaves=40)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_values, st.booleans())
def test_writes_what_json_dumps_writes(value: Any, ensure_ascii: bool) -> None:
    assert dumps_indented(value, ensure_ascii=ensure_ascii) == \
        json.dumps(value, indent=2, ensure_ascii=ensure_ascii)


def test_a_real_document_with_every_kind_of_value() -> None:
    document = {"bomFormat": "CycloneDX", "components": [
        {"name": "caf\u00e9", "licenses": [], "properties": {}, "scores": [9.8, 0.0, -1.5],
         "ok": True, "missing": None, "count": 12}], "empty": {}, "nested": [[[]]]}
    for ensure_ascii in (True, False):
        assert dumps_indented(document, ensure_ascii=ensure_ascii) == \
            json.dumps(document, indent=2, ensure_ascii=ensure_ascii)


@pytest.mark.parametrize("value", [{1: "a"}, {"a": {1, 2}}, [object()], {"a": b"bytes"}])
def test_what_json_cannot_write_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        dumps_indented(value)
