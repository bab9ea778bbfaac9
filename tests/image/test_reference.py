"""Image references: schemes, auto-detection and Docker-style normalisation."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from hullscan.errors import ImageNotFoundError, InvalidReferenceError
from hullscan.image.reference import (
    SourceKind,
    detect_local_kind,
    parse_image_reference,
    parse_registry_reference,
)

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(("text", "expected"), [
    ("alpine", "docker.io/library/alpine:latest"),
    ("alpine:3.20", "docker.io/library/alpine:3.20"),
    ("library/alpine", "docker.io/library/alpine:latest"),
    ("index.docker.io/library/alpine:3", "docker.io/library/alpine:3"),
    ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
    ("ghcr.io/org/app:v1.2", "ghcr.io/org/app:v1.2"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("127.0.0.1:5000/team/app:1", "127.0.0.1:5000/team/app:1"),
    ("localhost/app", "localhost/app:latest"),
    (f"alpine@{DIGEST}", f"docker.io/library/alpine@{DIGEST}"),
    (f"quay.io/a/b:tag@{DIGEST}", f"quay.io/a/b:tag@{DIGEST}"),
    ("[::1]:5000/app:x", "[::1]:5000/app:x"),
])
def test_registry_references_normalise_like_docker(text: str, expected: str) -> None:
    assert str(parse_registry_reference(text)) == expected


def test_docker_hub_uses_its_api_host_and_pins_digests() -> None:
    ref = parse_registry_reference(f"alpine:3@{DIGEST}")
    assert ref.api_host == "registry-1.docker.io"
    assert ref.manifest_reference == DIGEST
    assert parse_registry_reference("localhost:5000/a").api_host == "localhost:5000"
    assert parse_registry_reference("a:1").manifest_reference == "1"


@pytest.mark.parametrize(("text", "reason"), [
    ("Foo/Bar", "lowercase"),
    ("alpine:bad tag", "invalid"),
    ("alpine@sha256:123", "invalid digest"),
    ("alpine:-x", "invalid tag"),
    ("a" * 300, "255"),
    ("", "empty"),
    ("-bad/name", "invalid"),
])
def test_invalid_registry_references_name_the_problem(text: str, reason: str) -> None:
    with pytest.raises(InvalidReferenceError, match=reason):
        parse_registry_reference(text)


def test_explicit_local_schemes_need_an_existing_path(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFoundError, match="no such file"):
        parse_image_reference(f"docker-archive:{tmp_path}/missing.tar")


def test_explicit_schemes(tmp_path: Path) -> None:
    archive = tmp_path / "img.tar"
    archive.write_bytes(b"")
    ref = parse_image_reference(f"docker-archive:{archive}:myrepo:1.0")
    assert (ref.kind, ref.path, ref.selector) == (SourceKind.DOCKER_ARCHIVE, archive, "myrepo:1.0")
    ref = parse_image_reference(f"oci-dir:{tmp_path}:v1")
    assert (ref.kind, ref.path, ref.selector) == (SourceKind.OCI_DIR, tmp_path, "v1")
    ref = parse_image_reference(f"oci-archive:{archive}")
    assert (ref.kind, ref.selector) == (SourceKind.OCI_ARCHIVE, None)
    assert parse_image_reference(f"dir:{tmp_path}").kind is SourceKind.DIRECTORY
    ref = parse_image_reference("registry:localhost:5000/app:2")
    assert ref.kind is SourceKind.REGISTRY and str(ref.registry) == "localhost:5000/app:2"


def test_registry_names_with_ports_are_not_schemes() -> None:
    ref = parse_image_reference("localhost:5000/app")
    assert ref.kind is SourceKind.REGISTRY and ref.registry is not None
    assert ref.registry.registry == "localhost:5000"


def _tar(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 2
            import io
            archive.addfile(info, io.BytesIO(b"{}"))
    return path


def test_auto_detection_of_local_sources(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    layout.mkdir()
    (layout / "oci-layout").write_text("{}")
    (layout / "index.json").write_text("{}")
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    docker = _tar(tmp_path / "d.tar", ["abc/layer.tar", "manifest.json"])
    oci = _tar(tmp_path / "o.tar", ["oci-layout", "index.json", "blobs/sha256/x"])
    assert detect_local_kind(layout) is SourceKind.OCI_DIR
    assert detect_local_kind(rootfs) is SourceKind.DIRECTORY
    assert detect_local_kind(docker) is SourceKind.DOCKER_ARCHIVE
    assert detect_local_kind(oci) is SourceKind.OCI_ARCHIVE
    assert parse_image_reference(f"{docker}:app:1").selector == "app:1"
    assert parse_image_reference(str(oci)).kind is SourceKind.OCI_ARCHIVE


def test_a_file_that_is_no_archive_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01not a tar" * 100)
    with pytest.raises(InvalidReferenceError, match=r"junk\.bin"):
        parse_image_reference(str(junk))
    other = _tar(tmp_path / "plain.tar", ["hello.txt"])
    with pytest.raises(InvalidReferenceError, match=r"neither manifest\.json"):
        parse_image_reference(str(other))


def test_json_files_are_sboms(tmp_path: Path) -> None:
    document = tmp_path / "image.cdx.json"
    document.write_text('{"components": [], "bomFormat": "CycloneDX"}')
    assert parse_image_reference(str(document)).kind is SourceKind.SBOM
    assert parse_image_reference(f"sbom:{document}").kind is SourceKind.SBOM
