"""Range evaluation: OSV events (hand-made and real records), npm ranges, Composer
constraints and gem requirements (hand tables from each tool's documentation, and every
constraint in the shared native feeds)."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from hullscan.versions import SCHEMES, InvalidVersionError
from hullscan.versions.ranges import (
    composer_constraint_satisfies,
    gem_requirement_satisfies,
    npm_range_satisfies,
    osv_affected,
    osv_range_affected,
)
from tests.support.build_steps import shared_vulndata
from tests.versions import native_data, oracle_data

needs_data = pytest.mark.skipif(
    not shared_vulndata().is_dir() and not os.environ.get("CI"),
    reason="shared vulnerability data not present",
)


def _range(*events: dict[str, str], kind: str = "ECOSYSTEM") -> dict[str, Any]:
    return {"type": kind, "events": list(events)}


# ------------------------------------------------------------------ OSV, hand-made


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.1", True), ("1.4.9", True), ("1.5", False), ("1.5.0", False), ("2.0", False)],
)
def test_introduced_zero_and_fixed_is_exclusive(version: str, expected: bool) -> None:
    affected = {"ranges": [_range({"introduced": "0"}, {"fixed": "1.5"})]}
    assert osv_affected("pep440", version, affected) is expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.9", False), ("1.0", True), ("1.2", True), ("1.2.0", True), ("1.2.1", False)],
)
def test_last_affected_is_inclusive(version: str, expected: bool) -> None:
    affected = {"ranges": [_range({"introduced": "1.0"}, {"last_affected": "1.2"})]}
    assert osv_affected("pep440", version, affected) is expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.9", False), ("1.1", True), ("1.2", False), ("1.9", False), ("2.0", True),
     ("2.2.9", True), ("2.3", False), ("9", False)],
)  # fmt: skip
def test_unsorted_events_of_several_intervals(version: str, expected: bool) -> None:
    events = [{"introduced": "2.0"}, {"fixed": "2.3"}, {"fixed": "1.2"}, {"introduced": "1.0"}]
    assert osv_range_affected("pep440", version, events) is expected


def test_multiple_ranges_and_git_ranges() -> None:
    affected = {
        "ranges": [
            {"type": "GIT", "repo": "x", "events": [{"introduced": "0"}, {"fixed": "abc"}]},
            _range({"introduced": "1.0.0"}, {"fixed": "1.0.5"}),
            _range({"introduced": "2.0.0"}, {"fixed": "2.1.0"}),
        ]
    }
    assert osv_affected("semver", "1.0.4", affected)
    assert not osv_affected("semver", "1.0.5", affected)
    assert osv_affected("semver", "2.0.9", affected)
    assert not osv_affected("semver", "0.9.0", affected)  # the GIT range is ignored


def test_versions_list() -> None:
    affected = {"versions": ["1.0.1", "1.0.3"]}
    assert osv_affected("pep440", "1.0.1", affected)
    assert osv_affected("pep440", "1.0.3.0", affected)  # equal under the scheme
    assert not osv_affected("pep440", "1.0.2", affected)
    assert not osv_affected("pep440", "1.0.2", {})


def test_limit_caps_the_range() -> None:
    events = [{"introduced": "0"}, {"limit": "2.0.0"}]
    assert osv_range_affected("semver", "1.9.0", events)
    assert not osv_range_affected("semver", "2.0.0", events)
    assert osv_range_affected("semver", "9.0.0", [{"introduced": "0"}, {"limit": "*"}])


def test_semver_ranges_use_semver_and_distro_ranges_their_scheme() -> None:
    assert osv_affected("golang", "v1.2.3", {"ranges": [
        _range({"introduced": "0"}, {"fixed": "1.2.4"}, kind="SEMVER")]})  # fmt: skip
    debian = {"ranges": [_range({"introduced": "0"}, {"fixed": "2.36-9+deb12u4"})]}
    assert osv_affected("dpkg", "2.36-9+deb12u3", debian)
    assert not osv_affected("dpkg", "2.36-9+deb12u4", debian)
    assert osv_affected("dpkg", "2.36-9+deb12u4~rc1", debian)
    rpm = {"ranges": [_range({"introduced": "0"}, {"fixed": "1:1.0-2.el9"})]}
    assert osv_affected("rpm", "1:1.0-1.el9", rpm)
    assert osv_affected("rpm", "2.0-1.el9", rpm)  # epoch 0 < epoch 1: still older
    assert not osv_affected("rpm", "1:1.0-10.el9", rpm)


def test_invalid_version_raises() -> None:
    with pytest.raises(InvalidVersionError):
        osv_affected("pep440", "not a version", {"ranges": [_range({"introduced": "0"})]})


# ------------------------------------------------------------------ OSV, real records


@needs_data
def test_pypi_versions_lists_agree_with_their_ranges() -> None:
    """PyPI records list the affected versions OSV computed from the ranges: our evaluation
    of the ranges must include every listed version, except a few that the records
    themselves get wrong (listed although the record's own events exclude them)."""
    pep440 = SCHEMES["pep440"]
    checked = 0
    excluded: set[tuple[str, str]] = set()
    for record in oracle_data.osv_records("PyPI.zip"):
        for affected in record.get("affected") or []:  # type: ignore[attr-defined]
            ranges = [r for r in affected.get("ranges") or [] if r["type"] != "GIT"]
            if not ranges:
                continue
            for version in affected.get("versions") or []:
                if pep440.validate(version):
                    checked += 1
                    if not osv_affected("pep440", version, {"ranges": ranges}):
                        excluded.add((str(record["id"]), version))
    assert checked > 100_000
    assert excluded == {
        ("PYSEC-2021-114", "2.11.6"),  # overlapping ranges flattened: fixed 2.11.6 comes first
        ("PYSEC-2022-236", "3.1.1"),
        ("PYSEC-2022-236", "3.1.2"),  # same
        ("PYSEC-2023-72", "3.1.1"),
        ("PYSEC-2023-72", "3.1.2"),
        ("PYSEC-2023-72", "3.1.3"),
        ("PYSEC-2023-177", "23.9.0"),
        ("PYSEC-2023-177", "23.9.0.post1"),  # listed = fixed
        ("PYSEC-2023-61", "3.2a1"),
        ("PYSEC-2023-61", "3.2b1"),
        ("PYSEC-2023-61", "3.2rc1"),
        ("PYSEC-2023-61", "4.2a1"),
        ("PYSEC-2023-61", "4.2b1"),
        ("PYSEC-2023-61", "4.2rc1"),
    }  # fmt: skip  (pre-releases of the "introduced" version are older than it)


@needs_data
@pytest.mark.parametrize(
    ("zip_name", "scheme"), [("Go.zip", "golang"), ("crates.io.zip", "semver")]
)
def test_real_semver_ranges_fixed_and_introduced(zip_name: str, scheme: str) -> None:
    """In every real Go and RustSec range, the ``fixed`` version is not affected and a
    non-zero ``introduced`` version is."""
    checked = 0
    for record in oracle_data.osv_records(zip_name):
        for affected in record.get("affected") or []:  # type: ignore[attr-defined]
            for entry in affected.get("ranges") or []:
                fixed = {e["fixed"] for e in entry["events"] if "fixed" in e}
                for event in entry["events"]:
                    one = {"ranges": [entry]}
                    if "fixed" in event:
                        assert not osv_affected(scheme, event["fixed"], one), record["id"]
                        checked += 1
                    elif event.get("introduced", "0") not in ("0", *fixed):
                        assert osv_affected(scheme, event["introduced"], one), record["id"]
                        checked += 1
    assert checked > 1000


@needs_data
def test_real_almalinux_records() -> None:
    checked = 0
    for record in oracle_data.osv_records("AlmaLinux.zip")[:1500]:
        for affected in record.get("affected") or []:  # type: ignore[attr-defined]
            for entry in affected.get("ranges") or []:
                for event in entry["events"]:
                    if "fixed" in event:
                        fixed = event["fixed"]
                        assert not osv_affected("rpm", fixed, affected)
                        assert osv_affected("rpm", fixed + "~pre", affected)  # ~: just older
                        checked += 1
    assert checked > 1000


# ------------------------------------------------------------------ npm


@pytest.mark.parametrize(
    ("version", "range_text", "expected"),
    [
        # node-semver README examples.
        ("1.2.7", "1.2.7 || >=1.2.9 <2.0.0", True),
        ("1.2.8", "1.2.7 || >=1.2.9 <2.0.0", False),
        ("1.4.6", "1.2.7 || >=1.2.9 <2.0.0", True),
        ("2.0.0", "1.2.7 || >=1.2.9 <2.0.0", False),
        ("1.2.3-alpha.7", ">1.2.3-alpha.3", True),
        ("3.4.5-alpha.9", ">1.2.3-alpha.3", False),  # pre-release on another tuple
        ("3.4.5", ">1.2.3-alpha.3", True),
        ("1.2.3", "1.2.3 - 2.3.4", True),
        ("2.3.4", "1.2.3 - 2.3.4", True),
        ("2.3.5", "1.2.3 - 2.3.4", False),
        ("1.2.0", "1.2 - 2.3.4", True),
        ("2.3.9", "1.2.3 - 2.3", True),
        ("2.4.0", "1.2.3 - 2.3", False),
        ("2.9.9", "1.2.3 - 2", True),
        ("3.0.0", "1.2.3 - 2", False),
        ("1.5.0", "1.x", True),
        ("2.0.0", "1.x", False),
        ("1.2.9", "1.2.*", True),
        ("5.0.0", "*", True),
        ("5.0.0", "", True),
        ("1.2.9", "~1.2.3", True),
        ("1.3.0", "~1.2.3", False),
        ("1.9.0", "~1", True),
        ("0.2.5", "~0.2", True),
        ("0.3.0", "~0.2", False),
        ("1.2.4", "~1.2.3-beta.2", True),
        ("1.2.3-beta.4", "~1.2.3-beta.2", True),
        ("1.2.4-beta.2", "~1.2.3-beta.2", False),
        ("1.9.9", "^1.2.3", True),
        ("2.0.0", "^1.2.3", False),
        ("1.2.2", "^1.2.3", False),
        ("0.2.9", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("0.0.3", "^0.0.3", True),
        ("0.0.4", "^0.0.3", False),
        ("1.2.3-beta.4", "^1.2.3-beta.2", True),
        ("1.2.4-beta.2", "^1.2.3-beta.2", False),
        ("0.0.9", "^0.0.x", True),
        ("0.1.0", "^0.0.x", False),
        ("0.9.0", "^0.x", True),
        ("1.5.0-beta", "^1.0.0", False),  # pre-releases excluded by default
        ("1.2.2", "<1.2.3 || >=2.0.0 <2.1.0", True),
        ("1.5.0", "<1.2.3 || >=2.0.0 <2.1.0", False),
        ("2.0.5", "<1.2.3 || >=2.0.0 <2.1.0", True),
        ("1.2.9", ">= 1.2.3 <= 1.3", True),  # spaces after operators, partial upper bound
        ("1.4.0", "<=1.3", False),
        ("2.0.0", ">1", True),
        ("1.9.9", ">1", False),
    ],
)
def test_npm_ranges(version: str, range_text: str, expected: bool) -> None:
    assert npm_range_satisfies(version, range_text) is expected


def test_npm_bad_input() -> None:
    with pytest.raises(InvalidVersionError):
        npm_range_satisfies("1.0.0", ">=foo")
    with pytest.raises(InvalidVersionError):
        npm_range_satisfies("one", ">=1.0.0")


@needs_data
def test_npm_security_wg_ranges() -> None:
    """Every NSWG ``vulnerable_versions``/``patched_versions`` parses, and no version they
    mention is both vulnerable and patched, except in the advisories whose ranges overlap
    (checked by hand: e.g. 490 says ``<2.0.1 || <1.1.7`` vulnerable, ``^1.1.7`` patched)."""
    overlapping = set()
    checked = 0
    for advisory in native_data.npm_advisories():
        vulnerable = str(advisory.get("vulnerable_versions") or "")
        patched = str(advisory.get("patched_versions") or "")
        if not vulnerable or not patched:
            continue
        for version in set(re.findall(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?", vulnerable + patched)):
            checked += 1
            if npm_range_satisfies(version, vulnerable) and npm_range_satisfies(version, patched):
                overlapping.add(advisory["id"])
    assert checked > 500
    assert overlapping == {92, 98, 336, 357, 400, 490, 495}


# ------------------------------------------------------------------ Composer


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        # Composer docs, "Versions and constraints", and FriendsOfPHP's range format.
        ("1.5.1", ">=1.0,<1.5.2|>=2.0,<2.1", True),
        ("1.5.2", ">=1.0,<1.5.2|>=2.0,<2.1", False),
        ("2.0.3", ">=1.0,<1.5.2|>=2.0,<2.1", True),
        ("2.1", ">=1.0,<1.5.2|>=2.0,<2.1", False),
        ("0.9", ">=1.0,<1.5.2|>=2.0,<2.1", False),
        ("1.5.2-beta1", "<1.5.2", False),  # "<1.5.2" means "<1.5.2.0-dev"
        ("1.0.5", ">=1.0 <1.1 || >=1.2", True),
        ("1.1.5", ">=1.0 <1.1 || >=1.2", False),
        ("1.3", ">=1.0 <1.1 || >=1.2", True),
        ("1.9", "^1.2.3", True),
        ("2.0", "^1.2.3", False),
        ("1.2.2", "^1.2.3", False),
        ("0.3.9", "^0.3", True),
        ("0.4.0", "^0.3", False),
        ("1.9", "~1.2", True),
        ("2.0", "~1.2", False),
        ("1.2.9", "~1.2.3", True),
        ("1.3.0", "~1.2.3", False),
        ("1.0.9", "1.0.*", True),
        ("1.1.0", "1.0.*", False),
        ("3.0", "*", True),
        ("1.0.0", "1.0", True),
        ("1.0.1", "1.0", False),
        ("1.0.1", "!=1.0.0", True),
        ("1.5", "1.0 - 2.0", True),
        ("2.0.5", "1.0 - 2.0", True),  # a partial upper bound is a wildcard
        ("2.1", "1.0 - 2.0", False),
        ("v2.0.1", ">= 2.0, < 2.1", True),
    ],
)
def test_composer_constraints(version: str, constraint: str, expected: bool) -> None:
    assert composer_constraint_satisfies(version, constraint) is expected


@needs_data
def test_friendsofphp_constraints() -> None:
    """Every branch constraint in FriendsOfPHP parses, and no ``<X`` bound admits X."""
    checked = 0
    for member, items in native_data.composer_branch_constraints():
        constraint = ",".join(items)
        for item in items:
            match = re.fullmatch(r"<(?!=)\s*(\S+)", item.strip())
            if match:
                assert not composer_constraint_satisfies(match.group(1), constraint), member
                checked += 1
    assert checked > 5000


def test_composer_bad_input() -> None:
    with pytest.raises(InvalidVersionError):
        composer_constraint_satisfies("1.0", ">=banana")
    with pytest.raises(InvalidVersionError):
        composer_constraint_satisfies("1.0", "")


# ------------------------------------------------------------------ RubyGems


@pytest.mark.parametrize(
    ("version", "requirement", "expected"),
    [
        # Gem::Requirement / Gem::Version docs ("pessimistic" ~> operator).
        ("1.4.2", "~> 1.4.2", True),
        ("1.4.9", "~> 1.4.2", True),
        ("1.5.0", "~> 1.4.2", False),
        ("1.4.1", "~> 1.4.2", False),
        ("1.9", "~> 1.4", True),
        ("2.0", "~> 1.4", False),
        ("2.0.0.pre", "~> 1.4", False),  # its release, 2.0.0, is past the bump
        ("1.5", ">= 1.2, < 2", True),
        ("2.0", ">= 1.2, < 2", False),
        ("2.0.0.pre", ">= 1.2, < 2", True),  # gems have no pre-release exclusion
        ("1.0.0", "= 1.0", True),
        ("1.0.0", "1.0", True),
        ("1.1", "!= 1.1", False),
        # rubysec's typical patched_versions.
        ("5.2.4.3", "~> 5.2.4, >= 5.2.4.3", True),
        ("5.2.4.2", "~> 5.2.4, >= 5.2.4.3", False),
        ("5.3.0", "~> 5.2.4, >= 5.2.4.3", False),
    ],
)
def test_gem_requirements(version: str, requirement: str, expected: bool) -> None:
    assert gem_requirement_satisfies(version, requirement) is expected


def test_gem_bad_input() -> None:
    with pytest.raises(InvalidVersionError):
        gem_requirement_satisfies("1.0", ">> 1.0")
    with pytest.raises(InvalidVersionError):
        gem_requirement_satisfies("junk", ">= 1.0")


@needs_data
def test_rubysec_requirements() -> None:
    """Every rubysec requirement parses; ``>= X``/``~> X``/``= X`` admit X, ``< X`` does not."""
    checked = 0
    for member, _field, requirement in native_data.gem_requirements():
        for piece in requirement.split(","):
            match = re.fullmatch(r"\s*(>=|~>|<|=)\s*(\S+)\s*", piece)
            if match:
                op, bound = match.groups()
                assert gem_requirement_satisfies(bound, piece) is (op != "<"), member
                checked += 1
    assert checked > 2000


@pytest.mark.parametrize(("scheme", "listed", "version", "expected"), [
    ("pep440", ["1.0", "2.0.post1"], "1.0.0", True),       # equal by PEP 440, other spelling
    ("pep440", ["1.0", "2.0.post1"], "2.0", False),
    ("maven", ["1.0", "2.0-SNAPSHOT"], "1.0.0", True),     # Maven pads with zeros
    ("maven", ["1.0"], "1.1", False),
    ("dpkg", ["1:2.3-4"], "1:2.3-4", True),
])
def test_explicit_versions_lists_match_equal_versions(scheme: str, listed: list[str],
                                                      version: str, expected: bool) -> None:
    assert osv_affected(scheme, version, {"versions": listed}) is expected
