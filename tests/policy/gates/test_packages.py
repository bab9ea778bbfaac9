"""The packages gate: required packages, denied packages, modified package files."""

from __future__ import annotations

import hashlib

import pytest

from hullscan.catalog.package import LayerRef
from hullscan.checks.files import Md5Visitor, check_files, wanted_paths
from hullscan.checks.finding import CheckFinding
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import CapturePaths, CompositeVisitor
from hullscan.policy.gates.packages import GATE
from tests.image.layer_helpers import Member, read
from tests.policy.gates.context_helpers import context, fires, package, problems

PACKAGES = (package("openssl", "3.0.11-1~deb12u1"), package("bash", "5.2.15-2+b2"),
            package("requests", "2.31.0", "pypi"), package("requests", "2.25.0", "pypi"),
            package("telnet", "0.17+2.4-2"))
CTX = context(packages=PACKAGES)


def _required(**params: object) -> list[str]:
    return [f.message for f in fires(GATE, "required_package", CTX, params)]


def test_required_package_missing() -> None:
    assert _required(name="ca-certificates") == [
        "required package ca-certificates is not installed"]
    assert _required(name="openssl") == []


def test_required_package_exact_version_uses_the_package_scheme() -> None:
    assert _required(name="openssl", version="3.0.11-1~deb12u1") == []
    [message] = _required(name="openssl", version="3.0.13-1~deb12u1")
    assert message == ("required package openssl 3.0.13-1~deb12u1 is not installed "
                       "(found 3.0.11-1~deb12u1)")
    assert _required(name="requests", version="2.31") == []  # PEP 440: 2.31 == 2.31.0


@pytest.mark.parametrize(("version", "fired"), [
    ("3.0.9", False), ("3.0.11-1~deb12u1", False), ("3.0.11-1", True),  # ~ sorts before
    ("3.1", True)])
def test_required_package_minimum_version(version: str, fired: bool) -> None:
    result = _required(name="openssl", version=version, version_match_type="minimum")
    assert bool(result) is fired


def test_required_package_any_copy_may_satisfy() -> None:
    assert _required(name="requests", version="2.30", version_match_type="minimum") == []


def test_denylist() -> None:
    assert [f.trigger_id for f in fires(GATE, "denylist", CTX, {"name": "telnet"})] == \
        ["telnet"]
    assert [f.package for f in fires(GATE, "denylist", CTX, {"name": "requests",
                                                           "version": "2.25.0"})] == \
        ["requests 2.25.0 (pypi)"]
    assert len(fires(GATE, "denylist", CTX, {"name": "req*"})) == 2
    assert fires(GATE, "denylist", CTX, {"name": "netcat"}) == []
    assert fires(GATE, "denylist", CTX, {"name": "telnet", "version": "0.17"}) == []


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _modified_files() -> list[CheckFinding]:
    """Run the real files check over two layers changing a bash and a libssl3 file."""
    lib = "usr/lib/x86_64-linux-gnu/libssl.so.3"
    visitor = Md5Visitor()
    both = CompositeVisitor([visitor, CapturePaths(wanted_paths)])
    layers = [
        read([Member("usr/bin/bash", b"bash", mode=0o755), Member(lib, b"ssl", mode=0o644),
              Member("var/lib/dpkg/info/bash.md5sums",
                     f"{_md5(b'bash')}  usr/bin/bash\n".encode()),
              Member("var/lib/dpkg/info/libssl3:amd64.md5sums",
                     f"{_md5(b'ssl')}  {lib}\n".encode())], index=0, visitor=both),
        read([Member("usr/bin/bash", b"evil bash", mode=0o755),
              Member(lib, b"evil ssl", mode=0o644)], index=1, visitor=both)]
    refs = [LayerRef(i, f"sha256:{i}", f"step {i}") for i in range(2)]
    return [f for f in check_files(layers, SquashedFilesystem(layers), refs, md5=visitor)
            if f.rule_id == "HS-FILE-PKG-MODIFIED"]


def test_verify_fires_per_modified_file() -> None:
    ctx = context(checks=_modified_files())
    result = fires(GATE, "verify", ctx)
    assert sorted(f.trigger_id for f in result) == [
        "bash+usr/bin/bash", "libssl3+usr/lib/x86_64-linux-gnu/libssl.so.3"]
    bash = next(f for f in result if f.package == "bash")
    assert bash.message == "file /usr/bin/bash of package bash was changed after installation"
    assert bash.layer == LayerRef(1, "sha256:1", "step 1")


def test_verify_filters() -> None:
    ctx = context(checks=_modified_files())
    assert [f.package for f in fires(GATE, "verify", ctx, {"only_packages": "libssl3"})] == \
        ["libssl3"]
    assert [f.path for f in fires(GATE, "verify", ctx, {"only_directories": ["/usr/bin"]})] \
        == ["usr/bin/bash"]
    assert fires(GATE, "verify", ctx, {"only_directories": ["/usr/b"]}) == []
    assert len(fires(GATE, "verify", ctx, {"check": "changed"})) == 2
    assert fires(GATE, "verify", ctx, {"check": "missing"}) == []
    assert fires(GATE, "verify", context()) == []


def test_parameter_validation() -> None:
    assert "missing" in problems(GATE, "required_package", {})["name"]
    assert "expected one of" in problems(GATE, "required_package", {
        "name": "x", "version_match_type": "at-least"})["version_match_type"]
    assert "expected one of" in problems(GATE, "verify", {"check": "modified"})["check"]
