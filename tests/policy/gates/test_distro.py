"""The distro gate: end of support from the real distro-info-data CSVs, and denied releases.

Needs ``/usr/share/distro-info`` (Debian package ``distro-info-data``). At :data:`NOW`
(2026-11-27) Debian 9's LTS ended on 2022-06-30 and Debian 12's runs until 2028-06-30.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hullscan.catalog.distro_support import DEFAULT_LOCATION
from hullscan.image.distro import Distro
from hullscan.policy.gates.distro import GATE
from tests.policy.gates.context_helpers import DEBIAN_9, DEBIAN_12, context, fires, problems

pytestmark = pytest.mark.skipif(not (DEFAULT_LOCATION / "debian.csv").is_file(),
                                reason="distro-info-data is not installed")

ALPINE = Distro("alpine", "3.18.4", "Alpine Linux v3.18")


@pytest.fixture(autouse=True)
def _real_distro_info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HULLSCAN_DISTRO_INFO", raising=False)


def test_end_of_life_fires_for_debian_9() -> None:
    [fire] = fires(GATE, "end_of_life", context(distro=DEBIAN_9))
    assert fire.trigger_id == "end_of_life"
    assert fire.message == ("security support for Debian GNU/Linux 9 (stretch) ended on "
                            "2022-06-30")
    assert fire.details["support_ends"] == "2022-06-30"


def test_end_of_life_does_not_fire_for_debian_12() -> None:
    assert fires(GATE, "end_of_life", context(distro=DEBIAN_12)) == []


def test_end_of_life_days_before() -> None:
    ctx = context(distro=DEBIAN_12)  # 2028-06-30 is 581 days after NOW
    assert fires(GATE, "end_of_life", ctx, {"days_before": 580}) == []
    [fire] = fires(GATE, "end_of_life", ctx, {"days_before": 600})
    assert "ends on 2028-06-30" in fire.message


def test_end_of_life_unknown_release() -> None:
    assert fires(GATE, "end_of_life", context(distro=ALPINE)) == []
    [fire] = fires(GATE, "end_of_life", context(distro=ALPINE), {"fire_on_unknown": True})
    assert "no end-of-support data" in fire.message
    assert len(fires(GATE, "end_of_life", context(distro=None), {"fire_on_unknown": True})) == 1
    assert fires(GATE, "end_of_life", context(distro=DEBIAN_12),
                 {"fire_on_unknown": True}) == []


def test_end_of_life_honours_the_data_location(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("HULLSCAN_DISTRO_INFO", str(tmp_path))  # no CSVs: unknown
    assert fires(GATE, "end_of_life", context(distro=DEBIAN_9)) == []


@pytest.mark.parametrize(("params", "fired"), [
    ({"distro": "alpine"}, True), ({"distro": "Alpine", "version": "3.18"}, True),
    ({"distro": "alpine", "version": "3.18.5"}, False),
    ({"distro": "alpine", "version": "3.19", "check": "<"}, True),
    ({"distro": "alpine", "version": "3.9", "check": "<"}, False),
    ({"distro": "alpine", "version": "3.18", "check": "!="}, False),
    ({"distro": "alpine", "version": "3", "check": ">="}, True),
    ({"distro": "debian", "version": "3.18"}, False)])
def test_deny(params: dict[str, str], fired: bool) -> None:
    result = fires(GATE, "deny", context(distro=ALPINE), params)
    assert bool(result) is fired
    if fired:
        assert result[0].trigger_id == "alpine:3.18.4"


def test_deny_without_distro() -> None:
    assert fires(GATE, "deny", context(distro=None), {"distro": "debian"}) == []


def test_parameter_validation() -> None:
    assert "expected one of" in problems(GATE, "deny", {"distro": "debian", "version": "12",
                                                        "check": "=="})["check"]
    assert "missing" in problems(GATE, "deny", {})["distro"]
    assert "at least 0" in problems(GATE, "end_of_life", {"days_before": -1})["days_before"]
