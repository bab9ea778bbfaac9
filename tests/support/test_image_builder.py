"""Tests of the image builders, checked with independent readers (skopeo, tarfile, gzip)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zstandard

from tests.support import hostile
from tests.support.debian_base import (
    LAYER_EXCLUDE,
    DebianBase,
    DebootstrapError,
    _debootstrap,
    _mirror_from_deb822,
    _mirror_from_one_line,
)
from tests.support.image_builder import (
    ATTESTATION_DIGEST,
    ATTESTATION_TYPE,
    MT_DOCKER_SCHEMA1_SIGNED,
    MT_IN_TOTO,
    MT_OCI_INDEX,
    REF_NAME,
    Descriptor,
    Device,
    File,
    HardLink,
    History,
    ImageSpec,
    IndexSpec,
    LayerSpec,
    OpaqueWhiteout,
    Symlink,
    Tree,
    Whiteout,
    WrittenImage,
    WrittenIndex,
    sha256_file,
    skopeo,
    skopeo_inspect,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)
from tests.support.standard_images import (
    MULTI_IMAGE,
    BuiltImage,
    ImageFacts,
    ImageFormats,
    build_layout,
    debian_image_spec,
    multiplatform_index_spec,
    small_image_spec,
)

pytestmark = pytest.mark.skipif(shutil.which("skopeo") is None, reason="needs skopeo")


# --------------------------------------------------------------------------- independent readers


@dataclass(frozen=True)
class Node:
    """One path of a merged image filesystem."""

    layer: int
    info: tarfile.TarInfo
    data: bytes | None


def _blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.split(":", 1)[1]


def _json_blob(layout: Path, digest: str) -> Any:
    return json.loads(_blob(layout, digest).read_bytes())


def _decompressed(path: Path, media_type: str) -> io.BufferedIOBase | Any:
    if media_type.endswith("+gzip"):
        return gzip.open(path, "rb")
    if media_type.endswith("+zstd"):
        return zstandard.ZstdDecompressor().stream_reader(path.open("rb"))
    return path.open("rb")


def _members(
    layout: Path, layer: Mapping[str, Any], keep: set[str]
) -> Iterator[tuple[tarfile.TarInfo, bytes | None]]:
    """Stream a layer blob's members; read data only for absolute paths in ``keep``."""
    blob = _blob(layout, layer["digest"])
    with (
        _decompressed(blob, layer["mediaType"]) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        for info in tar:
            wanted = info.isreg() and "/" + info.name.rstrip("/") in keep
            data = tar.extractfile(info).read() if wanted else None  # type: ignore[union-attr]
            yield info, data


def _merge(
    layout: Path, manifest: Mapping[str, Any], keep: set[str]
) -> tuple[dict[str, Node], list[list[str]]]:
    """Apply the layers (with whiteouts) like a container runtime; return view and raw names."""
    view: dict[str, Node] = {}
    names: list[list[str]] = []
    for index, layer in enumerate(manifest["layers"]):
        members = list(_members(layout, layer, keep))
        names.append([info.name.rstrip("/") for info, _ in members])
        for info, _ in members:
            path = "/" + info.name.rstrip("/")
            parent, base = path.rsplit("/", 1)
            if base == ".wh..wh..opq":
                _drop(view, parent, keep_self=True)
            elif base.startswith(".wh."):
                _drop(view, f"{parent}/{base[4:]}", keep_self=False)
        for info, data in members:
            if not info.name.rstrip("/").rsplit("/", 1)[-1].startswith(".wh."):
                view["/" + info.name.rstrip("/")] = Node(index, info, data)
    return view, names


def _drop(view: dict[str, Node], path: str, keep_self: bool) -> None:
    for key in [k for k in view if k.startswith(path + "/") or (k == path and not keep_self)]:
        del view[key]


def _index_entry(layout: Path, ref: str) -> dict[str, Any]:
    index = json.loads((layout / "index.json").read_bytes())
    entries = [m for m in index["manifests"] if m.get("annotations", {}).get(REF_NAME) == ref]
    assert len(entries) == 1, index
    entry: dict[str, Any] = entries[0]
    return entry


def _layout_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _check_facts(layout: Path, facts: ImageFacts) -> None:
    """Check every fact of ``facts`` against the image's layers, read with tarfile."""
    manifest = _json_blob(layout, _index_entry(layout, facts.ref)["digest"])
    keep = set(facts.file_contents) | {"/usr/lib/os-release", "/etc/os-release"}
    keep |= {"/var/lib/dpkg/status", "/lib/apk/db/installed"}
    view, names = _merge(layout, manifest, keep)
    assert len(manifest["layers"]) == facts.layer_count
    assert tuple(layer["mediaType"] for layer in manifest["layers"]) == facts.layer_media_types
    for path in facts.present_paths:
        assert path in view, path
    for path, layer in facts.deleted_paths.items():
        assert path not in view, path
        assert any(path.lstrip("/") in names[lower] for lower in range(layer)), path
    for layer, raw_names in facts.whiteout_members.items():
        assert sorted(n for n in names[layer] if ".wh." in n) == sorted(raw_names)
    for path, layer in facts.last_writer.items():
        assert view[path].layer == layer, path
    for path, content in facts.file_contents.items():
        node = view[path]
        if node.info.islnk():
            node = view["/" + node.info.linkname]
        assert node.data == content, path
    for path, target in facts.symlinks.items():
        assert view[path].info.issym() and view[path].info.linkname == target, path
    for path, target in facts.hardlinks.items():
        assert view[path].info.islnk() and "/" + view[path].info.linkname == target, path
    for path in facts.executables:
        assert view[path].info.mode & 0o111, path
    for path, owner in facts.owners.items():
        assert (view[path].info.uid, view[path].info.gid) == owner, path
    os_release = next(
        view[p].data or b"" for p in ("/usr/lib/os-release", "/etc/os-release") if p in view
    )
    for key, value in facts.os_release.items():
        assert f"{key}={value}" in os_release.decode().replace('"', ""), key
    db = next(view[p].data for p in ("/var/lib/dpkg/status", "/lib/apk/db/installed") if p in view)
    assert db is not None
    packages = {
        line.split(":", 1)[1].strip()
        for line in db.decode().splitlines()
        if line.startswith(("Package:", "P:"))
    }
    assert set(facts.sample_packages) <= packages


def _check_config(config: Mapping[str, Any], facts: ImageFacts) -> None:
    runtime = config["config"]
    assert config["architecture"] == facts.architecture and config["os"] == facts.os
    assert runtime["User"] == facts.user
    assert tuple(runtime["Env"]) == facts.env
    assert tuple(runtime.get("ExposedPorts", {})) == facts.exposed_ports
    assert tuple(runtime.get("Entrypoint") or ()) == facts.entrypoint
    assert tuple(runtime["Cmd"]) == facts.cmd
    assert runtime["WorkingDir"] == facts.workdir
    assert runtime["Labels"] == dict(facts.labels)
    history = tuple((h["created_by"], h.get("empty_layer", False)) for h in config["history"])
    assert history == facts.history
    assert len(config["rootfs"]["diff_ids"]) == facts.layer_count


def _check_skopeo_layout(built: BuiltImage) -> None:
    written = built.written
    assert isinstance(written, WrittenImage)
    inspected = skopeo_inspect(f"oci:{built.layout}:{built.ref}")
    assert inspected["Digest"] == written.manifest.digest
    assert inspected["Layers"] == [layer.blob.digest for layer in written.layers]
    raw = skopeo("inspect", "--raw", f"oci:{built.layout}:{built.ref}").encode()
    assert hashlib.sha256(raw).hexdigest() == written.manifest.hex
    config = skopeo_inspect(f"oci:{built.layout}:{built.ref}", config=True)
    assert config["rootfs"]["diff_ids"] == [layer.diff_id for layer in written.layers]


# --------------------------------------------------------------------------- small image


def test_small_image_layout_read_by_skopeo(
    small_image: BuiltImage, small_image_facts: ImageFacts
) -> None:
    _check_skopeo_layout(small_image)
    _check_config(
        skopeo_inspect(f"oci:{small_image.layout}:{small_image.ref}", config=True),
        small_image_facts,
    )


def test_small_image_facts_hold(small_image_layout: Path, small_image_facts: ImageFacts) -> None:
    _check_facts(small_image_layout, small_image_facts)


def test_small_image_layout_structure(small_image_layout: Path) -> None:
    assert json.loads((small_image_layout / "oci-layout").read_bytes()) == {
        "imageLayoutVersion": "1.0.0"
    }
    index = json.loads((small_image_layout / "index.json").read_bytes())
    assert index["mediaType"] == MT_OCI_INDEX
    for blob in (small_image_layout / "blobs" / "sha256").iterdir():
        assert sha256_file(blob) == "sha256:" + blob.name
        assert blob.stat().st_mode & 0o777 == 0o644


def test_small_image_formats_read_by_skopeo(
    small_image_formats: ImageFormats, small_image: BuiltImage
) -> None:
    written = small_image.written
    assert isinstance(written, WrittenImage)
    diff_ids = [layer.diff_id for layer in written.layers]
    formats = small_image_formats
    for archive in (
        formats.docker_archive_legacy,
        formats.docker_archive_oci,
        formats.skopeo_docker_archive,
    ):
        inspected = skopeo_inspect(f"docker-archive:{archive}:{formats.docker_tag}")
        assert inspected["Layers"] == diff_ids, archive
        config = skopeo_inspect(f"docker-archive:{archive}:{formats.docker_tag}", config=True)
        assert config["rootfs"]["diff_ids"] == diff_ids
    inspected = skopeo_inspect(f"oci-archive:{formats.oci_archive}:{formats.ref}")
    assert inspected["Layers"] == [layer.blob.digest for layer in written.layers]


# --------------------------------------------------------------------------- several refs, archives


def _two_images() -> dict[str, ImageSpec]:
    small = small_image_spec()
    other = ImageSpec(
        layers=(
            small.layers[0],
            LayerSpec([File("/srv/other.txt", b"other\n")], created_by="COPY x"),
        ),
        env=("A=1",),
    )
    return {"small:1": small, "small:latest": small, "registry.test:5000/team/other:2.0": other}


@pytest.mark.parametrize("style", ["legacy", "oci"])
def test_docker_archive_read_by_skopeo(tmp_path: Path, style: str) -> None:
    images = _two_images()
    archive = tmp_path / "images.tar"
    result = write_docker_archive(archive, images, style=style)  # type: ignore[arg-type]
    assert result["small:1"] is result["small:latest"]
    for tag, image in result.items():
        inspected = skopeo_inspect(f"docker-archive:{archive}:{tag}")
        assert inspected["Layers"] == list(image.diff_ids), tag
        config_digest = (
            "sha256:"
            + hashlib.sha256(
                skopeo("inspect", "--config", "--raw", f"docker-archive:{archive}:{tag}").encode()
            ).hexdigest()
        )
        assert config_digest == image.config_digest
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        repositories = json.loads(tar.extractfile("repositories").read())  # type: ignore[union-attr]
        for entry in manifest:
            for layer_path in entry["Layers"]:
                data = tar.extractfile(layer_path).read()  # type: ignore[union-attr]
                assert (
                    "sha256:" + hashlib.sha256(data).hexdigest()
                    in result[entry["RepoTags"][0]].diff_ids
                )
    assert names == sorted(names)
    assert len(manifest) == 2
    assert sorted(entry["RepoTags"] for entry in manifest)[1] == ["small:1", "small:latest"]
    assert set(repositories) == {"small", "registry.test:5000/team/other"}
    assert set(repositories["small"]) == {"1", "latest"}
    if style == "legacy":
        assert all(
            n.count("/") == 0 or n.split("/")[1] in {"VERSION", "json", "layer.tar"} for n in names
        )
        assert any(n.endswith("/VERSION") for n in names)
        assert all(
            entry["Config"].endswith(".json") and "/" not in entry["Config"] for entry in manifest
        )
    else:
        assert {"oci-layout", "index.json"} <= set(names)
        assert all(entry["Config"].startswith("blobs/sha256/") for entry in manifest)
        assert all(p.startswith("blobs/sha256/") for entry in manifest for p in entry["Layers"])


def test_oci_layout_with_several_refs_and_oci_archive(tmp_path: Path) -> None:
    images: dict[str, ImageSpec | IndexSpec] = {**_two_images()}
    images[MULTI_IMAGE.ref] = multiplatform_index_spec()
    del images["registry.test:5000/team/other:2.0"]
    images["other:2.0"] = _two_images()["registry.test:5000/team/other:2.0"]
    written = write_oci_layout(tmp_path / "layout", images)
    archive = tmp_path / "images.oci.tar"
    write_oci_archive(archive, images)
    for ref, result in written.items():
        for source in (f"oci:{tmp_path / 'layout'}:{ref}", f"oci-archive:{archive}:{ref}"):
            inspected = skopeo_inspect(source)
            image = result.images[0] if isinstance(result, WrittenIndex) else result
            assert inspected["Layers"] == [layer.blob.digest for layer in image.layers], source
    assert written["small:1"] == written["small:latest"]


def test_skopeo_converters(
    small_image: BuiltImage, docker_archive_of: Any, oci_archive_of: Any
) -> None:
    written = small_image.written
    assert isinstance(written, WrittenImage)
    docker = docker_archive_of(small_image.layout, small_image.ref)
    assert docker_archive_of(small_image.layout, small_image.ref) == docker
    inspected = skopeo_inspect(f"docker-archive:{docker}:{small_image.ref}")
    assert inspected["Layers"] == [layer.diff_id for layer in written.layers]
    oci = oci_archive_of(small_image.layout, small_image.ref)
    inspected = skopeo_inspect(f"oci-archive:{oci}:{small_image.ref}")
    assert inspected["Layers"] == [layer.blob.digest for layer in written.layers]


# --------------------------------------------------------------------------- multi-platform


def test_multiplatform_index(multiplatform_image: BuiltImage) -> None:
    layout, ref, written = (
        multiplatform_image.layout,
        multiplatform_image.ref,
        multiplatform_image.written,
    )
    assert isinstance(written, WrittenIndex)
    entry = _index_entry(layout, ref)
    assert entry["mediaType"] == MT_OCI_INDEX
    index = json.loads(skopeo("inspect", "--raw", f"oci:{layout}:{ref}"))
    assert (
        hashlib.sha256(json.dumps(index, separators=(",", ":")).encode()).hexdigest()
        == written.index.hex
    )
    platforms = [m["platform"] for m in index["manifests"]]
    expected = [
        dict(zip(("os", "architecture", "variant"), p.split("/"), strict=False))
        for p in MULTI_IMAGE.platforms
    ]
    assert platforms[: len(expected)] == expected
    attestations = [m for m in index["manifests"] if m.get("annotations", {}).get(ATTESTATION_TYPE)]
    assert len(attestations) == MULTI_IMAGE.attestation_count
    for attestation, image in zip(attestations, written.images, strict=True):
        assert attestation["platform"] == {"architecture": "unknown", "os": "unknown"}
        assert attestation["annotations"] == {
            ATTESTATION_DIGEST: image.manifest.digest,
            ATTESTATION_TYPE: "attestation-manifest",
        }
        manifest = _json_blob(layout, attestation["digest"])
        assert manifest["layers"][0]["mediaType"] == MT_IN_TOTO
        statement = _json_blob(layout, manifest["layers"][0]["digest"])
        assert statement["subject"][0]["digest"]["sha256"] == image.manifest.hex
    overrides = {"linux/amd64": ["--override-arch", "amd64"]}
    overrides["linux/arm64/v8"] = ["--override-arch", "arm64", "--override-variant", "v8"]
    for platform, image in zip(MULTI_IMAGE.platforms, written.images, strict=True):
        inspected = json.loads(skopeo(*overrides[platform], "inspect", f"oci:{layout}:{ref}"))
        assert inspected["Layers"] == [layer.blob.digest for layer in image.layers]
        manifest = _json_blob(layout, image.manifest.digest)
        view, _ = _merge(layout, manifest, {"/etc/arch"})
        assert view["/etc/arch"].data == MULTI_IMAGE.arch_file[platform]
        assert len(manifest["layers"]) == MULTI_IMAGE.layer_count


# ------------------------------------------------------------------ determinism, validation


def test_same_spec_same_bytes(tmp_path: Path) -> None:
    for attempt in ("a", "b"):
        write_oci_layout(
            tmp_path / attempt,
            {"small:1": small_image_spec(), "multi:1": multiplatform_index_spec()},
        )
        write_docker_archive(tmp_path / f"{attempt}-legacy.tar", _two_images())
        write_docker_archive(tmp_path / f"{attempt}-oci.tar", _two_images(), style="oci")
        write_oci_archive(tmp_path / f"{attempt}.oci.tar", {"small:1": small_image_spec()})
    assert _layout_files(tmp_path / "a") == _layout_files(tmp_path / "b")
    for name in ("-legacy.tar", "-oci.tar", ".oci.tar"):
        assert sha256_file(tmp_path / f"a{name}") == sha256_file(tmp_path / f"b{name}"), name


def test_unsafe_paths_and_bad_history_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="RawLayer"):
        write_oci_layout(tmp_path / "x", {"x:1": ImageSpec(layers=(LayerSpec([File("../evil")]),))})
    spec = ImageSpec(
        layers=(LayerSpec([File("/a")]),), history=(History("ENV A=1", empty_layer=True),)
    )
    with pytest.raises(ValueError, match="history"):
        write_oci_layout(tmp_path / "y", {"y:1": spec})


def test_mirror_parsing() -> None:
    deb822 = (
        "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.invalid/debian-security\n"
        "Suites: bookworm-security\n"
    )
    assert _mirror_from_deb822(deb822, "bookworm") == "http://mirror.invalid/debian"
    assert _mirror_from_deb822(deb822, "trixie") is None
    legacy = "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.invalid/d bookworm main\n"
    assert _mirror_from_one_line(legacy, "bookworm") == "http://mirror.invalid/d"


# --------------------------------------------------------------------------- hostile images


@pytest.mark.parametrize(
    "name", sorted(set(hostile.HOSTILE_BUILDERS) - {"gzip_bomb", "many_files"})
)
def test_hostile_builders_write_layouts(tmp_path: Path, name: str) -> None:
    layout, ref = hostile.HOSTILE_BUILDERS[name](tmp_path)
    entry = _index_entry(layout, ref)
    assert (layout / "oci-layout").is_file()
    assert _blob(layout, entry["digest"]).is_file()


def _hostile_manifest(layout: Path, ref: str) -> dict[str, Any]:
    manifest: dict[str, Any] = _json_blob(layout, _index_entry(layout, ref)["digest"])
    return manifest


def _layer_names(layout: Path, ref: str) -> list[tuple[str, bytes, str]]:
    layer = _hostile_manifest(layout, ref)["layers"][0]
    return [(i.name, i.type, i.linkname) for i, _ in _members(layout, layer, set())]


def test_hostile_tar_entries(tmp_path: Path) -> None:
    names = _layer_names(*hostile.path_traversal(tmp_path))
    assert ("../../evil.txt", tarfile.REGTYPE, "") in names
    assert ("/etc/evil", tarfile.REGTYPE, "") in _layer_names(*hostile.absolute_path(tmp_path))
    names = _layer_names(*hostile.symlink_escape(tmp_path))
    assert ("etc/passwd", tarfile.SYMTYPE, "../../../../../host/etc/passwd") in names
    assert names[-2:] == [("link", tarfile.SYMTYPE, "/tmp"), ("link/pwned", tarfile.REGTYPE, "")]
    names = _layer_names(*hostile.hardlink_escape(tmp_path))
    assert ("evil", tarfile.LNKTYPE, "../../../etc/shadow") in names
    names = _layer_names(*hostile.symlink_loop(tmp_path))
    assert {
        ("a", tarfile.SYMTYPE, "b"),
        ("b", tarfile.SYMTYPE, "a"),
        ("loop", tarfile.SYMTYPE, "loop/x"),
    } <= set(names)


def test_hostile_gzip_bomb(tmp_path: Path) -> None:
    layout, ref = hostile.gzip_bomb(tmp_path, gib=1)
    layer = _hostile_manifest(layout, ref)["layers"][0]
    blob = _blob(layout, layer["digest"])
    assert sha256_file(blob) == layer["digest"] and blob.stat().st_size < 2 << 20
    total = 0
    with gzip.open(blob, "rb") as stream:
        header = tarfile.TarInfo.frombuf(stream.read(512), "utf-8", "surrogateescape")
        total = 512
        while chunk := stream.read(16 << 20):
            total += len(chunk)
    assert header.name == "bomb.bin" and header.size == 1 << 30
    assert total == 512 + (1 << 30) + 1024
    assert hostile.gzip_bomb_blob(4).__len__() < 5 << 20


@pytest.mark.slow
def test_hostile_many_files(tmp_path: Path) -> None:
    layout, ref = hostile.many_files(tmp_path)
    layer = _hostile_manifest(layout, ref)["layers"][0]
    config = _json_blob(layout, _hostile_manifest(layout, ref)["config"]["digest"])
    files = dirs = 0
    digest = hashlib.sha256()
    with gzip.open(_blob(layout, layer["digest"]), "rb") as stream:
        data = stream.read()
    digest.update(data)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for info in tar:
            files += info.isreg()
            dirs += info.isdir()
    assert (files, dirs) == (200_000, 200)
    assert config["rootfs"]["diff_ids"] == ["sha256:" + digest.hexdigest()]


def test_hostile_blob_defects(tmp_path: Path) -> None:
    layout, ref = hostile.truncated_gzip(tmp_path)
    layer = _hostile_manifest(layout, ref)["layers"][0]
    assert sha256_file(_blob(layout, layer["digest"])) == layer["digest"]
    with pytest.raises(EOFError), gzip.open(_blob(layout, layer["digest"])) as stream:
        stream.read()

    layout, ref = hostile.tampered_blob(tmp_path)
    layer = _hostile_manifest(layout, ref)["layers"][0]
    assert sha256_file(_blob(layout, layer["digest"])) != layer["digest"]

    layout, ref = hostile.diff_id_mismatch(tmp_path)
    manifest = _hostile_manifest(layout, ref)
    layer, config = manifest["layers"][0], _json_blob(layout, manifest["config"]["digest"])
    assert sha256_file(_blob(layout, layer["digest"])) == layer["digest"]
    with gzip.open(_blob(layout, layer["digest"])) as stream:
        actual = "sha256:" + hashlib.sha256(stream.read()).hexdigest()
    assert config["rootfs"]["diff_ids"] != [actual]


def test_hostile_manifest_defects(tmp_path: Path) -> None:
    layout, ref = hostile.missing_config(tmp_path)
    assert not _blob(layout, _hostile_manifest(layout, ref)["config"]["digest"]).exists()
    with pytest.raises(Exception, match="no such file"):
        skopeo_inspect(f"oci:{layout}:{ref}")

    layout, ref = hostile.invalid_config_json(tmp_path)
    config = _hostile_manifest(layout, ref)["config"]
    assert sha256_file(_blob(layout, config["digest"])) == config["digest"]
    with pytest.raises(json.JSONDecodeError):
        _json_blob(layout, config["digest"])

    layout, ref = hostile.unknown_layer_media_type(tmp_path)
    assert (
        _hostile_manifest(layout, ref)["layers"][0]["mediaType"]
        == "application/vnd.example.unknown.layer"
    )

    layout, ref = hostile.schema1_manifest(tmp_path)
    assert _index_entry(layout, ref)["mediaType"] == MT_DOCKER_SCHEMA1_SIGNED
    manifest = _hostile_manifest(layout, ref)
    assert (
        manifest["schemaVersion"] == 1
        and _blob(layout, manifest["fsLayers"][0]["blobSum"]).is_file()
    )


# --------------------------------------------------------------------------- Debian (slow)


@pytest.mark.slow
def test_debian_base_layer_tar(debian_base_image: DebianBase) -> None:
    base = debian_base_image
    assert sha256_file(base.layer_tar) == base.diff_id
    assert base.layer_tar.stat().st_size == base.tar_size
    assert (base.rootfs / "etc" / "debian_version").read_text().startswith("12.")
    kinds: dict[str, tarfile.TarInfo] = {}
    mtimes = set()
    with tarfile.open(base.layer_tar) as tar:
        for info in tar:
            kinds[info.name] = info
            mtimes.add(info.mtime)
            assert info.uname == "" and info.gname == "", info.name
    names = list(kinds)
    assert names == sorted(names, key=lambda n: n.split("/"))
    assert kinds["dev/null"].ischr() and (
        kinds["dev/null"].devmajor,
        kinds["dev/null"].devminor,
    ) == (1, 3)
    assert kinds["bin"].issym() and kinds["bin"].linkname == "usr/bin"
    assert any(info.islnk() for info in kinds.values())
    assert kinds["usr/bin/bash"].mode & 0o111 and len(mtimes) > 1
    assert not any(n.endswith(".deb") for n in names)
    assert not any(n.startswith("var/lib/apt/lists/") and "_" in n for n in names)
    assert LAYER_EXCLUDE[0] not in names


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("debootstrap"), reason="needs root")
def test_failing_debootstrap_raises_with_log_tail(tmp_path: Path) -> None:
    with pytest.raises(DebootstrapError, match=r"(?s)log tail.*Failed getting release file"):
        _debootstrap(tmp_path / "rootfs", "http://127.0.0.1:9/debian", tmp_path / "log")
    assert not (tmp_path / "rootfs.partial").exists() and not (tmp_path / "rootfs").exists()


@pytest.mark.slow
def test_debian_image_read_by_skopeo(
    debian_image: BuiltImage, debian_image_facts: ImageFacts
) -> None:
    _check_skopeo_layout(debian_image)
    config = skopeo_inspect(f"oci:{debian_image.layout}:{debian_image.ref}", config=True)
    _check_config(config, debian_image_facts)


@pytest.mark.slow
def test_debian_image_facts_hold(debian_image_layout: Path, debian_image_facts: ImageFacts) -> None:
    _check_facts(debian_image_layout, debian_image_facts)


@pytest.mark.slow
def test_debian_image_is_deterministic(
    debian_image: BuiltImage, debian_base_image: DebianBase, tmp_path: Path
) -> None:
    again = build_layout(tmp_path / "again", debian_image.ref, debian_image_spec(debian_base_image))
    assert again.written == debian_image.written


@pytest.mark.slow
def test_debian_image_formats(debian_image_formats: ImageFormats, debian_image: BuiltImage) -> None:
    written = debian_image.written
    assert isinstance(written, WrittenImage)
    diff_ids = [layer.diff_id for layer in written.layers]
    formats = debian_image_formats
    for archive in (
        formats.docker_archive_legacy,
        formats.docker_archive_oci,
        formats.skopeo_docker_archive,
    ):
        assert (
            skopeo_inspect(f"docker-archive:{archive}:{formats.docker_tag}")["Layers"] == diff_ids
        )
    inspected = skopeo_inspect(f"oci-archive:{formats.oci_archive}:{formats.ref}")
    assert inspected["Layers"] == [layer.blob.digest for layer in written.layers]


def test_descriptor_json() -> None:
    descriptor = Descriptor("application/x", "sha256:" + "a" * 64, 3)
    assert descriptor.to_json(annotations={}) == {
        "mediaType": "application/x",
        "digest": descriptor.digest,
        "size": 3,
    }
    assert descriptor.hex == "a" * 64


def test_layer_entries_and_tree(tmp_path: Path) -> None:
    source = tmp_path / "tree"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "file.txt").write_bytes(b"data")
    os.link(source / "sub" / "file.txt", source / "sub" / "again.txt")
    (source / "sub" / "link").symlink_to("file.txt")
    os.mkfifo(source / "pipe")
    os.chown(source / "sub" / "file.txt", 1234, 5678)
    spec = LayerSpec(
        [
            File("/a/b/file", b"x", mode=0o4755, uid=7, gid=8),
            Symlink("/a/link", "../etc/passwd"),
            HardLink("/a/hard", "/a/b/file"),
            Device("/dev/null", "char", 1, 3),
            Whiteout("/gone"),
            OpaqueWhiteout("/a/opaque"),
            Tree(source, "/srv/tree"),
        ],
        compression="none",
    )
    written = write_oci_layout(tmp_path / "layout", {"t:1": ImageSpec(layers=(spec,))})["t:1"]
    assert isinstance(written, WrittenImage)
    blob = _blob(tmp_path / "layout", written.layers[0].blob.digest)
    assert written.layers[0].diff_id == written.layers[0].blob.digest
    with tarfile.open(blob) as tar:
        members = {info.name: info for info in tar}
    assert list(members)[:3] == ["a", "a/b", "a/b/file"]
    assert members["a/b/file"].mode == 0o4755 and members["a/b/file"].uid == 7
    assert members["a/link"].linkname == "../etc/passwd"
    assert members["a/hard"].islnk() and members["a/hard"].linkname == "a/b/file"
    assert members["dev/null"].ischr() and members["dev/null"].devminor == 3
    assert members[".wh.gone"].isreg() and members["a/opaque/.wh..wh..opq"].isreg()
    assert members["srv/tree"].isdir() and members["srv/tree/pipe"].isfifo()
    assert (members["srv/tree/sub/file.txt"].uid, members["srv/tree/sub/file.txt"].gid) == (
        1234,
        5678,
    )
    assert members["srv/tree/sub/file.txt"].uname == ""
    assert members["srv/tree/sub/again.txt"].isreg()  # first in sorted order holds the data
    assert members["srv/tree/sub/file.txt"].islnk()
    assert members["srv/tree/sub/file.txt"].linkname == "srv/tree/sub/again.txt"
    assert members["srv/tree/sub/link"].issym()
    assert {info.mtime for name, info in members.items() if not name.startswith("srv")} == {
        1_700_000_000
    }
