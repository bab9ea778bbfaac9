"""One real image read from every local source: same identity, same layers, same files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullscan.errors import ImageNotFoundError
from hullscan.image.acquire import ImageContents, open_image, read_image
from hullscan.image.distro import detect_distro
from hullscan.image.layer import FileKind
from hullscan.image.manifest import Platform
from hullscan.image.model import ImageMetadata
from hullscan.image.sources.interface import AcquireOptions
from tests.support.standard_images import ImageFacts, ImageFormats


def _references(formats: ImageFormats) -> dict[str, str]:
    return {
        "oci-dir": f"oci-dir:{formats.oci_layout}:{formats.ref}",
        "oci-archive": f"oci-archive:{formats.oci_archive}:{formats.ref}",
        "docker-legacy": f"docker-archive:{formats.docker_archive_legacy}:{formats.docker_tag}",
        "docker-oci": f"docker-archive:{formats.docker_archive_oci}:{formats.docker_tag}",
        "skopeo-docker": f"{formats.skopeo_docker_archive}:{formats.docker_tag}",
    }


def _read(reference: str, facts: ImageFacts) -> tuple[ImageMetadata, ImageContents]:
    wanted = {p.lstrip("/") for p in (*facts.file_contents, "/etc/os-release",
                                       "/usr/lib/os-release")}
    with open_image(reference) as source:
        return source.metadata, read_image(source, wanted.__contains__)


@pytest.fixture(scope="module")
def debian_reads(debian_image_formats: ImageFormats, debian_image_facts: ImageFacts
                 ) -> dict[str, tuple[ImageMetadata, ImageContents]]:
    return {kind: _read(reference, debian_image_facts)
            for kind, reference in _references(debian_image_formats).items()}


def test_every_source_gives_the_same_image(
        debian_reads: dict[str, tuple[ImageMetadata, ImageContents]],
        debian_image_facts: ImageFacts) -> None:
    reference_meta, _ = debian_reads["oci-dir"]
    assert len(reference_meta.layers) == debian_image_facts.layer_count
    for kind, (metadata, contents) in debian_reads.items():
        assert metadata.image_id == reference_meta.image_id, kind
        assert [layer.diff_id for layer in metadata.layers] == \
            [layer.diff_id for layer in reference_meta.layers], kind
        assert [layer.created_by for layer in metadata.layers] == \
            [c for c, empty in debian_image_facts.history if not empty], kind
        assert len(contents.filesystem) == len(debian_reads["oci-dir"][1].filesystem), kind
    # OCI sources know the manifest digest; Docker 25+ archives carry their own manifest
    # (of uncompressed layers, so another digest); legacy docker save tars carry none.
    assert debian_reads["oci-archive"][0].manifest_digest == reference_meta.manifest_digest
    assert debian_reads["docker-oci"][0].manifest_digest not in (
        None, reference_meta.manifest_digest)
    assert debian_reads["docker-legacy"][0].manifest_digest is None


def test_config_highlights(debian_reads: dict[str, tuple[ImageMetadata, ImageContents]],
                           debian_image_facts: ImageFacts) -> None:
    metadata, _ = debian_reads["docker-legacy"]
    config = metadata.config
    assert config is not None
    assert config.user == debian_image_facts.user
    assert config.env == debian_image_facts.env
    assert config.exposed_ports == debian_image_facts.exposed_ports
    assert config.entrypoint == debian_image_facts.entrypoint
    assert config.cmd == debian_image_facts.cmd
    assert config.labels == dict(debian_image_facts.labels)
    assert metadata.platform == Platform("linux", debian_image_facts.architecture)


def test_squashed_view_honours_whiteouts_and_attributes_layers(
        debian_reads: dict[str, tuple[ImageMetadata, ImageContents]],
        debian_image_facts: ImageFacts) -> None:
    for kind, (_, contents) in debian_reads.items():
        fs = contents.filesystem
        for path in debian_image_facts.present_paths:
            assert fs.exists(path), (kind, path)
        for path in debian_image_facts.deleted_paths:
            assert not fs.exists(path), (kind, path)
        for path, layer in debian_image_facts.last_writer.items():
            assert fs.layer_of(path) == layer, (kind, path)
        for path, data in debian_image_facts.file_contents.items():
            assert fs.read(path) == data, (kind, path)
        for path, target in debian_image_facts.symlinks.items():
            entry = fs.entry(path)
            assert entry is not None and entry.kind is FileKind.SYMLINK, (kind, path)
            assert entry.link_target == target
        for path, (uid, gid) in debian_image_facts.owners.items():
            entry = fs.entry(path)
            assert entry is not None and (entry.uid, entry.gid) == (uid, gid), (kind, path)
        deleting_layers = {index for index in debian_image_facts.deleted_paths.values()}
        for index in deleting_layers:
            assert contents.layers[index].whiteouts or contents.layers[index].opaque_dirs


def test_distro_is_detected_through_the_os_release_symlink(
        debian_reads: dict[str, tuple[ImageMetadata, ImageContents]],
        debian_image_facts: ImageFacts) -> None:
    distro = detect_distro(debian_reads["oci-dir"][1].filesystem)
    assert distro is not None
    assert distro.id == debian_image_facts.os_release["ID"]
    assert distro.version_id == debian_image_facts.os_release["VERSION_ID"]
    assert distro.codename == debian_image_facts.os_release["VERSION_CODENAME"]


def test_a_root_filesystem_directory(debian_base_image: object) -> None:
    rootfs: Path = debian_base_image.rootfs  # type: ignore[attr-defined]
    with open_image(f"dir:{rootfs}") as source:
        contents = read_image(source, {"etc/os-release", "usr/lib/os-release"}.__contains__)
    distro = detect_distro(contents.filesystem)
    assert distro is not None and distro.id == "debian"
    assert contents.filesystem.exists("usr/bin/bash")
    assert contents.filesystem.resolve("bin/bash") == "usr/bin/bash"


def test_multi_platform_layout_picks_each_platform(multiplatform_layout: Path,
                                                   multiplatform_facts: object) -> None:
    facts = multiplatform_facts
    for platform in facts.platforms:  # type: ignore[attr-defined]
        options = AcquireOptions(platform=Platform.parse(platform), platform_explicit=True)
        with open_image(f"oci-dir:{multiplatform_layout}:{facts.ref}", options) as source:  # type: ignore[attr-defined]
            contents = read_image(source, {"etc/arch"}.__contains__)
            assert source.metadata.index_digest is not None
            assert source.metadata.platform is not None
            assert source.metadata.platform.matches(Platform.parse(platform))
        assert contents.filesystem.read("etc/arch") == facts.arch_file[platform]  # type: ignore[attr-defined]
    options = AcquireOptions(platform=Platform.parse("linux/s390x"), platform_explicit=True)
    with pytest.raises(ImageNotFoundError, match="no manifest for platform linux/s390x"), \
            open_image(f"oci-dir:{multiplatform_layout}:{facts.ref}", options):  # type: ignore[attr-defined]
        pass


def test_selecting_an_unknown_tag_lists_what_is_there(debian_image_formats: ImageFormats) -> None:
    with pytest.raises(ImageNotFoundError, match=r"no image tagged 'nope:1'.*debian"), \
            open_image(f"docker-archive:{debian_image_formats.docker_archive_legacy}:nope:1"):
        pass
    with pytest.raises(ImageNotFoundError, match="no image named 'nope'"), \
            open_image(f"oci-dir:{debian_image_formats.oci_layout}:nope"):
        pass


def test_a_docker_archive_layer_changed_after_its_config_is_refused(tmp_path: Path) -> None:
    import io
    import tarfile

    from hullscan.errors import HullscanError
    from tests.support.image_builder import File, ImageSpec, LayerSpec, write_docker_archive

    spec = ImageSpec([LayerSpec([File("/etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n")]),
                      LayerSpec([File("/app/run.sh", b"#!/bin/sh\necho hello\n")])])
    original = tmp_path / "original.tar"
    write_docker_archive(original, {"app:1": spec})
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(original) as source, tarfile.open(tampered, "w") as target:
        for member in source.getmembers():
            handle = source.extractfile(member) if member.isfile() else None
            data = handle.read() if handle is not None else None
            if data is not None and b"echo hello" in data:  # the second layer's tar
                data = data.replace(b"echo hello", b"echo HELLO")
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    with pytest.raises(HullscanError) as refused, \
            open_image(f"docker-archive:{tampered}") as image:
        read_image(image, lambda path: False)
    message = str(refused.value)
    assert f"docker-archive:{tampered}: layer 1: uncompressed content is sha256:" in message
    assert "diff ID" in message and "(None)" not in message
