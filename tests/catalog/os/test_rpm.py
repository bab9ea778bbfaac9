"""rpm header blobs and the SQLite, BerkeleyDB and NDB back ends, on the shared real fixtures.

The SQLite and BerkeleyDB results were cross-checked against ``rpm -qa`` (rpm 4.18): every one of
the 129 CBL-Mariner packages matched in name, epoch, version, release, arch, source RPM and licence.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hullscan.catalog.os.rpm import parse_database, split_source_rpm
from hullscan.catalog.os.rpm_db import bdb_blobs, ndb_blobs, sqlite_blobs
from hullscan.catalog.os.rpm_header import (
    INT32,
    STRING,
    STRING_ARRAY,
    TAG_NAME,
    parse_header,
)
from hullscan.errors import CorruptContentError

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "rpm"


def _read(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def _blob(entries: list[tuple[int, int, bytes, int]]) -> bytes:
    """Build a header blob from (tag, type, data, count); integer data must be pre-aligned."""
    index = b""
    data = b""
    for tag, kind, value, count in entries:
        if kind == INT32:
            data += b"\0" * (-len(data) % 4)
        index += struct.pack(">IIiI", tag, kind, len(data), count)
        data += value
    return struct.pack(">II", len(entries), len(data)) + index + data


def test_sqlite_cbl_mariner() -> None:
    packages = parse_database("var/lib/rpm/rpmdb.sqlite", _read("cbl-mariner-2.0/rpmdb.sqlite"))
    assert len(packages) == 129
    by_name = {package.name: package for package in packages}
    glibc = by_name["glibc"]
    assert glibc.version == "2.34-2.cm2"
    assert glibc.release == "2.cm2"
    assert glibc.epoch is None
    assert glibc.architecture == "x86_64"
    assert (glibc.source_name, glibc.source_version) == ("glibc", "2.34-2.cm2")
    assert glibc.licenses == ("BSD AND GPLv2+ AND Inner-Net AND ISC AND LGPLv2+ AND MIT",)
    assert glibc.supplier == "Microsoft Corporation"
    assert "etc/ld.so.conf" in glibc.files
    release = by_name["mariner-release"]
    assert release.files[:3] == ("etc/issue", "etc/issue.net", "etc/lsb-release")
    assert release.extra["size"] == "608"
    assert all(package.ecosystem == "rpm" for package in packages)


def test_bdb_libuuid() -> None:
    (package,) = parse_database("var/lib/rpm/Packages", _read("libuuid/Packages"))
    assert (package.name, package.version) == ("libuuid", "2.32.1-42.el8_8")
    assert (package.source_name, package.source_version) == ("util-linux", "2.32.1-42.el8_8")
    assert package.licenses == ("BSD",)


def test_bdb_syft_redhat() -> None:
    (package,) = parse_database("var/lib/rpm/Packages", _read("syft-redhat/Packages"))
    assert (package.name, package.version, package.source_name) == ("dive", "0.9.2-1", "dive")
    assert package.licenses == ("MIT",)


def test_bdb_big_endian() -> None:
    content = _read("syft-redhat/Packages")
    page_size = struct.unpack_from("<I", content, 20)[0]
    swapped = bytearray(content)
    # Byte-swap the metadata fields and page headers the reader uses.
    for offset, size in ((12, 4), (20, 4), (32, 4)):
        swapped[offset : offset + size] = content[offset : offset + size][::-1]
    for number in range(1, len(content) // page_size):
        base = number * page_size
        for field, size in ((16, 4), (20, 2), (22, 2)):
            at = base + field
            swapped[at : at + size] = content[at : at + size][::-1]
        if content[base + 25] in (2, 13):
            entries = struct.unpack_from("<H", content, base + 20)[0]
            for item in range(entries):
                at = base + 26 + 2 * item
                swapped[at : at + 2] = content[at : at + 2][::-1]
                offset = struct.unpack_from("<H", content, at)[0]
                if content[base + offset] == 3:
                    for field in (4, 8):
                        at2 = base + offset + field
                        swapped[at2 : at2 + 4] = content[at2 : at2 + 4][::-1]
    big = list(bdb_blobs("Packages", bytes(swapped)))
    little = list(bdb_blobs("Packages", content))
    assert big == little
    assert len(big) == 1


def test_ndb_sle15() -> None:
    packages = parse_database("usr/lib/sysimage/rpm/Packages.db", _read("sle15-bci/Packages.db"))
    assert len(packages) == 35
    by_name = {package.name: package for package in packages}
    assert by_name["bash"].version == "4.4-19.6.1"
    assert by_name["bash"].source_name == "bash"
    assert by_name["coreutils"].source_version == "8.32-3.2.1"
    assert by_name["libpcre1"].source_name == "pcre"


def test_gpg_pubkey_is_skipped() -> None:
    from hullscan.catalog.os.rpm import package_from_header

    header = parse_header(_blob([(TAG_NAME, STRING, b"gpg-pubkey\0", 1)]))
    assert package_from_header("x", header) is None


def test_split_source_rpm() -> None:
    assert split_source_rpm("util-linux-2.32.1-42.el8_8.src.rpm") == (
        "util-linux",
        "2.32.1",
        "42.el8_8",
    )
    assert split_source_rpm("nonsense") is None


def test_header_file_list() -> None:
    blob = _blob(
        [
            (TAG_NAME, STRING, b"x\0", 1),
            (1117, STRING_ARRAY, b"a\0b\0", 2),
            (1118, STRING_ARRAY, b"/usr/bin/\0", 1),
            (1116, INT32, struct.pack(">II", 0, 0), 2),
        ]
    )
    assert parse_header(blob).files() == ("usr/bin/a", "usr/bin/b")


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\0\0\0\x01",
        struct.pack(">II", 0xFFFFFFFF, 0),  # huge index count
        struct.pack(">II", 1, 0x7FFFFFFF),  # huge data length
        struct.pack(">II", 5, 4) + b"\0" * 20,  # truncated
        _blob([(TAG_NAME, STRING, b"x\0", 1)])[:-1],  # truncated data
        struct.pack(">II", 1, 2) + struct.pack(">IIiI", TAG_NAME, STRING, 50, 1) + b"x\0",
        struct.pack(">II", 1, 2) + struct.pack(">IIiI", TAG_NAME, STRING, -4, 1) + b"x\0",
        struct.pack(">II", 1, 2) + struct.pack(">IIiI", TAG_NAME, 77, 0, 1) + b"x\0",
        struct.pack(">II", 1, 4) + struct.pack(">IIiI", 1000, INT32, 0, 0x40000000) + b"\0" * 4,
    ],
)
def test_hostile_headers_raise_corrupt(blob: bytes) -> None:
    with pytest.raises(CorruptContentError):
        header = parse_header(blob, subject="rpmdb")
        for tag in header.tags():
            header.value(tag)
        header.files()


@pytest.mark.parametrize(
    "entries",
    [
        [(TAG_NAME, STRING, b"x", 1)],  # no terminator
        [(TAG_NAME, STRING_ARRAY, b"a\0", 1_000_000)],  # huge string count
        [(1009, INT32, b"\0\0\0\x01", 2)],  # integer array past the data
        [
            (1117, STRING_ARRAY, b"a\0", 1),
            (1118, STRING_ARRAY, b"/\0", 1),
            (1116, INT32, b"\0\0\0\x05", 1),
        ],  # dir index out of range
        [(1117, STRING_ARRAY, b"a\0", 1), (1118, STRING_ARRAY, b"/\0", 1)],  # no indexes
    ],
)
def test_hostile_values_raise_corrupt(entries: list[tuple[int, int, bytes, int]]) -> None:
    with pytest.raises(CorruptContentError):
        header = parse_header(_blob(entries), subject="rpmdb")
        for tag in header.tags():
            header.value(tag)
        header.files()


def test_real_blob_truncated_raises() -> None:
    blob = next(iter(sqlite_blobs("rpmdb.sqlite", _read("cbl-mariner-2.0/rpmdb.sqlite"))))
    for cut in (7, 100, len(blob) // 2, len(blob) - 1):
        with pytest.raises(CorruptContentError):
            parse_header(blob[:cut])


def test_corrupt_databases_raise() -> None:
    with pytest.raises(CorruptContentError):
        parse_database("Packages", b"garbage" * 10)
    with pytest.raises(CorruptContentError):
        list(sqlite_blobs("rpmdb.sqlite", b"SQLite format 3\x00" + b"\0" * 100))
    ndb = _read("sle15-bci/Packages.db")
    with pytest.raises(CorruptContentError):
        list(ndb_blobs("Packages.db", ndb[:5000]))
    bdb = _read("libuuid/Packages")
    with pytest.raises(CorruptContentError):
        list(bdb_blobs("Packages", bdb[: 4096 * 4]))
