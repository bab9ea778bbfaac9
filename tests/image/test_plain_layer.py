"""Plain layers read in place: the contents, errors and budget of the generic path, hashing
ahead of the tar passes, and the hasher itself."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

import hullscan.image.sources.interface as interface
from hullscan.errors import CorruptContentError, HullscanError
from hullscan.image.acquire import open_image, read_layers
from hullscan.image.layer import CapturePaths, LayerContents
from hullscan.image.limits import ReadLimits
from hullscan.image.plain_layer import BlobFile, BlobHasher, PlainLayer
from hullscan.image.sources.interface import AcquireOptions, ImageSource
from tests.support.image_builder import (
    File,
    HardLink,
    ImageSpec,
    LayerSpec,
    Symlink,
    Whiteout,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)

BIG = bytes(range(256)) * 8192  # 2 MiB: skipped by the tar pass, hashed all the same


def _spec(compression: Any) -> ImageSpec:
    return ImageSpec([
        LayerSpec([File("/etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
                   File("/opt/big.bin", BIG),
                   File("/etc/notes.txt", b"base notes\n"),
                   File("/usr/share/" + "long-name/" * 12 + "deep.txt", b"pax path\n"),
                   Symlink("/etc/link.txt", "notes.txt")],
                  created_by="ADD rootfs /", compression=compression),
        LayerSpec([File("/app/app.txt", b"app\n" * 1000),
                   HardLink("/app/again.txt", "/app/app.txt")],
                  created_by="COPY app /app", compression=compression),
        LayerSpec([Whiteout("/etc/notes.txt"), File("/srv/last.txt", b"last\n")],
                  created_by="RUN rm /etc/notes.txt", compression=compression),
    ])


@pytest.fixture(scope="module")
def plain_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same image in every local form that stores its layers as plain tars."""
    root = tmp_path_factory.mktemp("plain")
    write_docker_archive(root / "legacy.tar", {"app:1": _spec("none")})
    write_docker_archive(root / "oci-style.tar", {"app:1": _spec("none")}, style="oci")
    write_oci_layout(root / "layout", {"app:1": _spec("none")})
    write_oci_archive(root / "layout.tar", {"app:1": _spec("none")})
    return {"legacy": root / "legacy.tar", "oci-style": root / "oci-style.tar",
            "layout": root / "layout", "layout-archive": root / "layout.tar"}


def _reference(kind: str, path: Path) -> str:
    if kind in ("legacy", "oci-style"):
        return f"docker-archive:{path}"
    return f"{'oci-dir' if kind == 'layout' else 'oci-archive'}:{path}:app:1"


class Counted:
    """Counts the plain layers read, by wrapping the class the sources use."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads = 0
        counter = self

        class CountedPlainLayer(PlainLayer):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                counter.reads += 1
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(interface, "PlainLayer", CountedPlainLayer)


def _read(reference: str, *, generic: bool = False, limits: ReadLimits | None = None,
          monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[LayerContents, ...]:
    with open_image(reference, AcquireOptions(limits=limits or ReadLimits())) as source:
        if generic:
            assert monkeypatch is not None
            monkeypatch.setattr(source, "plain_blob", lambda layer: None)
        return read_layers(source, CapturePaths(lambda path: path.endswith(".txt")))


def _comparable(layers: tuple[LayerContents, ...]) -> list[tuple[Any, ...]]:
    return [(c.layer, c.entries, c.whiteouts, c.opaque_dirs, c.captured, c.anomalies,
             c.uncompressed_size) for c in layers]


@pytest.mark.parametrize("kind", ["legacy", "oci-style", "layout", "layout-archive"])
def test_plain_layers_read_in_place_as_the_generic_path_reads_them(
        kind: str, plain_images: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _reference(kind, plain_images[kind])
    counted = Counted(monkeypatch)
    in_place = _read(reference)
    assert counted.reads == 3
    generic = _read(reference, generic=True, monkeypatch=monkeypatch)
    assert counted.reads == 3  # the generic path took no plain reader
    assert _comparable(in_place) == _comparable(generic)
    assert {c.compression for c in in_place} == {c.compression for c in generic} == {"none"}
    captured = in_place[0].captured
    assert captured["etc/notes.txt"] == b"base notes\n"
    assert captured["usr/share/" + "long-name/" * 12 + "deep.txt"] == b"pax path\n"
    assert "opt/big.bin" not in captured and in_place[0].uncompressed_size > len(BIG)
    assert in_place[1].captured["app/again.txt"] == b"app\n" * 1000


def test_prefetch_hashes_every_plain_layer_in_one_thread(plain_images: dict[str, Path]) -> None:
    with open_image(_reference("layout", plain_images["layout"])) as source:
        layers = source.metadata.layers
        source.prefetch(layers)
        hasher = source._hasher
        assert hasher is not None
        for layer in layers:
            located = source.plain_blob(layer)
            assert located is not None
            blob = located[0]
            data = blob.path.read_bytes()[blob.offset:blob.offset + blob.size]
            assert hasher.digest(blob, "sha256") == layer.digest == layer.diff_id
            assert layer.diff_id == f"sha256:{hashlib.sha256(data).hexdigest()}"
        read_layers(source, lambda path: False)
    assert source._hasher is None  # closed with the source


MARK = b"app\napp\n"
"""Bytes only the second layer's tar holds."""


def _damaged(original: Path, tmp_path: Path, where: str) -> Path:
    """A copy of an image with one byte of its second layer changed: in a file's data (the
    tar still reads) or in its first tar header (it does not)."""
    copy = tmp_path / original.name
    if original.is_dir():
        shutil.copytree(original, copy)
        target = next(path for path in (copy / "blobs" / "sha256").iterdir()
                      if MARK in path.read_bytes())
        start = 0
    else:
        shutil.copy(original, copy)
        target, start = copy, _member_holding(copy, MARK)
    data = bytearray(target.read_bytes())
    data[data.index(MARK, start) if where == "data" else start + 10] ^= 0x20
    target.write_bytes(bytes(data))
    return copy


def _member_holding(archive_path: Path, marker: bytes) -> int:
    """Where the data of the archive member holding ``marker`` starts."""
    with tarfile.open(archive_path) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None and marker in handle.read():
                return member.offset_data
    raise AssertionError(f"no member of {archive_path} holds {marker!r}")


@pytest.mark.parametrize("where", ["data", "header"])
@pytest.mark.parametrize("kind", ["legacy", "oci-style", "layout"])
def test_damaged_plain_layers_fail_as_the_generic_path_fails(
        kind: str, where: str, plain_images: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _reference(kind, _damaged(plain_images[kind], tmp_path, where))
    with pytest.raises(HullscanError) as in_place:
        _read(reference)
    with pytest.raises(HullscanError) as generic:
        _read(reference, generic=True, monkeypatch=monkeypatch)
    assert type(in_place.value) is type(generic.value)
    assert str(in_place.value) == str(generic.value)
    message = str(in_place.value)
    assert "layer 1" in message or ("layer blobs/sha256/" in message and "layer 0" not in message)
    if kind != "legacy" or where == "data":  # a digest names the changed bytes
        assert "sha256:" in message


def test_the_image_budget_holds_for_plain_layers(plain_images: dict[str, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _reference("legacy", plain_images["legacy"])
    limits = ReadLimits(max_image_bytes=len(BIG) // 2)
    with pytest.raises(HullscanError) as in_place:
        _read(reference, limits=limits)
    with pytest.raises(HullscanError) as generic:
        _read(reference, limits=limits, generic=True, monkeypatch=monkeypatch)
    assert str(in_place.value) == str(generic.value)
    assert "decompressed bytes" in str(in_place.value)


def test_blob_hasher_hashes_each_blob_once_in_every_algorithm_asked(tmp_path: Path) -> None:
    data = b"".join(bytes([n]) * (3 * 1024 * 1024 + n) for n in range(3))
    path = tmp_path / "blobs"
    path.write_bytes(data)
    first = BlobFile(path, 0, 3 * 1024 * 1024)
    second = BlobFile(path, first.size, len(data) - first.size)
    hasher = BlobHasher([(first, frozenset({"sha256"})), (second, frozenset({"sha256"})),
                         (first, frozenset({"sha512"}))])
    try:
        for blob in (first, second):
            part = data[blob.offset:blob.offset + blob.size]
            assert hasher.digest(blob, "sha256") == f"sha256:{hashlib.sha256(part).hexdigest()}"
        assert hasher.digest(first, "sha512") == \
            f"sha512:{hashlib.sha512(data[:first.size]).hexdigest()}"
        assert hasher.covers(first, frozenset({"sha256", "sha512"}))
        assert not hasher.covers(second, frozenset({"sha512"}))
        assert not hasher.covers(BlobFile(path, 1, 2), frozenset({"sha256"}))
    finally:
        hasher.close()


def _refused_digest(blob: BlobFile, match: str) -> None:
    """A hasher of ``blob`` alone gives no digest but an error matching ``match``."""
    hasher = BlobHasher([(blob, frozenset({"sha256"}))])
    try:
        with pytest.raises(CorruptContentError, match=match):
            hasher.digest(blob, "sha256")
    finally:
        hasher.close()


def test_blob_hasher_refuses_a_file_shorter_than_its_blob(tmp_path: Path) -> None:
    path = tmp_path / "short"
    path.write_bytes(b"x" * 1000)
    _refused_digest(BlobFile(path, 0, 5000), "ends after 1000 of the blob's 5000")


def test_a_closed_blob_hasher_gives_no_digest(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"y" * (40 * 1024 * 1024))
    blobs = [(BlobFile(path, 0, 40 * 1024 * 1024), frozenset({"sha256", "sha512"}))] + [
        (BlobFile(path, n, 1024), frozenset({"sha256"})) for n in range(1, 50)]
    hasher = BlobHasher(blobs)
    hasher.close()
    with pytest.raises(CorruptContentError, match="cannot read the layer"):
        hasher.digest(blobs[-1][0], "sha256")


def test_the_source_stops_hashing_when_closed(plain_images: dict[str, Path]) -> None:
    source: ImageSource
    with open_image(_reference("legacy", plain_images["legacy"])) as source:
        source.prefetch(source.metadata.layers)
        hasher = source._hasher
        assert hasher is not None
    assert source._hasher is None and not hasher._thread.is_alive()


def test_a_hasher_without_memory_gives_an_error_not_a_hang(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hullscan.image.plain_layer as plain_layer

    def no_memory(*args: Any) -> Any:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(plain_layer.mmap, "mmap", no_memory)
    path = tmp_path / "blob"
    path.write_bytes(b"z" * 1000)
    _refused_digest(BlobFile(path, 0, 1000), "Cannot allocate memory")
