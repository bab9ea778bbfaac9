"""Property tests of the parser contract (hypothesis), on the fuzz targets in ``fuzz/targets.py``.

Every parser that reads image content, given arbitrary bytes or a mutated real input, returns a
result or raises a ``HullscanError``; each target lets only those through, so any other
exception fails the test. Seeds are the committed corpora in ``fuzz/corpus/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from fuzz.targets import TARGETS, CatalogerTarget
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.catalog.catalogers import CATALOGERS
from hullscan.versions import SCHEMES, InvalidVersionError, compare

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
QUICK = settings(max_examples=200, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def _seeds(target: str) -> tuple[bytes, ...]:
    return tuple(path.read_bytes() for path in sorted((FUZZ / "corpus" / target).iterdir()))


@st.composite
def _mutated(draw: st.DrawFn, target: str) -> bytes:
    """A real seed with a few byte-level edits: truncation, overwrites, insertions, splices."""
    data = bytearray(draw(st.sampled_from(_seeds(target))))
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["cut", "set", "insert", "splice"]))
        at = draw(st.integers(0, len(data)))
        if edit == "cut":
            del data[at:]
        elif edit == "set" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "splice":
            other = draw(st.sampled_from(_seeds(target)))
            start = draw(st.integers(0, len(other)))
            data[at:] = other[start:start + draw(st.integers(0, 512))]
    return bytes(data)


def test_every_target_has_a_script_and_seeds() -> None:
    for name in TARGETS:
        assert (FUZZ / f"fuzz_{name}.py").is_file(), name
        assert _seeds(name), name


def test_every_cataloger_is_fuzzed() -> None:
    fed = {cataloger for target in TARGETS.values() if isinstance(target, CatalogerTarget)
           for cataloger in target.catalogers}
    assert fed == {cataloger.name for cataloger in CATALOGERS}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_arbitrary_bytes(target: str) -> None:
    @QUICK
    @given(st.binary(max_size=2048))
    def check(data: bytes) -> None:
        TARGETS[target](data)
    check()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_mutated_seeds(target: str) -> None:
    @QUICK
    @given(_mutated(target))
    def check(data: bytes) -> None:
        TARGETS[target](data)
    check()


_VERSION_TEXT = st.text(st.sampled_from("0123456789.-+~^_:abcdeprvxz*!"), max_size=24)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
@QUICK
@given(a=_VERSION_TEXT, b=_VERSION_TEXT)
def test_version_order_is_reflexive_and_antisymmetric(scheme: str, a: str, b: str) -> None:
    try:
        forward, backward, same = compare(scheme, a, b), compare(scheme, b, a), \
            compare(scheme, a, a)
    except InvalidVersionError:
        return
    assert same == 0
    assert (forward > 0) - (forward < 0) == (backward < 0) - (backward > 0)
