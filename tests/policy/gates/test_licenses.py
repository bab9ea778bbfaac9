"""The licenses gate: exact and partial denylists, allowlist-only, SPDX expressions."""

from __future__ import annotations

from typing import Any

from hullscan.catalog.package import Package
from hullscan.policy.gates.licenses import GATE
from tests.policy.gates.context_helpers import context, fires, package, problems

PACKAGES = (
    package("bash", "5.2", licenses=("GPL-3.0+",)),
    package("zlib1g", "1.2.13", licenses=("Zlib",)),
    package("dual", "1.0", "npm", licenses=("MIT OR GPL-3.0-only",)),
    package("both", "1.0", "npm", licenses=("MIT AND AGPL-3.0-only",)),
    package("java-lib", "1.0", "maven",
            licenses=("GPL-2.0-only WITH Classpath-exception-2.0",)),
    package("mystery", "0.1", "pypi"),
    package("custom", "0.1", "pypi", licenses=("Acme Proprietary",)),
)


def _ids(trigger: str, params: dict[str, Any], packages: tuple[Package, ...] = PACKAGES
         ) -> list[str]:
    return [f.trigger_id for f in fires(GATE, trigger, context(packages=packages), params)]


def test_denylist_exact_match_normalises_and_respects_choices() -> None:
    assert _ids("denylist_exact_match", {"licenses": ["gpl-3.0-or-later"]}) == [
        "GPL-3.0-or-later+bash"]
    # MIT OR GPL-3.0-only: MIT can be chosen
    assert _ids("denylist_exact_match", {"licenses": ["GPL-3.0-only"]}) == []
    assert sorted(_ids("denylist_exact_match", {"licenses": "GPL-3.0-only, MIT"})) == [
        "GPL-3.0-only+dual", "MIT+both", "MIT+dual"]
    assert _ids("denylist_exact_match", {"licenses": ["AGPL-3.0-only"]}) == [
        "AGPL-3.0-only+both"]
    assert _ids("denylist_exact_match", {"licenses": ["GPL-2.0-only"]}) == [
        "GPL-2.0-only+java-lib"]


def test_denylist_exact_match_fire() -> None:
    [fire] = fires(GATE, "denylist_exact_match", context(packages=PACKAGES),
                   {"licenses": ["Zlib"]})
    assert fire.message == "zlib1g 1.2.13 (deb) is licensed under the denied license Zlib"
    assert fire.package == "zlib1g 1.2.13 (deb)" and fire.finding_id == "Zlib"


def test_denylist_partial_match() -> None:
    assert _ids("denylist_partial_match", {"licenses": ["gpl"]}) == [
        "GPL-3.0-or-later+bash", "AGPL-3.0-only+both", "GPL-2.0-only+java-lib"]
    assert _ids("denylist_partial_match", {"licenses": ["proprietary"]}) == [
        "LicenseRef-Acme-Proprietary+custom"]
    assert _ids("denylist_partial_match", {"licenses": ["BSD"]}) == []


def test_allowlist_only() -> None:
    params = {"licenses": ["MIT", "Zlib", "GPL-3.0-or-later", "GPL-2.0-only"]}
    assert _ids("allowlist_only", params) == [
        "AGPL-3.0-only+both", "LicenseRef-Acme-Proprietary+custom"]
    assert _ids("allowlist_only", {**params, "fire_on_unknown": True}) == [
        "AGPL-3.0-only+both", "unknown+mystery", "LicenseRef-Acme-Proprietary+custom"]


def test_allowlist_only_needs_every_declared_license() -> None:
    two = (package("two", "1", licenses=("MIT", "BSD-3-Clause")),)
    assert _ids("allowlist_only", {"licenses": ["MIT"]}, two) == ["BSD-3-Clause+two"]
    assert _ids("allowlist_only", {"licenses": ["MIT", "BSD-3-Clause"]}, two) == []


def test_parameter_validation() -> None:
    assert "missing" in problems(GATE, "allowlist_only", {})["licenses"]
    assert "at least one" in problems(GATE, "denylist_exact_match", {"licenses": ""})[
        "licenses"]
    assert "true or false" in problems(GATE, "allowlist_only", {
        "licenses": "MIT", "fire_on_unknown": "maybe"})["fire_on_unknown"]
