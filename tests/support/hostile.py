"""Builders of HOSTILE images, one OCI layout each (digests correct unless stated).

Every builder takes a parent directory, writes ``<parent>/<builder name>/`` and returns
``(layout_path, ref)``. The outcome a scanner should give:

============================  ==================================================================
builder                       expected scanner outcome
============================  ==================================================================
path_traversal                entry ``../../evil.txt``: rejected or skipped as path traversal;
                              nothing written outside the extraction root
absolute_path                 entry ``/etc/evil``: treated as ``etc/evil`` inside the image (or
                              rejected); the host ``/etc`` is never touched
symlink_escape                ``etc/passwd -> ../../../../../host/etc/passwd`` resolves inside
                              the image (to ``/host/etc/passwd``, absent); ``link -> /tmp`` then
                              ``link/pwned``: never written through the link to host ``/tmp``
hardlink_escape               hard link ``evil -> ../../../etc/shadow``: rejected; host file
                              never read or linked
symlink_loop                  ``a -> b``, ``b -> a``, ``loop -> loop/x``: resolution stops with
                              a loop error (ELOOP-like), no hang
gzip_bomb                     one file expanding to several GiB from a ~4 MB blob: stopped by a
                              decompressed-size limit. Its diff ID is deliberately WRONG
many_files                    200,000 tiny files in one layer: scanned within limits, or
                              stopped by an entry-count limit; no quadratic blow-up
truncated_gzip                blob digest matches the truncated bytes; decompression fails
                              (unexpected end of stream) -> layer error
tampered_blob                 layer bytes changed after the digest was computed: digest
                              mismatch error
missing_config                manifest's config blob absent: missing blob error
invalid_config_json           config blob (correct digest) is not JSON: config parse error
unknown_layer_media_type      layer media type ``application/vnd.example.unknown.layer``:
                              unsupported media type error
schema1_manifest              Docker schema 1 (signed) manifest: unsupported schema error
diff_id_mismatch              blob digest right, uncompressed tar does not match its diff ID:
                              diff ID verification error
zstd_bomb                     like ``gzip_bomb`` in a ``+zstd`` layer (~130 KB for 4 GiB): stopped
                              by the decompressed-size or ratio limit. Diff ID deliberately WRONG
truncated_zstd                a zstd layer cut in half (digest of the cut bytes): truncation error
half_million_files            500,000 tiny files in one layer (gzip level 1): scanned within the
                              memory bound, or stopped by the documented ``--max-files`` limit
deep_directories              one file 10,000 directories deep (pax path of ~20,000 bytes): no
                              recursion error, scanned
long_file_names               5,000-character names, and names of invalid UTF-8 bytes (pax
                              ``hdrcharset=BINARY``, GNU long name, plain ustar): scanned; names
                              represented safely (escaped) in JSON
device_files                  char and block devices and FIFOs: scanned as entries, nothing
                              created on disk
many_layers                   5,000 tiny layers (config with matching diff IDs): refused by a
                              layer-count limit, or scanned within bounds when it is raised
giant_history                 a config of ~77 MB holding 1,000,000 history entries: refused by
                              the config size limit (8 MiB) before parsing
long_history                  a config of ~7.6 MB holding 100,000 history entries: refused by
                              the config entry limit (10,000 per list)
nested_jars                   a jar in a jar ... 50 levels deep: bounded depth, safe scan; the
                              archives above the limit are still catalogued
jar_zip_bomb                  a jar holding ``lib/bomb.jar`` that deflates to 3 GiB: bounded
                              memory and time, reported as an anomaly
rpmdb_huge_header             ``rpmdb.sqlite`` whose headers claim 0x7fffffff index entries and
                              bytes, and a string array of millions of entries: no huge
                              allocation; bad headers skipped with an anomaly
============================  ==================================================================
"""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zstandard

from tests.support.image_builder import (
    MT_DOCKER_SCHEMA1_SIGNED,
    MT_OCI_LAYER_GZIP,
    MT_OCI_LAYER_ZSTD,
    BlobLayer,
    Device,
    File,
    ImageSpec,
    LayerSpec,
    OciLayoutWriter,
    RawLayer,
    RawMember,
    canonical_json,
    compress_bytes,
    layer_tar_bytes,
    raw_tar,
    sha256_digest,
    write_oci_layout,
)

HostileBuilder = Callable[[Path], tuple[Path, str]]
_GIB = 1 << 30
_ZERO_BLOCK = 64 << 20  # one gzip member of zeros, reused for the bomb
_DEFAULT_LAYER = LayerSpec([File("/etc/hostile", b"ok\n")])


def _one_layer(
    parent: Path, name: str, layer: RawLayer | BlobLayer | LayerSpec
) -> tuple[Path, str]:
    """Write ``parent/name`` holding ref ``hostile-<name>:1`` with one layer."""
    ref = f"hostile-{name.replace('_', '-')}:1"
    write_oci_layout(parent / name, {ref: ImageSpec(layers=(layer,), cmd=("/bin/sh",))})
    return parent / name, ref


def path_traversal(parent: Path) -> tuple[Path, str]:
    """A layer with the entry ``../../evil.txt``."""
    members = [RawMember("ok.txt", b"fine\n"), RawMember("../../evil.txt", b"escaped\n")]
    return _one_layer(parent, "path_traversal", RawLayer(raw_tar(members)))


def absolute_path(parent: Path) -> tuple[Path, str]:
    """A layer with the absolute entry ``/etc/evil``."""
    members = [
        RawMember("/etc/", type=tarfile.DIRTYPE, mode=0o755),
        RawMember("/etc/evil", b"abs\n"),
    ]
    return _one_layer(parent, "absolute_path", RawLayer(raw_tar(members)))


def symlink_escape(parent: Path) -> tuple[Path, str]:
    """Symlinks pointing out of the root, and a file written through a symlinked dir."""
    members = [
        RawMember("etc/", type=tarfile.DIRTYPE, mode=0o755),
        RawMember("etc/passwd", type=tarfile.SYMTYPE, linkname="../../../../../host/etc/passwd"),
        RawMember("link", type=tarfile.SYMTYPE, linkname="/tmp"),
        RawMember("link/pwned", b"written through a symlink\n"),
    ]
    return _one_layer(parent, "symlink_escape", RawLayer(raw_tar(members)))


def hardlink_escape(parent: Path) -> tuple[Path, str]:
    """A hard link to ``../../../etc/shadow`` (outside the root)."""
    members = [
        RawMember("etc/", type=tarfile.DIRTYPE, mode=0o755),
        RawMember("evil", type=tarfile.LNKTYPE, linkname="../../../etc/shadow"),
    ]
    return _one_layer(parent, "hardlink_escape", RawLayer(raw_tar(members)))


def symlink_loop(parent: Path) -> tuple[Path, str]:
    """Symlink loops: ``a -> b``, ``b -> a``, ``loop -> loop/x``."""
    members = [
        RawMember("a", type=tarfile.SYMTYPE, linkname="b"),
        RawMember("b", type=tarfile.SYMTYPE, linkname="a"),
        RawMember("loop", type=tarfile.SYMTYPE, linkname="loop/x"),
        RawMember("etc/", type=tarfile.DIRTYPE, mode=0o755),
        RawMember("etc/os-release", type=tarfile.SYMTYPE, linkname="../a"),
    ]
    return _one_layer(parent, "symlink_loop", RawLayer(raw_tar(members)))


def _gzip_member(data: bytes, level: int = 9) -> bytes:
    engine = zlib.compressobj(level, zlib.DEFLATED, 31)
    return engine.compress(data) + engine.flush()


def gzip_bomb_blob(gib: int = 4) -> bytes:
    """A gzip stream of a tar holding ``bomb.bin`` of ``gib`` GiB of zeros (~1 MB per GiB).

    Built from concatenated gzip members (RFC 1952 allows several): the tar header, then
    one compressed 64 MiB zero block repeated, then the end-of-archive zeros.
    """
    size = gib * _GIB
    info = tarfile.TarInfo("bomb.bin")
    info.size, info.mtime, info.mode = size, 1_700_000_000, 0o644
    header = _gzip_member(info.tobuf(tarfile.PAX_FORMAT))
    zeros = _gzip_member(bytes(_ZERO_BLOCK))
    trailer = _gzip_member(bytes(2 * tarfile.BLOCKSIZE))
    return header + zeros * (size // _ZERO_BLOCK) + trailer


def gzip_bomb(parent: Path, gib: int = 4) -> tuple[Path, str]:
    """A ~4 MB gzip layer expanding to ``gib`` GiB.

    The diff ID would need hashing GiBs, so the config carries a plausible but WRONG one
    (sha256 of a marker string): a scanner must hit its size limit before noticing.
    """
    wrong_diff_id = sha256_digest(b"hullscan gzip bomb: diff ID deliberately not computed")
    layer = BlobLayer(gzip_bomb_blob(gib), MT_OCI_LAYER_GZIP, wrong_diff_id, created_by="bomb")
    return _one_layer(parent, "gzip_bomb", layer)


def _ustar_header(name: bytes, size: int, kind: bytes = b"0", mode: int = 0o644) -> bytes:
    """A minimal ustar header (fast path for huge entry counts; names < 100 bytes)."""
    header = bytearray(tarfile.BLOCKSIZE)
    header[0 : len(name)] = name
    header[100:108] = b"%07o\0" % mode
    header[108:124] = b"0000000\x000000000\x00"
    header[124:136] = b"%011o\0" % size
    header[136:148] = b"%011o\0" % 1_700_000_000
    header[148:156] = b" " * 8
    header[156:157] = kind
    header[257:265] = b"ustar\x0000"
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def many_files_tar(count: int = 200_000, per_dir: int = 1000, *, start: int = 0,
                   end_marker: bool = True) -> bytes:
    """An uncompressed tar of ``count`` tiny files, ``per_dir`` per directory (numbered from
    ``start``; without ``end_marker`` a piece of a longer tar)."""
    blocks = []
    for index in range(start, start + count):
        if index % per_dir == 0:
            blocks.append(_ustar_header(b"many/d%04d/" % (index // per_dir), 0, b"5", 0o755))
        content = b"%d\n" % index
        blocks.append(_ustar_header(b"many/d%04d/f%07d" % (index // per_dir, index), len(content)))
        blocks.append(content.ljust(tarfile.BLOCKSIZE, b"\0"))
    if end_marker:
        blocks.append(bytes(2 * tarfile.BLOCKSIZE))
    return b"".join(blocks)


def many_files(parent: Path, count: int = 200_000) -> tuple[Path, str]:
    """One layer with ``count`` tiny files (gzip level 1)."""
    layer = RawLayer(many_files_tar(count), created_by=f"RUN make {count} files", level=1)
    return _one_layer(parent, "many_files", layer)


def truncated_gzip(parent: Path) -> tuple[Path, str]:
    """A gzip layer cut in half: digest matches the truncated bytes, diff ID the full tar."""
    tar = layer_tar_bytes(LayerSpec([File("/data.bin", bytes(range(256)) * 400)]))
    blob = compress_bytes(tar, "gzip")
    layer = BlobLayer(blob[: len(blob) // 2], MT_OCI_LAYER_GZIP, sha256_digest(tar))
    return _one_layer(parent, "truncated_gzip", layer)


def tampered_blob(parent: Path) -> tuple[Path, str]:
    """A layer blob whose bytes were changed after its digest was recorded."""
    layout, ref = _one_layer(parent, "tampered_blob", LayerSpec([File("/etc/x", b"original\n")]))
    manifest = _manifest(layout)
    blob = layout / "blobs/sha256" / manifest["layers"][0]["digest"].split(":")[1]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    return layout, ref


def missing_config(parent: Path) -> tuple[Path, str]:
    """A manifest whose config blob was removed from the layout."""
    layout, ref = _one_layer(parent, "missing_config", _DEFAULT_LAYER)
    config = _manifest(layout)["config"]["digest"].split(":")[1]
    (layout / "blobs/sha256" / config).unlink()
    return layout, ref


def invalid_config_json(parent: Path) -> tuple[Path, str]:
    """A config blob (digest correct) that is not JSON."""
    ref = "hostile-invalid-config-json:1"
    spec = ImageSpec(layers=(_DEFAULT_LAYER,), raw_config=b'{"architecture": "amd64", "os": ')
    write_oci_layout(parent / "invalid_config_json", {ref: spec})
    return parent / "invalid_config_json", ref


def unknown_layer_media_type(parent: Path) -> tuple[Path, str]:
    """A layer with media type ``application/vnd.example.unknown.layer``."""
    tar = layer_tar_bytes(_DEFAULT_LAYER)
    layer = BlobLayer(tar, "application/vnd.example.unknown.layer", sha256_digest(tar))
    return _one_layer(parent, "unknown_layer_media_type", layer)


def schema1_manifest(parent: Path) -> tuple[Path, str]:
    """A Docker schema 1 signed manifest (layer blob present, no config)."""
    ref, layout = "hostile-schema1-manifest:1", parent / "schema1_manifest"
    with OciLayoutWriter(layout) as writer:
        layer = writer.put_layer(_DEFAULT_LAYER)
        v1 = {"id": "a" * 64, "created": "2023-11-14T22:13:20Z", "os": "linux"}
        manifest = {
            "schemaVersion": 1,
            "name": "library/hostile",
            "tag": "1",
            "architecture": "amd64",
            "fsLayers": [{"blobSum": layer.blob.digest}],
            "history": [{"v1Compatibility": json.dumps(v1)}],
            "signatures": [
                {
                    "header": {"jwk": {"crv": "P-256", "kty": "EC", "x": "AA", "y": "AA"}},
                    "signature": "AAAA",
                    "protected": "AAAA",
                }
            ],
        }
        writer.tag(ref, writer.put_bytes(canonical_json(manifest), MT_DOCKER_SCHEMA1_SIGNED))
    return layout, ref


def diff_id_mismatch(parent: Path) -> tuple[Path, str]:
    """A correct gzip blob whose config diff ID is that of a different tar."""
    tar = layer_tar_bytes(LayerSpec([File("/etc/real", b"real content\n")]))
    other = layer_tar_bytes(LayerSpec([File("/etc/real", b"claimed content\n")]))
    layer = BlobLayer(compress_bytes(tar, "gzip"), MT_OCI_LAYER_GZIP, sha256_digest(other))
    return _one_layer(parent, "diff_id_mismatch", layer)


def zstd_bomb_blob(gib: int = 4) -> bytes:
    """A zstd stream of a tar holding ``bomb.bin`` of ``gib`` GiB of zeros (~33 KB per GiB).

    Concatenated frames (all decoders read across them): the tar header, one compressed
    64 MiB zero block repeated, then the end-of-archive zeros.
    """
    engine = zstandard.ZstdCompressor(level=19)
    size = gib * _GIB
    info = tarfile.TarInfo("bomb.bin")
    info.size, info.mtime, info.mode = size, 1_700_000_000, 0o644
    header = engine.compress(info.tobuf(tarfile.PAX_FORMAT))
    zeros = engine.compress(bytes(_ZERO_BLOCK))
    trailer = engine.compress(bytes(2 * tarfile.BLOCKSIZE))
    return header + zeros * (size // _ZERO_BLOCK) + trailer


def zstd_bomb(parent: Path, gib: int = 4) -> tuple[Path, str]:
    """A ~130 KB ``+zstd`` layer expanding to ``gib`` GiB (diff ID WRONG, as for gzip)."""
    wrong_diff_id = sha256_digest(b"hullscan zstd bomb: diff ID deliberately not computed")
    layer = BlobLayer(zstd_bomb_blob(gib), MT_OCI_LAYER_ZSTD, wrong_diff_id, created_by="bomb")
    return _one_layer(parent, "zstd_bomb", layer)


def truncated_zstd(parent: Path) -> tuple[Path, str]:
    """A zstd layer cut in half: digest matches the truncated bytes, diff ID the full tar."""
    tar = layer_tar_bytes(LayerSpec([File("/data.bin", bytes(range(256)) * 400)]))
    blob = compress_bytes(tar, "zstd")
    layer = BlobLayer(blob[: len(blob) // 2], MT_OCI_LAYER_ZSTD, sha256_digest(tar))
    return _one_layer(parent, "truncated_zstd", layer)


def write_many_files_tar(path: Path, count: int, per_dir: int = 1000) -> Path:
    """Like :func:`many_files_tar`, streamed to ``path`` (500,000 files make ~500 MB)."""
    with path.open("wb") as out:
        for start in range(0, count, per_dir):
            out.write(many_files_tar(min(per_dir, count - start), per_dir, start=start,
                                     end_marker=False))
        out.write(bytes(2 * tarfile.BLOCKSIZE))
    return path


def half_million_files(parent: Path, count: int = 500_000) -> tuple[Path, str]:
    """One layer with ``count`` tiny files (gzip level 1), the tar streamed via a scratch file."""
    scratch = write_many_files_tar(parent / "half_million_files.tar", count)
    try:
        layer = RawLayer(scratch, created_by=f"RUN make {count} files", level=1)
        return _one_layer(parent, "half_million_files", layer)
    finally:
        scratch.unlink()


DEEP_LEVELS = 10_000


def deep_directories(parent: Path, levels: int = DEEP_LEVELS) -> tuple[Path, str]:
    """One file ``a/a/.../a/deep.txt`` ``levels`` directories deep (a pax ``path`` record),
    a symlink climbing all the way back, and a secret-looking file at the bottom."""
    deep = "/".join(["a"] * levels)
    members = [
        RawMember(f"{deep}/deep.txt", b"bottom\n"),
        RawMember(f"{deep}/id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\n"),
        RawMember(f"{deep}/up", type=tarfile.SYMTYPE, linkname="../" * levels + "etc"),
        RawMember("etc/", type=tarfile.DIRTYPE, mode=0o755),
    ]
    return _one_layer(parent, "deep_directories", RawLayer(raw_tar(members)))


LONG_NAME = "n" * 5_000
INVALID_UTF8_NAMES = (b"bad-\xff\xfe-pax", b"bad-\xc3\x28-gnu-" + b"x" * 120, b"bad-\x80-ustar")
"""Raw names: pax ``hdrcharset=BINARY``, GNU long name, plain ustar (one each)."""


def _member_bytes(info: tarfile.TarInfo, data: bytes, tar_format: int) -> bytes:
    info.size, info.mtime = len(data), 1_700_000_000
    head = info.tobuf(tar_format, "utf-8", "surrogateescape")
    return head + data + bytes(-len(data) % tarfile.BLOCKSIZE)


def long_file_names_tar() -> bytes:
    """A tar mixing 5,000-character names and names that are not UTF-8, in three encodings."""
    pax_raw, gnu_raw, ustar_raw = (n.decode("utf-8", "surrogateescape")
                                   for n in INVALID_UTF8_NAMES)
    parts = [
        _member_bytes(tarfile.TarInfo(f"{LONG_NAME}/id_rsa"), b"key\n", tarfile.PAX_FORMAT),
        _member_bytes(tarfile.TarInfo(f"opt/{LONG_NAME}.jar"), b"not a zip", tarfile.PAX_FORMAT),
        _member_bytes(tarfile.TarInfo(f"{pax_raw}/id_rsa"), b"key\n", tarfile.PAX_FORMAT),
        _member_bytes(tarfile.TarInfo(f"{gnu_raw}/.env"), b"A=1\n", tarfile.GNU_FORMAT),
        _member_bytes(tarfile.TarInfo(f"{ustar_raw}.pem"), b"pem\n", tarfile.USTAR_FORMAT),
        _member_bytes(tarfile.TarInfo(f"opt/{pax_raw}.jar"), b"not a zip", tarfile.PAX_FORMAT),
    ]
    return b"".join(parts) + bytes(2 * tarfile.BLOCKSIZE)


def long_file_names(parent: Path) -> tuple[Path, str]:
    """Files with 5,000-character names and names of invalid UTF-8 (see :data:`LONG_NAME`)."""
    return _one_layer(parent, "long_file_names", RawLayer(long_file_names_tar()))


def device_files(parent: Path) -> tuple[Path, str]:
    """Character and block devices and FIFOs, some world-writable, some setuid."""
    layer = LayerSpec([
        Device("/dev/hostile-null", "char", 1, 3, mode=0o666),
        Device("/dev/hostile-mem", "char", 1, 1, mode=0o4666),
        Device("/dev/hostile-sda", "block", 8, 0, mode=0o660),
        Device("/tmp/hostile-fifo", "fifo", mode=0o666),
        Device("/etc/passwd", "fifo", mode=0o644),
        File("/etc/hostile", b"ok\n"),
    ])
    return _one_layer(parent, "device_files", layer)


MANY_LAYERS = 5_000


def many_layers(parent: Path, count: int = MANY_LAYERS) -> tuple[Path, str]:
    """``count`` tiny layers, one file each (config with matching diff IDs)."""
    layers = [LayerSpec([File(f"/layers/l{index:05d}", b"%d\n" % index)],
                        created_by=f"RUN echo {index}") for index in range(count)]
    ref = "hostile-many-layers:1"
    write_oci_layout(parent / "many_layers", {ref: ImageSpec(layers=layers, cmd=("/bin/sh",))})
    return parent / "many_layers", ref


HISTORY_ENTRIES = 1_000_000
LONG_HISTORY_ENTRIES = 100_000


def _history_config(parent: Path, name: str, entries: int) -> tuple[Path, str]:
    """A valid config whose history holds ``entries`` empty-layer steps (76 bytes each)."""
    layout, ref = _one_layer(parent, name, _DEFAULT_LAYER)
    manifest = _manifest(layout)
    config_path = layout / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]
    config = json.loads(config_path.read_bytes())
    step = {"created": "2023-11-14T22:13:20Z", "created_by": "ENV A=1", "empty_layer": True}
    config["history"] = [step] * entries + config["history"]
    data = canonical_json(config)
    config_path.unlink()
    (layout / "blobs/sha256" / sha256_digest(data).split(":")[1]).write_bytes(data)
    manifest["config"].update(digest=sha256_digest(data), size=len(data))
    _replace_manifest(layout, manifest)
    return layout, ref


def giant_history(parent: Path) -> tuple[Path, str]:
    """A config of ~77 MB: 1,000,000 history entries."""
    return _history_config(parent, "giant_history", HISTORY_ENTRIES)


def long_history(parent: Path) -> tuple[Path, str]:
    """A config of ~7.6 MB (under the size limit): 100,000 history entries."""
    return _history_config(parent, "long_history", LONG_HISTORY_ENTRIES)


JAR_NESTING = 50


def _pom_properties(artifact: str) -> bytes:
    return f"groupId=org.hostile\nartifactId={artifact}\nversion=1.0\n".encode()


def nested_jar(levels: int = JAR_NESTING) -> bytes:
    """``level0.jar`` holding ``lib/level1.jar`` holding ... ``levels`` deep (stored members)."""
    inner = b""
    for level in reversed(range(levels + 1)):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(f"META-INF/maven/org.hostile/level{level}/pom.properties",
                             _pom_properties(f"level{level}"))
            if inner:
                archive.writestr(f"lib/level{level + 1}.jar", inner)
        inner = buffer.getvalue()
    return inner


def nested_jars(parent: Path, levels: int = JAR_NESTING) -> tuple[Path, str]:
    """``/app/level0.jar``: jars nested ``levels`` deep, each with its own pom.properties."""
    layer = LayerSpec([File("/app/level0.jar", nested_jar(levels))])
    return _one_layer(parent, "nested_jars", layer)


def _deflated_zeros(gib: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``gib`` GiB of zeros, built from one flushed block repeated,
    and its CRC-32."""
    engine = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = engine.compress(bytes(_ZERO_BLOCK)) + engine.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    count = gib * _GIB // _ZERO_BLOCK
    crc = 0
    zero_block = bytes(_ZERO_BLOCK)
    for _ in range(count):
        crc = zlib.crc32(zero_block, crc)
    return block * count + final, crc


def _zip_with_raw_member(name: str, deflated: bytes, size: int, crc: int,
                         others: dict[str, bytes]) -> bytes:
    """A zip of ``others`` (stored) plus ``name`` whose deflate stream is given verbatim."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for other, data in others.items():
            archive.writestr(other, data)
    body = buffer.getvalue()
    directory_at, = struct.unpack_from("<I", body, len(body) - 6)
    files, directory = body[:directory_at], body[directory_at:len(body) - 22]
    encoded = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(deflated),
                        size, len(encoded), 0) + encoded
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                          len(deflated), size, len(encoded), 0, 0, 0, 0, 0o644 << 16,
                          len(files)) + encoded
    directory += central
    start = len(files) + len(local) + len(deflated)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(others) + 1, len(others) + 1,
                      len(directory), start, 0)
    return files + local + deflated + directory + end


def jar_zip_bomb(parent: Path, gib: int = 3) -> tuple[Path, str]:
    """``/app/bomb.jar`` (~3 MB) holding ``lib/inner.jar`` that inflates to ``gib`` GiB."""
    deflated, crc = _deflated_zeros(gib)
    jar = _zip_with_raw_member(
        "lib/inner.jar", deflated, gib * _GIB, crc,
        {"META-INF/maven/org.hostile/bomb/pom.properties": _pom_properties("bomb")})
    layer = LayerSpec([File("/app/bomb.jar", jar)])
    return _one_layer(parent, "jar_zip_bomb", layer)


def rpm_header_blob(entries: list[tuple[int, int, bytes, int]]) -> bytes:
    """An rpm database header blob of (tag, type, data, count); INT32 data is aligned."""
    index, data = b"", b""
    for tag, kind, value, count in entries:
        if kind == _RPM_INT32:
            data += bytes(-len(data) % 4)
        index += struct.pack(">IIiI", tag, kind, len(data), count)
        data += value
    return struct.pack(">II", len(entries), len(data)) + index + data


_RPM_INT32, _RPM_STRING, _RPM_STRING_ARRAY = 4, 6, 8
HUGE_ARRAY_ENTRIES = 30_000_000
SHARED_DIR_NAME = 1 << 20
SHARED_DIR_FILES = 100_000


def _rpm_package(name: str, *extra: tuple[int, int, bytes, int]) -> bytes:
    fields = [(1000, name), (1001, "1.0"), (1002, "1"), (1022, "x86_64")]
    return rpm_header_blob([(tag, _RPM_STRING, value.encode() + b"\0", 1)
                            for tag, value in fields] + list(extra))


def rpmdb_hostile_headers() -> list[bytes]:
    """Header blobs claiming far more than they hold, around two good ones:

    * index count and data length 0x7fffffff (a 72-byte blob);
    * 65,535 entries and 256 MiB (within rpm's own limits), 72 bytes;
    * BASENAMES as 30 million empty strings over 30 MB of zeros (240 MB of list pointers);
    * one 1 MiB directory name shared by 100,000 files (100 GB of paths if joined).
    """
    huge_claim = struct.pack(">II", 0x7FFFFFFF, 0x7FFFFFFF) + bytes(64)
    max_claim = struct.pack(">II", 0xFFFF, 0x0FFFFFFF) + bytes(64)
    huge_array = _rpm_package("huge-array", (1117, _RPM_STRING_ARRAY, bytes(HUGE_ARRAY_ENTRIES),
                                             HUGE_ARRAY_ENTRIES))
    shared_dir = _rpm_package(
        "shared-dir",
        (1117, _RPM_STRING_ARRAY, b"f\0" * SHARED_DIR_FILES, SHARED_DIR_FILES),
        (1118, _RPM_STRING_ARRAY, b"/" + b"d" * SHARED_DIR_NAME + b"/\0", 1),
        (1116, _RPM_INT32, bytes(4 * SHARED_DIR_FILES), SHARED_DIR_FILES))
    return [_rpm_package("good-before"), huge_claim, max_claim, huge_array, shared_dir,
            _rpm_package("good-after")]


def rpmdb_sqlite(blobs: list[bytes], scratch: Path, *, view: bool = False) -> bytes:
    """An rpm SQLite database holding ``blobs`` in table ``Packages``, built in ``scratch``;
    with ``view``, ``Packages`` is instead a recursive view yielding rows without end."""
    path = scratch / "rpmdb.sqlite"
    connection = sqlite3.connect(path)
    try:
        if view:
            connection.execute(
                "CREATE VIEW Packages AS WITH RECURSIVE n(hnum) AS (SELECT 1 UNION ALL "
                "SELECT hnum + 1 FROM n) SELECT hnum, zeroblob(1048576) AS blob FROM n")
        else:
            connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY "
                               "AUTOINCREMENT, blob BLOB NOT NULL)")
            connection.executemany("INSERT INTO Packages (blob) VALUES (?)",
                                   [(blob,) for blob in blobs])
        connection.commit()
    finally:
        connection.close()
    data = path.read_bytes()
    path.unlink()
    return data


def rpmdb_huge_header(parent: Path) -> tuple[Path, str]:
    """``/var/lib/rpm/rpmdb.sqlite`` with the headers of :func:`rpmdb_hostile_headers`, and
    ``/usr/lib/sysimage/rpm/rpmdb.sqlite`` whose ``Packages`` is an endless view."""
    parent.mkdir(parents=True, exist_ok=True)
    layer = LayerSpec([
        File("/var/lib/rpm/rpmdb.sqlite", rpmdb_sqlite(rpmdb_hostile_headers(), parent)),
        File("/usr/lib/sysimage/rpm/rpmdb.sqlite", rpmdb_sqlite([], parent, view=True)),
    ])
    return _one_layer(parent, "rpmdb_huge_header", layer)


def _replace_manifest(layout: Path, manifest: dict[str, Any]) -> None:
    """Store ``manifest`` and point the layout's only index entry at it."""
    data = canonical_json(manifest)
    digest = sha256_digest(data)
    (layout / "blobs/sha256" / digest.split(":")[1]).write_bytes(data)
    index = json.loads((layout / "index.json").read_bytes())
    old = index["manifests"][0]["digest"].split(":")[1]
    (layout / "blobs/sha256" / old).unlink()
    index["manifests"][0].update(digest=digest, size=len(data))
    (layout / "index.json").write_bytes(canonical_json(index))


def _manifest(layout: Path) -> dict[str, Any]:
    index = json.loads((layout / "index.json").read_bytes())
    digest = index["manifests"][0]["digest"].split(":")[1]
    manifest: dict[str, Any] = json.loads((layout / "blobs/sha256" / digest).read_bytes())
    return manifest


#: All builders by name, in the order of the module docstring.
HOSTILE_BUILDERS: dict[str, HostileBuilder] = {
    builder.__name__: builder
    for builder in (
        path_traversal,
        absolute_path,
        symlink_escape,
        hardlink_escape,
        symlink_loop,
        gzip_bomb,
        many_files,
        truncated_gzip,
        tampered_blob,
        missing_config,
        invalid_config_json,
        unknown_layer_media_type,
        schema1_manifest,
        diff_id_mismatch,
        zstd_bomb,
        truncated_zstd,
        half_million_files,
        deep_directories,
        long_file_names,
        device_files,
        many_layers,
        giant_history,
        long_history,
        nested_jars,
        jar_zip_bomb,
        rpmdb_huge_header,
    )
}
