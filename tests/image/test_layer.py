"""Reading one layer: compression by magic bytes, diff IDs, whiteouts, hostile entries, limits."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import replace

import pytest

from hullscan.errors import (
    CorruptContentError,
    DigestMismatchError,
    HostileContentError,
    LimitExceededError,
)
from hullscan.image.layer import FileKind, LayerInfo
from hullscan.image.limits import ReadLimits, parse_size
from tests.image.layer_helpers import Member, compress, diff_id, read, read_blob, tar_bytes

BASIC = [
    Member("etc/", directory=True),
    Member("etc/os-release", b"ID=debian\n"),
    Member("./usr/bin/tool", b"\x7fELF", mode=0o4755),
    Member("/abs/file", b"confined"),
    Member("bin", symlink="usr/bin"),
    Member("usr/bin/tool2", hardlink="usr/bin/tool"),
]


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_every_compression_is_detected_and_entries_normalised(compression: str) -> None:
    contents = read(BASIC, compression=compression, wanted=("etc/os-release", "usr/bin/tool2",
                                                            "usr/bin/tool"))
    assert contents.compression == compression
    paths = [entry.path for entry in contents.entries]
    assert paths == ["etc", "etc/os-release", "usr/bin/tool", "abs/file", "bin", "usr/bin/tool2"]
    by_path = {entry.path: entry for entry in contents.entries}
    assert by_path["usr/bin/tool"].mode & 0o4000
    assert by_path["bin"].kind is FileKind.SYMLINK and by_path["bin"].link_target == "usr/bin"
    assert by_path["usr/bin/tool2"].kind is FileKind.HARDLINK
    assert by_path["usr/bin/tool2"].size == 4
    assert contents.captured == {"etc/os-release": b"ID=debian\n", "usr/bin/tool": b"\x7fELF",
                                 "usr/bin/tool2": b"\x7fELF"}
    assert contents.uncompressed_size == len(tar_bytes(BASIC))


def test_whiteouts_and_opaque_markers_are_recorded_not_listed() -> None:
    contents = read([Member("app/.wh.old.txt", b""), Member("cfg/.wh..wh..opq", b""),
                     Member(".wh.top", b""), Member("x/.wh..wh.plnk", b""),
                     Member("cfg/new", b"1")])
    assert contents.whiteouts == ("app/old.txt", "top")
    assert contents.opaque_dirs == ("cfg",)
    assert [entry.path for entry in contents.entries] == ["cfg/new"]


def test_multi_member_gzip_reads_whole() -> None:
    tar = tar_bytes(BASIC)
    blob = gzip.compress(tar[:1024], mtime=0) + gzip.compress(tar[1024:], mtime=0)
    info = LayerInfo(0, diff_id(tar), None, None, len(blob))
    assert len(read_blob(blob, info).entries) == len(BASIC)


def test_a_layer_not_matching_its_diff_id_is_refused() -> None:
    tar = tar_bytes(BASIC)
    info = LayerInfo(0, diff_id(tar + b"x"), None, None, 0)
    with pytest.raises(DigestMismatchError, match="diff ID"):
        read_blob(compress(tar, "gzip"), info)


def test_truncated_gzip_is_corrupt() -> None:
    tar = tar_bytes([Member("big", bytes(range(256)) * 4000)])
    blob = compress(tar, "gzip")
    info = LayerInfo(0, diff_id(tar), None, None, 0)
    with pytest.raises(CorruptContentError, match=r"truncated|not a valid tar"):
        read_blob(blob[: len(blob) // 2], info)


def test_truncated_zstd_is_caught_by_the_diff_id() -> None:
    tar = tar_bytes([Member("a", b"x" * 10_000), Member("b", b"y" * 10_000)])
    blob = compress(tar, "zstd")
    info = LayerInfo(0, diff_id(tar), None, None, 0)
    with pytest.raises((CorruptContentError, DigestMismatchError)):
        read_blob(blob[: len(blob) - 20], info)


def test_garbage_is_not_a_tar() -> None:
    blob = gzip.compress(b"this is not a tar archive" * 100)
    with pytest.raises(CorruptContentError, match="not a valid tar"):
        read_blob(blob, LayerInfo(0, None, None, None, 0))


@pytest.mark.parametrize("name", ["../../evil.txt", "a/../../evil", "./../x"])
def test_path_traversal_is_refused(name: str) -> None:
    with pytest.raises(HostileContentError, match="escapes the image root"):
        read([Member(name, b"x")])


def test_hard_link_escaping_the_root_is_refused() -> None:
    with pytest.raises(HostileContentError, match="escapes"):
        read([Member("shadow", hardlink="../../../etc/shadow")])


def test_hard_link_to_a_missing_file_is_an_anomaly() -> None:
    contents = read([Member("x", hardlink="not/here")])
    assert contents.anomalies and "not/here" in contents.anomalies[0]


def test_file_count_limit() -> None:
    limits = replace(ReadLimits(), max_files=5)
    with pytest.raises(LimitExceededError, match="more than 5 files"):
        read([Member(f"f{i}", b"") for i in range(6)], limits=limits)


def test_byte_limit() -> None:
    limits = replace(ReadLimits(), max_image_bytes=50_000)
    with pytest.raises(LimitExceededError, match="decompressed bytes"):
        read([Member("big", b"\x00" * 100_000)], limits=limits)


def test_compression_ratio_limit_stops_a_bomb_early() -> None:
    tar = tar_bytes([Member("zeros", b"\x00" * (8 * 1024 * 1024))])
    blob = zlib.compress(tar, 9, wbits=31)
    limits = replace(ReadLimits(), ratio_grace_bytes=1024 * 1024, max_compression_ratio=100)
    with pytest.raises(LimitExceededError, match="100:1"):
        read_blob(blob, LayerInfo(0, diff_id(tar), None, None, len(blob)), limits=limits)


def test_oversized_files_are_not_captured() -> None:
    limits = replace(ReadLimits(), max_captured_file_bytes=10)
    contents = read([Member("etc/big", b"x" * 11)], wanted=("etc/big",), limits=limits)
    assert contents.captured == {}
    assert "over the 10-byte analysis limit" in contents.anomalies[0]


def test_giant_pax_header_is_refused() -> None:
    header = bytearray(tar_bytes([Member("a", b"1")])[:512])
    # Rewrite the first member as a pax extended header claiming 2 GiB.
    header[156:157] = b"x"
    header[124:136] = b"%011o\x00" % (2 * 1024**3)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\x00 " % sum(header)
    with pytest.raises(HostileContentError, match="extended header"):
        read_blob(bytes(header) + bytes(1024), LayerInfo(0, None, None, None, 0))


@pytest.mark.parametrize(("text", "value"), [("1500", 1500), ("2KiB", 2048), ("4G", 4 * 1024**3),
                                             ("512mb", 512 * 1024**2)])
def test_sizes_parse(text: str, value: int) -> None:
    assert parse_size(text, subject="x") == value


def test_environment_overrides_limits() -> None:
    limits = ReadLimits.from_environment({"HULLSCAN_MAX_FILES": "10",
                                          "HULLSCAN_MAX_IMAGE_BYTES": "1MiB"})
    assert (limits.max_files, limits.max_image_bytes) == (10, 1024**2)
