"""The forward-only tar reader against the standard library's, and against GNU tar's output."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.errors import CorruptContentError, HostileContentError
from hullscan.image.tar_stream import TarStream

_FORMATS = {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}


class _Skippable:
    """A stream that can pass over bytes without reading them, counting what it read."""

    def __init__(self, data: bytes, chunk: int | None) -> None:
        self._stream = io.BytesIO(data)
        self._chunk = chunk
        self.read_bytes = 0

    def read(self, size: int) -> bytes:
        data = self._stream.read(size if self._chunk is None else min(size, self._chunk))
        self.read_bytes += len(data)
        return data

    def skip(self, size: int) -> int:
        start = self._stream.tell()
        end = min(start + size, len(self._stream.getbuffer()))
        self._stream.seek(end)
        return end - start


def _reader(data: bytes, *, max_header_bytes: int = 1 << 20, chunk: int | None = None,
            skippable: bool = False) -> TarStream:
    if skippable:
        stream = _Skippable(data, chunk)
        return TarStream(stream.read, max_header_bytes=max_header_bytes, skip=stream.skip)
    plain = io.BytesIO(data)
    if chunk is None:
        return TarStream(plain.read, max_header_bytes=max_header_bytes)
    return TarStream(lambda size: plain.read(min(size, chunk)),
                     max_header_bytes=max_header_bytes)


def _ours(data: bytes, chunk: int | None = None,
          skippable: bool = False) -> list[tuple[object, ...]]:
    reader = _reader(data, chunk=chunk, skippable=skippable)
    found = []
    while (header := reader.next()) is not None:
        content = reader.read_data(header) if header.type in (b"0", b"\x00", b"7") else None
        found.append((header.name, header.type, header.size, header.mode, header.uid,
                      header.gid, header.mtime, header.linkname, content))
    return found


def _stdlib(data: bytes) -> list[tuple[object, ...]]:
    found = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:", encoding="utf-8",
                      errors="surrogateescape") as archive:
        for member in archive:
            handle = archive.extractfile(member) if member.isreg() else None
            found.append((member.name, member.type, member.size, member.mode, member.uid,
                          member.gid, int(member.mtime), member.linkname,
                          None if handle is None else handle.read()))
    return found


_names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
                 min_size=1, max_size=40)
_paths = st.lists(_names, min_size=1, max_size=8).map("/".join).filter(
    lambda path: path not in (".", "..") and not path.endswith("/"))
_members = st.tuples(
    _paths,
    st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
                     tarfile.FIFOTYPE, tarfile.CHRTYPE]),
    st.binary(max_size=2000),
    st.integers(0, 0o7777),
    st.integers(0, 70_000),  # past 8**7: base-256 numbers in GNU headers, pax records
    st.integers(0, 2**33),
    _paths,
)


def _archive(members: list[tuple[str, bytes, bytes, int, int, int, str]], format_: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=format_, encoding="utf-8") as archive:
        for name, kind, data, mode, uid, mtime, link in members:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, uid, uid, mtime
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                info.linkname = link if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
                archive.addfile(info)
    return buffer.getvalue()


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_members, max_size=12), st.sampled_from(sorted(_FORMATS)),
       st.sampled_from([None, 1, 511, 513, 4096]), st.booleans())
def test_reads_what_tarfile_reads(members: list[tuple[str, bytes, bytes, int, int, int, str]],
                                  format_name: str, chunk: int | None,
                                  skippable: bool) -> None:
    try:
        data = _archive(members, _FORMATS[format_name])
    except ValueError:
        return  # a name or number this format cannot hold: tarfile refuses to write it
    assert _ours(data, chunk, skippable) == _stdlib(data)


def test_invalid_utf8_names_are_shown_as_backslash_escapes() -> None:
    info = tarfile.TarInfo("caf\udce9/\udcff\udcfe.txt")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as archive:
        archive.addfile(info, io.BytesIO(b""))
    name = _ours(buffer.getvalue())[0][0]
    assert name == "caf\\xe9/\\xff\\xfe.txt"
    name.encode("utf-8")  # encodable: no lone surrogates


def test_a_long_named_file_whose_ustar_name_ends_in_a_slash_stays_a_file() -> None:
    name = "d" * 99 + "/" + "x" * 20  # the 100-byte ustar field ends with the slash
    data = _archive([(name, tarfile.REGTYPE, b"payload", 0o644, 0, 0, "")], tarfile.GNU_FORMAT)
    assert _ours(data) == _stdlib(data)
    assert _ours(data)[0][1] == b"0"
    data = _archive([(name, tarfile.REGTYPE, b"payload", 0o644, 0, 0, "")], tarfile.PAX_FORMAT)
    assert _ours(data)[0][1] == b"0" and _ours(data)[0][0] == name


def test_v7_directories_are_files_named_with_a_trailing_slash() -> None:
    info = tarfile.TarInfo("olddir/")
    info.type = tarfile.AREGTYPE
    data = info.tobuf(tarfile.USTAR_FORMAT) + bytes(1024)
    assert _ours(data)[0][:2] == ("olddir", b"5")


def _one_file_tar(name: str = "a.txt", data: bytes = b"hello") -> bytes:
    return _archive([(name, tarfile.REGTYPE, data, 0o644, 0, 0, "")], tarfile.USTAR_FORMAT)


def test_a_bad_checksum_after_the_first_entry_is_refused_not_treated_as_the_end() -> None:
    first, second = _one_file_tar("a"), _one_file_tar("b")
    data = bytearray(first[:1024] + second)
    data[1024] ^= 0x01  # the second entry's name, under an unchanged checksum
    with pytest.raises(CorruptContentError, match="bad header checksum at 1024"):
        _ours(bytes(data))


def test_data_cut_short_is_refused() -> None:
    with pytest.raises(CorruptContentError, match="unexpected end"):
        _ours(_one_file_tar(data=b"x" * 3000)[:1500])


def test_a_header_cut_short_is_refused() -> None:
    with pytest.raises(CorruptContentError, match="inside a header"):
        _ours(_one_file_tar()[:1024 + 100] + b"x" * 100)


def test_a_stream_without_end_blocks_ends_cleanly_at_a_block_boundary() -> None:
    assert [entry[0] for entry in _ours(_one_file_tar()[:1024])] == ["a.txt"]


def test_an_oversized_extended_header_is_refused_before_it_is_read() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("x" * 5000)
        archive.addfile(info, io.BytesIO(b""))
    reader = _reader(buffer.getvalue(), max_header_bytes=1000)
    with pytest.raises(HostileContentError, match="extended header"):
        reader.next()


def test_malformed_pax_records_are_refused() -> None:
    block = tarfile.TarInfo("PaxHeader")
    block.type = tarfile.XHDTYPE
    payload = b"99 path=x\n"
    block.size = len(payload)
    data = block.tobuf(tarfile.USTAR_FORMAT) + payload.ljust(512, b"\x00") + _one_file_tar()
    with pytest.raises(CorruptContentError, match="bad pax record"):
        _ours(data)


def _big_then_small() -> bytes:
    return _archive([("big", tarfile.REGTYPE, b"z" * 3_000_000, 0o644, 0, 0, ""),
                     ("small", tarfile.REGTYPE, b"s", 0o644, 0, 0, "")], tarfile.PAX_FORMAT)


def _read_only_small(reader: TarStream) -> None:
    """Walk the entries, reading the data of ``small`` only."""
    names = []
    while (header := reader.next()) is not None:
        names.append(header.name)
        if header.name == "small":
            assert reader.read_data(header) == b"s"
    assert names == ["big", "small"]


def test_skipped_data_is_consumed_and_finish_counts_trailing_bytes() -> None:
    data = _big_then_small()
    reader = _reader(data, chunk=70_000)
    _read_only_small(reader)
    # Consumed: big's header and padded data, small's header and data, one zero block.
    assert reader.finish() == len(data) - (512 + 3_000_320 + 512 + 512 + 512)


def test_a_skippable_stream_never_reads_the_data_nobody_wants() -> None:
    stream = _Skippable(_big_then_small(), 4096)
    _read_only_small(TarStream(stream.read, max_header_bytes=1 << 20, skip=stream.skip))
    assert stream.read_bytes < 3 * 4096  # headers and the small file, never big's data


def test_a_skippable_stream_cut_short_is_refused() -> None:
    with pytest.raises(CorruptContentError, match="unexpected end"):
        reader = _reader(_one_file_tar(data=b"x" * 3000)[:1500], chunk=512, skippable=True)
        while reader.next() is not None:
            pass


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar is not installed")
@pytest.mark.parametrize("format_", ["gnu", "posix"])
def test_gnu_tar_sparse_files_are_flagged_and_their_data_skipped(tmp_path: Path,
                                                                 format_: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with (root / "sparse.img").open("wb") as handle:
        for offset in range(0, 40 * 1024 * 1024, 4 * 1024 * 1024):  # many holes: extension
            handle.seek(offset)                                      # blocks in old GNU form
            handle.write(b"data")
        handle.truncate(40 * 1024 * 1024)
    (root / "after.txt").write_bytes(b"after")
    archive = tmp_path / "out.tar"
    subprocess.run(["tar", "--sparse", f"--format={format_}", "-cf", str(archive), "-C",
                    str(root), "sparse.img", "after.txt"], check=True)
    reader = _reader(archive.read_bytes())
    sparse = reader.next()
    assert sparse is not None and sparse.name == "sparse.img" and sparse.sparse
    assert sparse.real_size == 40 * 1024 * 1024
    after = reader.next()
    assert after is not None and after.name == "after.txt" and not after.sparse
    assert reader.read_data(after) == b"after"
    assert reader.next() is None
