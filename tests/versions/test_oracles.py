"""Our comparisons against the real tools, on thousands of real version pairs: 100% agreement.

* dpkg: ``dpkg --compare-versions`` on Debian bookworm binary and source versions.
* rpm: rpm's own ``rpm.vercmp`` (Lua, one ``rpm --eval`` for all pairs) on AlmaLinux
  OSV ``fixed`` versions.
* apk: apk-tools is not packaged for Debian bookworm, so the oracle is apk-tools' own
  ``test/version.data`` (copied in ``data/``), plus consistency checks on the Alpine secdb.
* pep440: ``packaging`` *is* the implementation; its agreement on PyPI versions is checked
  for completeness, and the real PyPI records are exercised in ``test_ranges.py``.

The tools' answers are cached under the test cache (``HULLSCAN_TEST_CACHE``), so only
the first run pays for them. A missing tool fails in CI (``.ci/run`` installs them).
"""

from __future__ import annotations

import functools
import itertools
import os
import random

import pytest
from packaging.version import Version

from hullscan.versions import SCHEMES, compare
from tests.support.build_steps import shared_vulndata
from tests.support.unavailable import unavailable
from tests.versions import oracle_data

pytestmark = pytest.mark.skipif(
    not shared_vulndata().is_dir() and not os.environ.get("CI"),
    reason="shared vulnerability data not present",
)


def _disagreements(scheme: str, pairs: list[tuple[str, str]], answers: list[int]) -> list[str]:
    out = []
    for (a, b), expected in zip(pairs, answers, strict=True):
        got = compare(scheme, a, b)
        if (got > 0) - (got < 0) != expected:
            out.append(f"{a!r} vs {b!r}: tool {expected}, ours {got}")
    return out


def test_dpkg_agrees_with_dpkg_compare_versions() -> None:
    if not oracle_data.have("dpkg"):
        unavailable("dpkg is not installed")
    pairs = oracle_data.make_pairs(
        oracle_data.debian_versions(), sample=2000, neighbours=3000, epoch_zero=True
    )
    answers = oracle_data.dpkg_answers(pairs)
    assert len(pairs) >= 5000
    assert {-1, 0, 1} <= set(answers)
    assert _disagreements("dpkg", pairs, answers) == []


def test_rpm_agrees_with_rpm_vercmp() -> None:
    if not oracle_data.have("rpm"):
        unavailable("rpm is not installed (Debian package rpm)")
    pairs = oracle_data.make_pairs(
        oracle_data.osv_event_versions("AlmaLinux.zip"), sample=3000, epoch_zero=True
    )
    answers = oracle_data.rpm_answers(pairs)
    assert len(pairs) >= 10000
    assert {-1, 0, 1} <= set(answers)
    assert _disagreements("rpm", pairs, answers) == []


def test_apk_agrees_with_apk_tools_version_data() -> None:
    cases = oracle_data.apk_tools_data()
    assert len(cases) > 700
    wrong = [
        f"{a} vs {b}: expected {want}, got {compare('apk', a, b)}"
        for a, b, want in cases
        if (lambda r: (r > 0) - (r < 0))(compare("apk", a, b)) != want
    ]
    assert wrong == []


def test_apk_orders_alpine_secdb_versions_consistently() -> None:
    versions = oracle_data.alpine_versions()
    assert len(versions) > 1000
    apk = SCHEMES["apk"]
    invalid = sorted(v for v in versions if not apk.validate(v))
    # Real typos in the secdb; apk-tools calls them invalid too (``apk version -c``).
    assert invalid == [
        "0.8.21.r2", "1.11-20-r0", "10.2.22.r0", "10.2.24.r0", "10.2.26.r0",
        "2.7.16-33", "4.10-1-r1", "57-1-r2", "6.6.2p1-r0",
    ]  # fmt: skip
    valid = [v for v in versions if apk.validate(v)]
    ordered = sorted(valid, key=functools.cmp_to_key(apk.compare))
    for left, right in itertools.pairwise(ordered):
        assert apk.compare(left, right) <= 0
        assert apk.compare(right, left) >= 0
    rng = random.Random(7)
    for _ in range(3000):
        a, b = rng.choice(valid), rng.choice(valid)
        assert apk.compare(a, b) == -apk.compare(b, a)


def test_pep440_matches_packaging_on_pypi_versions() -> None:
    versions = oracle_data.osv_event_versions("PyPI.zip", ("introduced", "fixed"))
    valid = [v for v in versions if SCHEMES["pep440"].validate(v)]
    assert len(valid) > 1000
    pairs = oracle_data.make_pairs(valid, sample=2000)
    for a, b in pairs:
        va, vb = Version(a), Version(b)
        assert compare("pep440", a, b) == (va > vb) - (va < vb)
