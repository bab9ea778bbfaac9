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
============================  ==================================================================
"""

from __future__ import annotations

import json
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.image_builder import (
    MT_DOCKER_SCHEMA1_SIGNED,
    MT_OCI_LAYER_GZIP,
    BlobLayer,
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


def many_files_tar(count: int = 200_000, per_dir: int = 1000) -> bytes:
    """An uncompressed tar of ``count`` tiny files, ``per_dir`` per directory."""
    blocks = []
    for index in range(count):
        if index % per_dir == 0:
            blocks.append(_ustar_header(b"many/d%04d/" % (index // per_dir), 0, b"5", 0o755))
        content = b"%d\n" % index
        blocks.append(_ustar_header(b"many/d%04d/f%07d" % (index // per_dir, index), len(content)))
        blocks.append(content.ljust(tarfile.BLOCKSIZE, b"\0"))
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
    )
}
