"""The public entry point, the registry, ecosystem mapping, errors and speed."""

from __future__ import annotations

import os
import random

import pytest

from hullscan.errors import CorruptContentError
from hullscan.versions import (
    SCHEMES,
    InvalidVersionError,
    compare,
    get_scheme,
    scheme_for_ecosystem,
)
from hullscan.versions.ranges import osv_affected
from tests.support.build_steps import shared_vulndata
from tests.versions import oracle_data

ALL = ["dpkg", "rpm", "apk", "pep440", "semver", "npm", "golang", "maven", "gem", "nuget",
       "composer"]  # fmt: skip


def test_registry_has_every_scheme() -> None:
    assert sorted(SCHEMES) == sorted(ALL)
    for name, scheme in SCHEMES.items():
        assert scheme.name == name
        assert callable(scheme.compare) and callable(scheme.parse) and callable(scheme.validate)


@pytest.mark.parametrize("scheme", ALL)
def test_compare_is_three_way(scheme: str) -> None:
    low, high = {"golang": ("v1.0.0", "v1.2.0"), "npm": ("1.0.0", "1.2.0"),
                 "semver": ("1.0.0", "1.2.0")}.get(scheme, ("1.0", "1.2"))  # fmt: skip
    assert compare(scheme, low, high) < 0
    assert compare(scheme, high, low) > 0
    assert compare(scheme, low, low) == 0


@pytest.mark.parametrize("scheme", ALL)
def test_invalid_version_error_names_scheme_and_version(scheme: str) -> None:
    bad = "junk" if scheme == "gem" else ""  # Gem::Version.new("") is "0"
    with pytest.raises(InvalidVersionError) as caught:
        SCHEMES[scheme].parse(bad)
    assert isinstance(caught.value, CorruptContentError)
    assert scheme in str(caught.value)
    assert caught.value.scheme == scheme
    assert caught.value.version == bad
    assert not SCHEMES[scheme].validate(bad)


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unknown version scheme"):
        compare("cobol", "1", "2")
    with pytest.raises(ValueError):
        get_scheme("cobol")


@pytest.mark.parametrize(
    ("ecosystem", "scheme"),
    [
        ("PyPI", "pep440"), ("npm", "npm"), ("Go", "golang"), ("crates.io", "semver"),
        ("Maven", "maven"), ("NuGet", "nuget"), ("RubyGems", "gem"),
        ("Packagist", "composer"), ("Debian:12", "dpkg"), ("Debian", "dpkg"),
        ("Ubuntu:22.04:LTS", "dpkg"), ("Ubuntu:Pro:18.04:LTS", "dpkg"),
        ("Alpine:v3.19", "apk"), ("AlmaLinux:9", "rpm"), ("Rocky Linux:9", "rpm"),
        ("Red Hat:enterprise_linux:9::appstream", "rpm"), ("openSUSE:Leap 15.5", "rpm"),
        ("SUSE:Linux Enterprise Server 15 SP5", "rpm"), ("Wolfi", "apk"),
        # purl types
        ("deb", "dpkg"), ("rpm", "rpm"), ("apk", "apk"), ("pypi", "pep440"),
        ("golang", "golang"), ("cargo", "semver"), ("maven", "maven"),
        ("nuget", "nuget"), ("gem", "gem"), ("composer", "composer"),
    ],
)  # fmt: skip
def test_scheme_for_ecosystem(ecosystem: str, scheme: str) -> None:
    assert scheme_for_ecosystem(ecosystem) == scheme


def test_unknown_ecosystem() -> None:
    with pytest.raises(ValueError, match="no version scheme"):
        scheme_for_ecosystem("Plan9")


@pytest.mark.skipif(
    not shared_vulndata().is_dir() and not os.environ.get("CI"),
    reason="shared vulnerability data not present",
)
def test_matching_ten_thousand_real_versions_finds_some_and_misses_some() -> None:
    """Real Debian versions against real fixed versions (the speed of this is measured in
    bench/vuln_bench.py, not here)."""
    pool = oracle_data.debian_versions()
    rng = random.Random(1)
    versions, fixed = rng.sample(pool, 10_000), rng.sample(pool, 10_000)
    hits = sum(
        osv_affected("dpkg", v, {"ranges": [{"type": "ECOSYSTEM",
                                             "events": [{"introduced": "0"}, {"fixed": f}]}]})
        for v, f in zip(versions, fixed, strict=True)
    )  # fmt: skip
    scheme = get_scheme("dpkg")
    expected = sum(scheme.compare(v, f) < 0 for v, f in zip(versions, fixed, strict=True))
    assert 0 < hits < 10_000
    assert hits == expected
