"""Build container images as plain files for tests: OCI layouts, OCI archives, docker-save tars.

Describe an image with :class:`ImageSpec` (a list of layers plus config), each layer a
:class:`LayerSpec` of entries (:class:`File`, :class:`Directory`, :class:`Symlink`,
:class:`HardLink`, :class:`Device`, :class:`Whiteout`, :class:`OpaqueWhiteout`, :class:`Tree`),
or an escape hatch (:class:`RawLayer` prebuilt tar, :class:`BlobLayer` verbatim blob).
Then write it:

* :func:`write_oci_layout`   OCI image layout directory, several refs, images or indexes
* :func:`write_oci_archive`  the same, as a tar
* :func:`write_docker_archive` ``docker save`` tar, ``style="legacy"`` (Docker <= 24) or
  ``style="oci"`` (Docker 25+)
* :func:`skopeo_docker_archive`, :func:`skopeo_oci_archive` convert with the real skopeo

All output is deterministic: fixed mtimes, fixed timestamps, stable ordering, so the same
spec always yields the same digests.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import IO, Any, Literal, Protocol

import zstandard

Compression = Literal["gzip", "zstd", "none"]
DockerArchiveStyle = Literal["legacy", "oci"]

OCI_LAYOUT_VERSION = "1.0.0"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_OCI_LAYER_GZIP = MT_OCI_LAYER + "+gzip"
MT_OCI_LAYER_ZSTD = MT_OCI_LAYER + "+zstd"
MT_IN_TOTO = "application/vnd.in-toto+json"
MT_DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
LAYER_MEDIA_TYPES: Mapping[Compression, str] = {
    "none": MT_OCI_LAYER,
    "gzip": MT_OCI_LAYER_GZIP,
    "zstd": MT_OCI_LAYER_ZSTD,
}
REF_NAME = "org.opencontainers.image.ref.name"
ATTESTATION_TYPE = "vnd.docker.reference.type"
ATTESTATION_DIGEST = "vnd.docker.reference.digest"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v0.2"

FIXED_MTIME = 1_700_000_000
FIXED_CREATED = "2023-11-14T22:13:20Z"  # == FIXED_MTIME
GZIP_LEVEL = 6
ZSTD_LEVEL = 3
_CHUNK = 1 << 20
_SPOOL_MAX = 32 << 20
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


# --------------------------------------------------------------------------- layer entries


@dataclass(frozen=True)
class File:
    """A regular file."""

    path: str
    content: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Directory:
    """A directory."""

    path: str
    mode: int = 0o755
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Symlink:
    """A symbolic link ``path -> target`` (target stored verbatim)."""

    path: str
    target: str
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class HardLink:
    """A tar hard link: ``path`` shares the content of the earlier member ``target``."""

    path: str
    target: str


@dataclass(frozen=True)
class Device:
    """A character/block device or FIFO node."""

    path: str
    kind: Literal["char", "block", "fifo"] = "char"
    major: int = 0
    minor: int = 0
    mode: int = 0o666


@dataclass(frozen=True)
class Whiteout:
    """Delete ``path`` of a lower layer (written as ``DIR/.wh.NAME``)."""

    path: str


@dataclass(frozen=True)
class OpaqueWhiteout:
    """Hide all lower-layer content of directory ``path`` (``DIR/.wh..wh..opq``)."""

    path: str


@dataclass(frozen=True)
class Tree:
    """A directory tree from disk, placed at ``dest`` (keeps owners, links, devices, mtimes).

    ``exclude`` holds glob patterns matched against paths relative to ``source``.
    """

    source: Path
    dest: str = ""
    exclude: tuple[str, ...] = ()


Entry = File | Directory | Symlink | HardLink | Device | Whiteout | OpaqueWhiteout | Tree


# --------------------------------------------------------------------------- layers and images


@dataclass(frozen=True)
class LayerSpec:
    """A layer built from entries. Missing parent directories are added (root, 0755)."""

    entries: Sequence[Entry]
    created_by: str = ""
    compression: Compression = "gzip"
    mtime: int = FIXED_MTIME
    implicit_parents: bool = True


@dataclass(frozen=True)
class RawLayer:
    """A prebuilt uncompressed tar (bytes or a file path), compressed as asked."""

    tar: bytes | Path
    created_by: str = ""
    compression: Compression = "gzip"
    level: int | None = None


@dataclass(frozen=True)
class BlobLayer:
    """A layer blob written verbatim with the stated media type and diff ID; nothing checked."""

    blob: bytes | Path
    media_type: str
    diff_id: str
    created_by: str = ""


Layer = LayerSpec | RawLayer | BlobLayer


@dataclass(frozen=True)
class History:
    """One config history entry; ``empty_layer`` ones (ENV, CMD, ...) have no layer."""

    created_by: str = ""
    empty_layer: bool = False
    comment: str = ""
    created: str = FIXED_CREATED


@dataclass(frozen=True)
class ImageSpec:
    """One platform image: layers, runtime config and history.

    ``history=None`` derives one entry per layer from ``created_by``. Otherwise its
    non-empty entries pair with the layers in order (an empty ``created_by`` takes the
    layer's). ``raw_config`` replaces the generated config blob verbatim (hostile tests).
    """

    layers: Sequence[Layer]
    architecture: str = "amd64"
    os: str = "linux"
    variant: str | None = None
    user: str | None = None
    env: Sequence[str] = ()
    exposed_ports: Sequence[str] = ()
    entrypoint: Sequence[str] | None = None
    cmd: Sequence[str] | None = None
    workdir: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    history: Sequence[History] | None = None
    created: str = FIXED_CREATED
    annotations: Mapping[str, str] = field(default_factory=dict)
    raw_config: bytes | None = None


@dataclass(frozen=True)
class IndexSpec:
    """A multi-platform image index; ``attestations`` adds BuildKit-style provenance manifests."""

    images: Sequence[ImageSpec]
    attestations: bool = True
    annotations: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- written results


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int

    def to_json(self, **extra: Any) -> dict[str, Any]:
        """Return the JSON form, with extra keys (``annotations``, ``platform``) if given."""
        doc: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        doc.update({key: value for key, value in extra.items() if value})
        return doc

    @property
    def hex(self) -> str:
        """The digest without its ``sha256:`` prefix."""
        return self.digest.split(":", 1)[1]


@dataclass(frozen=True)
class WrittenLayer:
    """A written layer blob and the diff ID recorded for it in the config."""

    blob: Descriptor
    diff_id: str


@dataclass(frozen=True)
class WrittenImage:
    """A written image manifest with its config and layers."""

    manifest: Descriptor
    config: Descriptor
    layers: tuple[WrittenLayer, ...]
    platform: Mapping[str, str]


@dataclass(frozen=True)
class WrittenIndex:
    """A written image index with its platform images and attestation manifests."""

    index: Descriptor
    images: tuple[WrittenImage, ...]
    attestations: tuple[WrittenImage, ...]


Written = WrittenImage | WrittenIndex


@dataclass(frozen=True)
class DockerArchiveImage:
    """One image of a docker-save archive: image ID (config digest), tags, layer paths."""

    config_digest: str
    repo_tags: tuple[str, ...]
    layer_paths: tuple[str, ...]
    diff_ids: tuple[str, ...]


# --------------------------------------------------------------------------- small helpers


def sha256_digest(data: bytes) -> str:
    """Return ``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Return ``sha256:<hex>`` of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def canonical_json(doc: Any) -> bytes:
    """Serialize JSON compactly and deterministically."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def host_architecture() -> str:
    """Return the host CPU as an OCI architecture name."""
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


def member_name(path: str) -> str:
    """Normalize a layer path to a tar member name (``/opt/a/`` -> ``opt/a``).

    Raises ValueError for names that would escape the root; use :class:`RawLayer` for those.
    """
    name = posixpath.normpath("/" + path.strip()).lstrip("/")
    if not name or name == "." or ".." in path.split("/"):
        raise ValueError(f"unsafe or empty layer path {path!r}; use RawLayer for hostile names")
    return name


# --------------------------------------------------------------------------- tar writing


def _tarinfo(
    name: str, kind: bytes, *, mode: int, uid: int, gid: int, mtime: int
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.uname = info.gname = ""
    info.mtime = mtime
    return info


class _LayerTarWriter:
    """Writes entries to a tar stream, adding missing parent directories."""

    def __init__(self, tar: tarfile.TarFile, mtime: int, implicit_parents: bool) -> None:
        self.tar = tar
        self.mtime = mtime
        self.implicit_parents = implicit_parents
        self.written: set[str] = set()

    def add(self, entry: Entry) -> None:
        if isinstance(entry, Tree):
            self._add_tree(entry)
            return
        name, info, data = self._member(entry)
        self._parents(name)
        self._emit(info, data)

    def _member(self, entry: Entry) -> tuple[str, tarfile.TarInfo, bytes | None]:
        mtime = self.mtime
        if isinstance(entry, File):
            name = member_name(entry.path)
            info = _tarinfo(
                name, tarfile.REGTYPE, mode=entry.mode, uid=entry.uid, gid=entry.gid, mtime=mtime
            )
            info.size = len(entry.content)
            return name, info, entry.content
        if isinstance(entry, Directory):
            name = member_name(entry.path)
            info = _tarinfo(
                name, tarfile.DIRTYPE, mode=entry.mode, uid=entry.uid, gid=entry.gid, mtime=mtime
            )
            return name, info, None
        if isinstance(entry, Symlink):
            name = member_name(entry.path)
            info = _tarinfo(
                name, tarfile.SYMTYPE, mode=0o777, uid=entry.uid, gid=entry.gid, mtime=mtime
            )
            info.linkname = entry.target
            return name, info, None
        if isinstance(entry, HardLink):
            name = member_name(entry.path)
            info = _tarinfo(name, tarfile.LNKTYPE, mode=0o644, uid=0, gid=0, mtime=mtime)
            info.linkname = member_name(entry.target)
            return name, info, None
        if isinstance(entry, Device):
            name = member_name(entry.path)
            kind = {"char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE}
            info = _tarinfo(name, kind[entry.kind], mode=entry.mode, uid=0, gid=0, mtime=mtime)
            info.devmajor, info.devminor = entry.major, entry.minor
            return name, info, None
        if isinstance(entry, Whiteout):
            target = member_name(entry.path)
            parent, base = posixpath.split(target)
            name = posixpath.join(parent, WHITEOUT_PREFIX + base)
        elif isinstance(entry, OpaqueWhiteout):
            name = posixpath.join(member_name(entry.path), OPAQUE_MARKER)
        else:
            raise TypeError(f"unexpected entry {entry!r}")
        info = _tarinfo(name, tarfile.REGTYPE, mode=0o644, uid=0, gid=0, mtime=mtime)
        return name, info, b""

    def _parents(self, name: str) -> None:
        if not self.implicit_parents:
            return
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            parent = "/".join(parts[:depth])
            if parent not in self.written:
                info = _tarinfo(parent, tarfile.DIRTYPE, mode=0o755, uid=0, gid=0, mtime=self.mtime)
                self._emit(info, None)

    def _emit(self, info: tarfile.TarInfo, data: bytes | None) -> None:
        self.written.add(info.name.rstrip("/"))
        self.tar.addfile(info, io.BytesIO(data) if data is not None else None)

    def _add_tree(self, tree: Tree) -> None:
        prefix = member_name(tree.dest) if tree.dest.strip("/") else ""
        if prefix:
            self._parents(prefix)
        for info in add_tree(self.tar, tree.source, prefix, tree.exclude):
            self.written.add(info.name.rstrip("/"))


def _walk_sorted(root: Path, exclude: Sequence[str], rel: str = "") -> Iterator[tuple[Path, str]]:
    """Yield (path, relative name) in pre-order, children sorted by name, skipping excluded."""
    with os.scandir(root) as scan:
        children = sorted(scan, key=lambda item: item.name)
    for child in children:
        child_rel = f"{rel}/{child.name}" if rel else child.name
        if any(fnmatch(child_rel, pattern) for pattern in exclude):
            continue
        yield Path(child.path), child_rel
        if child.is_dir(follow_symlinks=False):
            yield from _walk_sorted(Path(child.path), exclude, child_rel)


def add_tree(
    tar: tarfile.TarFile, source: Path, prefix: str = "", exclude: Sequence[str] = ()
) -> Iterator[tarfile.TarInfo]:
    """Add the tree under ``source`` to ``tar`` below ``prefix``; yield each added member.

    Numeric owners only, mtimes from disk (whole seconds), symlinks as symlinks, device
    nodes as device members, repeated inodes as hard links. Sockets are skipped.
    """
    entries: Iterable[tuple[Path, str]] = _walk_sorted(source, exclude)
    if prefix:
        entries = [(source, ""), *entries]
    for path, rel in entries:
        name = "/".join(part for part in (prefix, rel) if part)
        info = tar.gettarinfo(str(path), arcname=name)
        if info is None:
            continue
        info.uname = info.gname = ""
        info.mtime = int(info.mtime)
        if info.isreg():
            with path.open("rb") as handle:
                tar.addfile(info, handle)
        else:
            tar.addfile(info)
        yield info


def write_tree_tar(source: Path, dest: Path, exclude: Sequence[str] = ()) -> None:
    """Write the tree under ``source`` as an uncompressed layer tar at ``dest``."""
    with (
        dest.open("wb") as handle,
        tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for _ in add_tree(tar, source, "", exclude):
            pass


def write_layer_tar(spec: LayerSpec, out: IO[bytes]) -> None:
    """Write the uncompressed tar of ``spec`` to ``out``."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        writer = _LayerTarWriter(tar, spec.mtime, spec.implicit_parents)
        for entry in spec.entries:
            writer.add(entry)


def layer_tar_bytes(spec: LayerSpec) -> bytes:
    """Return the uncompressed tar of ``spec``."""
    buffer = io.BytesIO()
    write_layer_tar(spec, buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class RawMember:
    """A tar member given literally (any name, type, link target) for hostile layers."""

    name: str
    content: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""
    mode: int = 0o644


def raw_tar(members: Iterable[RawMember], mtime: int = FIXED_MTIME) -> bytes:
    """Return a tar holding ``members`` exactly as given (no normalization, no parents)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            info = _tarinfo(member.name, member.type, mode=member.mode, uid=0, gid=0, mtime=mtime)
            info.linkname = member.linkname
            data = member.content if member.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else None
            info.size = len(data) if data is not None else 0
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


@contextmanager
def open_layer_tar(layer: LayerSpec | RawLayer) -> Iterator[IO[bytes]]:
    """Open the uncompressed tar of a layer for reading."""
    if isinstance(layer, RawLayer):
        if isinstance(layer.tar, Path):
            with layer.tar.open("rb") as handle:
                yield handle
        else:
            yield io.BytesIO(layer.tar)
        return
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX) as spool:
        write_layer_tar(layer, spool)
        spool.seek(0)
        yield spool


# --------------------------------------------------------------------------- compression


class _Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...

    def flush(self) -> bytes: ...


class _Identity:
    def compress(self, data: bytes, /) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


def compressor(compression: Compression, level: int | None = None) -> _Compressor:
    """Return a streaming compressor; gzip output has a fixed header (mtime 0, no name)."""
    if compression == "gzip":
        return zlib.compressobj(GZIP_LEVEL if level is None else level, zlib.DEFLATED, 31)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL if level is None else level).compressobj()
    return _Identity()


def compress_bytes(data: bytes, compression: Compression, level: int | None = None) -> bytes:
    """Compress ``data`` in one go."""
    engine = compressor(compression, level)
    return engine.compress(data) + engine.flush()


# --------------------------------------------------------------------------- config, manifests


def _history(spec: ImageSpec) -> list[History]:
    if spec.history is None:
        return [History(created_by=layer.created_by) for layer in spec.layers]
    layered = [entry for entry in spec.history if not entry.empty_layer]
    if len(layered) != len(spec.layers):
        raise ValueError(f"{len(layered)} non-empty history entries for {len(spec.layers)} layers")
    layers = iter(spec.layers)
    result = []
    for entry in spec.history:
        if not entry.empty_layer:
            layer = next(layers)
            if not entry.created_by:
                entry = History(layer.created_by, False, entry.comment, entry.created)
        result.append(entry)
    return result


def platform_of(spec: ImageSpec) -> dict[str, str]:
    """Return the OCI platform object of an image."""
    doc = {"architecture": spec.architecture, "os": spec.os}
    if spec.variant:
        doc["variant"] = spec.variant
    return doc


def image_config(spec: ImageSpec, diff_ids: Sequence[str]) -> dict[str, Any]:
    """Return the image config JSON document (OCI / Docker shape)."""
    runtime: dict[str, Any] = {}
    if spec.user is not None:
        runtime["User"] = spec.user
    if spec.exposed_ports:
        runtime["ExposedPorts"] = {port: {} for port in spec.exposed_ports}
    if spec.env:
        runtime["Env"] = list(spec.env)
    if spec.entrypoint is not None:
        runtime["Entrypoint"] = list(spec.entrypoint)
    if spec.cmd is not None:
        runtime["Cmd"] = list(spec.cmd)
    if spec.workdir is not None:
        runtime["WorkingDir"] = spec.workdir
    if spec.labels:
        runtime["Labels"] = dict(spec.labels)
    history = []
    for entry in _history(spec):
        item: dict[str, Any] = {"created": entry.created, "created_by": entry.created_by}
        if entry.comment:
            item["comment"] = entry.comment
        if entry.empty_layer:
            item["empty_layer"] = True
        history.append(item)
    return {
        "created": spec.created,
        **platform_of(spec),
        "config": runtime,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": history,
    }


def image_manifest(
    config: Descriptor, layers: Sequence[Descriptor], annotations: Mapping[str, str]
) -> dict[str, Any]:
    """Return an OCI image manifest document."""
    return {
        "schemaVersion": 2,
        "mediaType": MT_OCI_MANIFEST,
        "config": config.to_json(),
        "layers": [layer.to_json() for layer in layers],
        **({"annotations": dict(annotations)} if annotations else {}),
    }


def provenance_statement(subject: Descriptor, platform: Mapping[str, str]) -> dict[str, Any]:
    """Return a minimal BuildKit-like SLSA provenance in-toto statement for ``subject``."""
    plat = "/".join(platform[key] for key in ("os", "architecture", "variant") if key in platform)
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": SLSA_PROVENANCE,
        "subject": [{"name": f"_:{plat}", "digest": {"sha256": subject.hex}}],
        "predicate": {
            "builder": {"id": ""},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "metadata": {"buildInvocationID": "hullscan-test", "buildStartedOn": FIXED_CREATED},
        },
    }


# --------------------------------------------------------------------------- OCI layout


class OciLayoutWriter:
    """Low-level writer of an OCI image layout; use as a context manager.

    ``index.json`` is written on close from the :meth:`tag` calls, in call order.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs" / "sha256"
        self.blobs.mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_bytes(
            canonical_json({"imageLayoutVersion": OCI_LAYOUT_VERSION})
        )
        self.refs: list[dict[str, Any]] = []
        self._layers: dict[int, tuple[Layer, WrittenLayer]] = {}

    def __enter__(self) -> OciLayoutWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()

    def close(self) -> None:
        """Write ``index.json``."""
        index = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": self.refs}
        (self.root / "index.json").write_bytes(canonical_json(index))

    def blob_path(self, digest: str) -> Path:
        """Return the path of a blob by digest."""
        return self.blobs / digest.split(":", 1)[1]

    def tag(self, ref: str | None, descriptor: Descriptor, **extra: Any) -> None:
        """List ``descriptor`` in ``index.json``, named ``ref`` (None: no ref annotation)."""
        annotations = dict(extra.pop("annotations", {}))
        if ref is not None:
            annotations[REF_NAME] = ref
        self.refs.append(descriptor.to_json(annotations=annotations, **extra))

    def put_bytes(self, data: bytes, media_type: str) -> Descriptor:
        """Store a blob."""
        descriptor = Descriptor(media_type, sha256_digest(data), len(data))
        path = self.blob_path(descriptor.digest)
        if not path.exists():
            path.write_bytes(data)
        return descriptor

    def put_json(self, doc: Any, media_type: str) -> Descriptor:
        """Store a JSON blob."""
        return self.put_bytes(canonical_json(doc), media_type)

    def put_layer(self, layer: Layer) -> WrittenLayer:
        """Store a layer blob (once per layer object) and return its descriptor and diff ID."""
        cached = self._layers.get(id(layer))
        if cached is not None and cached[0] is layer:
            return cached[1]
        if isinstance(layer, BlobLayer):
            if isinstance(layer.blob, Path):
                with layer.blob.open("rb") as handle:
                    blob = self._put_stream(iter(lambda: handle.read(_CHUNK), b""), _Identity())
            else:
                blob = self._put_stream([layer.blob], _Identity())
            written = WrittenLayer(Descriptor(layer.media_type, blob[0], blob[1]), layer.diff_id)
        else:
            level = layer.level if isinstance(layer, RawLayer) else None
            with open_layer_tar(layer) as tar:
                digest, size, diff_id = self._put_stream(
                    iter(lambda: tar.read(_CHUNK), b""), compressor(layer.compression, level)
                )
            media_type = LAYER_MEDIA_TYPES[layer.compression]
            written = WrittenLayer(Descriptor(media_type, digest, size), diff_id)
        self._layers[id(layer)] = (layer, written)
        return written

    def _put_stream(self, chunks: Iterable[bytes], engine: _Compressor) -> tuple[str, int, str]:
        """Compress ``chunks`` into a blob; return (blob digest, blob size, diff ID)."""
        blob_hash, diff_hash, size = hashlib.sha256(), hashlib.sha256(), 0
        with tempfile.NamedTemporaryFile(dir=self.blobs, prefix=".tmp-", delete=False) as out:
            try:
                for chunk in chunks:
                    diff_hash.update(chunk)
                    size += _write_hashed(out, blob_hash, engine.compress(chunk))
                size += _write_hashed(out, blob_hash, engine.flush())
            except BaseException:
                Path(out.name).unlink()
                raise
        digest = "sha256:" + blob_hash.hexdigest()
        Path(out.name).chmod(0o644)
        Path(out.name).replace(self.blob_path(digest))
        return digest, size, "sha256:" + diff_hash.hexdigest()

    def put_image(self, spec: ImageSpec) -> WrittenImage:
        """Store layers, config and manifest of one image."""
        layers = tuple(self.put_layer(layer) for layer in spec.layers)
        if spec.raw_config is not None:
            config = self.put_bytes(spec.raw_config, MT_OCI_CONFIG)
        else:
            doc = image_config(spec, [layer.diff_id for layer in layers])
            config = self.put_json(doc, MT_OCI_CONFIG)
        manifest_doc = image_manifest(config, [layer.blob for layer in layers], spec.annotations)
        manifest = self.put_json(manifest_doc, MT_OCI_MANIFEST)
        return WrittenImage(manifest, config, layers, platform_of(spec))

    def put_attestation(self, subject: WrittenImage) -> WrittenImage:
        """Store a BuildKit-style provenance attestation manifest for ``subject``."""
        statement = self.put_json(
            provenance_statement(subject.manifest, subject.platform), MT_IN_TOTO
        )
        unknown = {"architecture": "unknown", "os": "unknown"}
        config_doc = {
            **unknown,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [statement.digest]},
        }
        config = self.put_json(config_doc, MT_OCI_CONFIG)
        manifest_doc = image_manifest(config, [statement], {})
        manifest_doc["layers"][0]["annotations"] = {"in-toto.io/predicate-type": SLSA_PROVENANCE}
        manifest = self.put_json(manifest_doc, MT_OCI_MANIFEST)
        return WrittenImage(manifest, config, (WrittenLayer(statement, statement.digest),), unknown)

    def put_index(self, spec: IndexSpec) -> WrittenIndex:
        """Store the platform images, their attestations and the index."""
        images = tuple(self.put_image(image) for image in spec.images)
        attestations = (
            tuple(self.put_attestation(image) for image in images) if spec.attestations else ()
        )
        entries = [image.manifest.to_json(platform=dict(image.platform)) for image in images]
        for subject, attestation in zip(images, attestations, strict=False):
            annotations = {
                ATTESTATION_DIGEST: subject.manifest.digest,
                ATTESTATION_TYPE: "attestation-manifest",
            }
            entries.append(
                attestation.manifest.to_json(
                    annotations=annotations, platform=dict(attestation.platform)
                )
            )
        doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": entries}
        if spec.annotations:
            doc["annotations"] = dict(spec.annotations)
        return WrittenIndex(self.put_json(doc, MT_OCI_INDEX), images, attestations)

    def put(self, ref: str, spec: ImageSpec | IndexSpec) -> Written:
        """Store an image or index and tag it ``ref``."""
        written = self.put_index(spec) if isinstance(spec, IndexSpec) else self.put_image(spec)
        self.tag(ref, written.index if isinstance(written, WrittenIndex) else written.manifest)
        return written


def _write_hashed(out: IO[bytes], digest: Any, data: bytes) -> int:
    if data:
        digest.update(data)
        out.write(data)
    return len(data)


def write_oci_layout(root: Path, images: Mapping[str, ImageSpec | IndexSpec]) -> dict[str, Written]:
    """Write an OCI image layout at ``root`` (created; must not hold a layout yet).

    ``images`` maps ref names (``org.opencontainers.image.ref.name``) to images or indexes.
    Layer objects shared between images are compressed once.
    """
    if (root / "index.json").exists():
        raise FileExistsError(f"{root} already holds an OCI layout")
    with OciLayoutWriter(root) as writer:
        return {ref: writer.put(ref, spec) for ref, spec in images.items()}


# --------------------------------------------------------------------------- archives


@dataclass(frozen=True)
class _Member:
    name: str
    data: bytes | Path | None  # None: directory


def _write_archive(dest: Path, members: Iterable[_Member]) -> None:
    """Write an outer archive tar with sorted members, fixed mtimes and root owners."""
    with (
        dest.open("wb") as handle,
        tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for member in sorted(members, key=lambda item: item.name):
            if member.data is None:
                tar.addfile(
                    _tarinfo(
                        member.name, tarfile.DIRTYPE, mode=0o755, uid=0, gid=0, mtime=FIXED_MTIME
                    )
                )
                continue
            info = _tarinfo(
                member.name, tarfile.REGTYPE, mode=0o644, uid=0, gid=0, mtime=FIXED_MTIME
            )
            if isinstance(member.data, Path):
                info.size = member.data.stat().st_size
                with member.data.open("rb") as source:
                    tar.addfile(info, source)
            else:
                info.size = len(member.data)
                tar.addfile(info, io.BytesIO(member.data))


def tar_directory(source: Path, dest: Path) -> None:
    """Tar a directory (e.g. an OCI layout) deterministically: sorted, fixed mtimes."""
    members = []
    for path, rel in _walk_sorted(source, ()):
        members.append(_Member(rel, None if path.is_dir() else path))
    _write_archive(dest, members)


def write_oci_archive(
    path: Path, images: Mapping[str, ImageSpec | IndexSpec]
) -> dict[str, Written]:
    """Write an ``oci-archive``: a tar of an OCI layout."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".oci-archive-") as scratch:
        written = write_oci_layout(Path(scratch) / "layout", images)
        tar_directory(Path(scratch) / "layout", path)
    return written


def split_tag(tag: str) -> tuple[str, str]:
    """Split ``name[:tag]`` into (name, tag); the tag defaults to ``latest``."""
    name, sep, version = tag.rpartition(":")
    if not sep or "/" in version:
        return tag, "latest"
    return name, version


@dataclass(frozen=True)
class _Materialized:
    path: Path
    diff_id: str


def _materialize(layer: Layer, scratch: Path, cache: dict[int, _Materialized]) -> _Materialized:
    """Return an uncompressed tar file of ``layer`` (the original file for RawLayer paths)."""
    if id(layer) in cache:
        return cache[id(layer)]
    if isinstance(layer, BlobLayer):
        raise TypeError("docker archives need uncompressed layers; BlobLayer is not supported")
    if isinstance(layer, RawLayer) and isinstance(layer.tar, Path):
        result = _Materialized(layer.tar, sha256_file(layer.tar))
    else:
        out = scratch / f"layer-{len(cache)}.tar"
        with open_layer_tar(layer) as tar, out.open("wb") as handle:
            shutil.copyfileobj(tar, handle, _CHUNK)
        result = _Materialized(out, sha256_file(out))
    cache[id(layer)] = result
    return result


def write_docker_archive(
    path: Path, images: Mapping[str, ImageSpec], style: DockerArchiveStyle = "legacy"
) -> dict[str, DockerArchiveImage]:
    """Write a ``docker save`` archive holding several tagged images (layers uncompressed).

    ``style="legacy"`` is Docker <= 24 (``<id>/layer.tar``, ``<id>/json``, ``<id>/VERSION``,
    ``<config-hex>.json``); ``style="oci"`` is Docker 25+ (an OCI layout whose blobs are the
    uncompressed layers, plus ``manifest.json``). Both carry ``manifest.json`` and
    ``repositories``. Identical images under several tags share one manifest entry.
    """
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".docker-archive-") as scratch:
        cache: dict[int, _Materialized] = {}
        grouped: dict[str, tuple[bytes, list[_Materialized], list[str]]] = {}
        for tag, spec in images.items():
            layers = [_materialize(layer, Path(scratch), cache) for layer in spec.layers]
            config = spec.raw_config or canonical_json(
                image_config(spec, [m.diff_id for m in layers])
            )
            entry = grouped.setdefault(sha256_digest(config), (config, layers, []))
            entry[2].append(tag)
        build = _legacy_members if style == "legacy" else _oci_style_members
        members, result = build(grouped)
        _write_archive(path, members)
    return result


_Grouped = Mapping[str, tuple[bytes, list[_Materialized], list[str]]]


def _repositories(result: Mapping[str, DockerArchiveImage], tops: Mapping[str, str]) -> bytes:
    repositories: dict[str, dict[str, str]] = {}
    for image in result.values():
        for tag in image.repo_tags:
            name, version = split_tag(tag)
            repositories.setdefault(name, {})[version] = tops[image.config_digest]
    return canonical_json(repositories)


def _legacy_members(grouped: _Grouped) -> tuple[list[_Member], dict[str, DockerArchiveImage]]:
    members: dict[str, _Member] = {}
    manifest, result, tops = [], {}, {}
    for config_digest, (config, layers, tags) in grouped.items():
        config_name = config_digest.split(":", 1)[1] + ".json"
        members[config_name] = _Member(config_name, config)
        parent, paths = "", []
        for layer in layers:
            layer_id = hashlib.sha256(f"{parent} {layer.diff_id}".encode()).hexdigest()
            v1 = {"id": layer_id, "created": FIXED_CREATED, "container_config": {}, "os": "linux"}
            if parent:
                v1["parent"] = parent
            members[layer_id] = _Member(layer_id, None)
            members[f"{layer_id}/VERSION"] = _Member(f"{layer_id}/VERSION", b"1.0")
            members[f"{layer_id}/json"] = _Member(f"{layer_id}/json", canonical_json(v1))
            members[f"{layer_id}/layer.tar"] = _Member(f"{layer_id}/layer.tar", layer.path)
            paths.append(f"{layer_id}/layer.tar")
            parent = layer_id
        tops[config_digest] = parent
        manifest.append({"Config": config_name, "RepoTags": tags, "Layers": paths})
        image = DockerArchiveImage(
            config_digest, tuple(tags), tuple(paths), tuple(m.diff_id for m in layers)
        )
        result.update(dict.fromkeys(tags, image))
    members["manifest.json"] = _Member("manifest.json", canonical_json(manifest))
    members["repositories"] = _Member("repositories", _repositories(result, tops))
    return list(members.values()), result


def _oci_style_members(grouped: _Grouped) -> tuple[list[_Member], dict[str, DockerArchiveImage]]:
    members: dict[str, _Member] = {
        "blobs": _Member("blobs", None),
        "blobs/sha256": _Member("blobs/sha256", None),
        "oci-layout": _Member(
            "oci-layout", canonical_json({"imageLayoutVersion": OCI_LAYOUT_VERSION})
        ),
    }
    manifest, index_entries, result, tops = [], [], {}, {}
    for config_digest, (config, layers, tags) in grouped.items():
        config_desc = Descriptor(MT_OCI_CONFIG, config_digest, len(config))
        members[f"blobs/sha256/{config_desc.hex}"] = _Member(
            f"blobs/sha256/{config_desc.hex}", config
        )
        layer_descs = []
        for layer in layers:
            desc = Descriptor(MT_OCI_LAYER, layer.diff_id, layer.path.stat().st_size)
            members[f"blobs/sha256/{desc.hex}"] = _Member(f"blobs/sha256/{desc.hex}", layer.path)
            layer_descs.append(desc)
        manifest_bytes = canonical_json(image_manifest(config_desc, layer_descs, {}))
        manifest_desc = Descriptor(
            MT_OCI_MANIFEST, sha256_digest(manifest_bytes), len(manifest_bytes)
        )
        members[f"blobs/sha256/{manifest_desc.hex}"] = _Member(
            f"blobs/sha256/{manifest_desc.hex}", manifest_bytes
        )
        for tag in tags:
            # Docker writes the fully qualified name here; tests only need the tag as given.
            annotations = {"io.containerd.image.name": tag, REF_NAME: split_tag(tag)[1]}
            index_entries.append(manifest_desc.to_json(annotations=annotations))
        paths = tuple(f"blobs/sha256/{desc.hex}" for desc in layer_descs)
        manifest.append(
            {"Config": f"blobs/sha256/{config_desc.hex}", "RepoTags": tags, "Layers": list(paths)}
        )
        tops[config_digest] = layer_descs[-1].hex if layer_descs else ""
        image = DockerArchiveImage(
            config_digest, tuple(tags), paths, tuple(m.diff_id for m in layers)
        )
        result.update(dict.fromkeys(tags, image))
    index = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": index_entries}
    members["index.json"] = _Member("index.json", canonical_json(index))
    members["manifest.json"] = _Member("manifest.json", canonical_json(manifest))
    members["repositories"] = _Member("repositories", _repositories(result, tops))
    return list(members.values()), result


# --------------------------------------------------------------------------- skopeo


class SkopeoError(RuntimeError):
    """skopeo exited non-zero; the message carries its stderr."""


def skopeo(*args: str, timeout: float = 600) -> str:
    """Run ``skopeo --insecure-policy ARGS``; return stdout or raise :class:`SkopeoError`."""
    command = ["skopeo", "--insecure-policy", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise SkopeoError(
            f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()}"
        )
    return result.stdout


def skopeo_inspect(image: str, raw: bool = False, config: bool = False) -> Any:
    """Return the JSON of ``skopeo inspect [--raw|--config] IMAGE`` (e.g. ``oci:DIR:REF``)."""
    flags = (["--raw"] if raw else []) + (["--config"] if config else [])
    return json.loads(skopeo("inspect", *flags, image))


def skopeo_docker_archive(layout: Path, ref: str, dest: Path, tag: str | None = None) -> Path:
    """Convert ``oci:LAYOUT:REF`` to a docker-archive at ``dest`` tagged ``tag`` (default ref).

    skopeo 1.9 refuses zstd layers for docker destinations ("zstd compression is not
    supported for docker images"), so such images first go through an OCI copy that
    recompresses to gzip (``--dest-compress-format gzip``).
    """
    dest.unlink(missing_ok=True)
    target = f"docker-archive:{dest}:{tag or ref}"
    try:
        skopeo("copy", f"oci:{layout}:{ref}", target)
    except SkopeoError as error:
        if "zstd compression is not supported" not in str(error):
            raise
        dest.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".gzip-") as scratch:
            skopeo(
                "copy",
                "--dest-compress-format",
                "gzip",
                f"oci:{layout}:{ref}",
                f"oci:{scratch}:{ref}",
            )
            skopeo("copy", f"oci:{scratch}:{ref}", target)
    return dest


def skopeo_oci_archive(layout: Path, ref: str, dest: Path, dest_ref: str | None = None) -> Path:
    """Convert ``oci:LAYOUT:REF`` to an oci-archive at ``dest`` with ref ``dest_ref``."""
    dest.unlink(missing_ok=True)
    skopeo("copy", f"oci:{layout}:{ref}", f"oci-archive:{dest}:{dest_ref or ref}")
    return dest
