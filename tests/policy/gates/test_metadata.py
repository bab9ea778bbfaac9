"""The metadata gate: each attribute, each check, value parsing."""

from __future__ import annotations

import pytest

from hullscan.errors import HullscanError
from hullscan.image.distro import Distro
from hullscan.policy.context import EvaluationContext
from hullscan.policy.gates.metadata import GATE, parse_size
from tests.policy.gates.context_helpers import config, context, fires, metadata, problems

# 50 MB in two layers, amd64 linux, built 10 days before NOW, Debian 12
CTX = context(distro=Distro("ubuntu", "22.04", "Ubuntu 22.04", "jammy", ("debian",)))


def _fired(attribute: str, check: str, value: str | None = None,
           ctx: EvaluationContext = CTX) -> bool:
    params = {"attribute": attribute, "check": check}
    if value is not None:
        params["value"] = value
    return bool(fires(GATE, "attribute", ctx, params))


@pytest.mark.parametrize(("attribute", "check", "value", "fired"), [
    ("size", ">", "40MB", True), ("size", ">", "50MB", False), ("size", "<=", "0.05GB", True),
    ("size", "<", "1GiB", True), ("size", "=", "50000000", True),
    ("layer_count", ">=", "3", False), ("layer_count", "=", "2", True),
    ("layer_count", "in", "1, 2", True), ("layer_count", "not_in", "1,2", False),
    ("distro", "=", "ubuntu", True), ("distro", "!=", "ubuntu", False),
    ("distro", "in", "alpine,debian", False), ("distro", "not_in", "alpine,debian", True),
    ("distro_version", "<", "22.10", True), ("distro_version", ">=", "22.10", False),
    ("distro_version", "like", r"22\..*", True), ("distro_version", "not_like", "22", True),
    ("like_distro", "=", "debian", True), ("like_distro", "!=", "debian", False),
    ("architecture", "=", "amd64", True), ("architecture", "in", "arm64,s390x", False),
    ("os", "=", "linux", True), ("os", "like", "win.*", False),
    ("image_age_days", ">", "7", True), ("image_age_days", ">", "10", False),
    ("image_age_days", "=", "10", True)])
def test_checks(attribute: str, check: str, value: str, fired: bool) -> None:
    assert _fired(attribute, check, value) is fired


def test_exists_and_missing_attributes() -> None:
    no_created = context(image_metadata=metadata(image_config=config(created=None)),
                         distro=None)
    assert _fired("image_age_days", "exists")
    assert not _fired("image_age_days", "exists", ctx=no_created)
    assert _fired("image_age_days", "not_exists", ctx=no_created)
    assert not _fired("like_distro", "exists", ctx=no_created)
    assert _fired("distro", "!=", "debian", ctx=no_created)
    assert not _fired("distro", "=", "debian", ctx=no_created)
    assert not _fired("distro_version", "<", "12", ctx=no_created)


def test_fire_describes_the_attribute() -> None:
    [fire] = fires(GATE, "attribute", CTX, {"attribute": "layer_count", "check": ">",
                                            "value": 1})
    assert fire.trigger_id == "layer_count"
    assert fire.message == "image layer_count is 2: matches '> 1'"


def test_bad_values_fail_at_evaluation() -> None:
    with pytest.raises(HullscanError, match="size like 500MB"):
        _fired("size", ">", "big")
    with pytest.raises(HullscanError, match="needs a value"):
        _fired("distro", "=")
    with pytest.raises(HullscanError, match="invalid regular expression"):
        _fired("distro", "like", "(")


def test_parse_size() -> None:
    assert parse_size("500MB") == 500e6
    assert parse_size("1GiB") == 2**30
    assert parse_size("1.5 kib") == 1536
    assert parse_size("123") == 123


def test_parameter_validation() -> None:
    assert "expected one of" in problems(GATE, "attribute", {
        "attribute": "colour", "check": "="})["attribute"]
    assert "expected one of" in problems(GATE, "attribute", {
        "attribute": "size", "check": "=="})["check"]
    assert "missing" in problems(GATE, "attribute", {"attribute": "size"})["check"]
