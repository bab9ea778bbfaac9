"""apk ``installed`` databases, read from the shared real fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullscan.catalog.os.apk import parse_installed
from hullscan.errors import CorruptContentError

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "apk"
DB = "lib/apk/db/installed"


def test_syft_multiple_2() -> None:
    packages = parse_installed(DB, (FIXTURES / "syft-multiple-2" / DB).read_bytes())
    assert len(packages) == 14
    by_name = {package.name: package for package in packages}
    ssl_client = by_name["ssl_client"]
    assert ssl_client.version == "1.35.0-r17"
    assert ssl_client.source_name == "busybox"
    assert ssl_client.licenses == ("GPL-2.0-only",)
    assert ssl_client.architecture == "x86_64"
    assert ssl_client.supplier == "Sören Tempel <soeren+alpine@soeren-tempel.net>"
    assert ssl_client.files == ("usr/bin/ssl_client",)
    # so: dependencies resolved through the providing packages' p: lines.
    assert ssl_client.dependencies == ("musl", "libcrypto1.1", "libssl1.1")
    assert by_name["ca-certificates-bundle"].licenses == ("MPL-2.0 AND MIT",)
    baselayout = by_name["alpine-baselayout"]
    # version constraint stripped, /bin/sh resolved to its owner.
    assert baselayout.dependencies == ("alpine-baselayout-data", "busybox", "musl")
    assert by_name["alpine-baselayout-data"].files[:2] == ("etc/fstab", "etc/group")
    assert by_name["zlib"].extra["commit"]


def test_trivy() -> None:
    packages = parse_installed(DB, (FIXTURES / "trivy" / DB).read_bytes())
    assert len(packages) == 16
    by_name = {package.name: package for package in packages}
    assert by_name["invalidPackageWithoutAVersion"].version == ""
    assert by_name["ada-libs"].licenses == ("( Apache-2.0 OR MIT ) AND MPL-2.0",)
    assert by_name["libcrypto1.0"].source_name == "openssl"
    assert by_name["libcrypto1.0"].version == "1.0.2h-r1"
    assert by_name["test"].dependencies == ("pkgconf", "sqlite-libs")


def test_malformed_line_raises() -> None:
    with pytest.raises(CorruptContentError) as caught:
        parse_installed(DB, b"P:x\nnot a field\n")
    assert caught.value.subject == DB
