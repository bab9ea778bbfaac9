"""pytest plugin: session-scoped test images (see :mod:`tests.support.standard_images`).

Fixtures:

* ``debian_base_image``    -> :class:`DebianBase` (debootstrap, cached across runs)
* ``debian_image``         -> :class:`BuiltImage` for ``debian-test:1``
* ``debian_image_layout``  -> OCI layout path holding ``debian-test:1``
* ``debian_image_facts``   -> :data:`DEBIAN_IMAGE` facts
* ``debian_image_formats`` -> :class:`ImageFormats` (oci-archive, docker archives) of it
* ``small_image`` / ``small_image_layout`` / ``small_image_facts`` / ``small_image_formats``
* ``multiplatform_image`` / ``multiplatform_layout`` / ``multiplatform_facts``
* ``docker_archive_of(layout, ref)`` / ``oci_archive_of(layout, ref)`` -> skopeo conversions
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.debian_base import DebianBase, DebootstrapUnavailableError, debian_base
from tests.support.image_builder import skopeo_docker_archive, skopeo_oci_archive
from tests.support.standard_images import (
    DEBIAN_IMAGE,
    MULTI_IMAGE,
    SMALL_IMAGE,
    BuiltImage,
    ImageFacts,
    ImageFormats,
    MultiPlatformFacts,
    build_formats,
    build_layout,
    debian_image_spec,
    multiplatform_index_spec,
    small_image_spec,
)
from tests.support.unavailable import unavailable

Converter = Callable[[Path, str], Path]


@pytest.fixture(scope="session")
def image_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session directory for written images."""
    return tmp_path_factory.mktemp("images")


@pytest.fixture(scope="session")
def debian_base_image() -> DebianBase:
    """The debootstrap Debian bookworm base (built once, cached under ``.test-cache``)."""
    try:
        return debian_base()
    except DebootstrapUnavailableError as error:
        unavailable(f"Debian base unavailable: {error}")


@pytest.fixture(scope="session")
def debian_image(image_workdir: Path, debian_base_image: DebianBase) -> BuiltImage:
    """``debian-test:1`` written as an OCI layout."""
    spec = debian_image_spec(debian_base_image)
    return build_layout(image_workdir / "debian-layout", DEBIAN_IMAGE.ref, spec)


@pytest.fixture(scope="session")
def debian_image_layout(debian_image: BuiltImage) -> Path:
    """Path of the OCI layout holding ``debian-test:1``."""
    return debian_image.layout


@pytest.fixture(scope="session")
def debian_image_facts() -> ImageFacts:
    """Expected facts of ``debian-test:1``."""
    return DEBIAN_IMAGE


@pytest.fixture(scope="session")
def debian_image_formats(
    image_workdir: Path, debian_image: BuiltImage, debian_base_image: DebianBase
) -> ImageFormats:
    """``debian-test:1`` as oci-archive, legacy/OCI-style docker archives, skopeo archive."""
    spec = debian_image_spec(debian_base_image)
    return build_formats(debian_image, spec, image_workdir / "debian-formats")


@pytest.fixture(scope="session")
def small_image(image_workdir: Path) -> BuiltImage:
    """``small:1`` written as an OCI layout."""
    return build_layout(image_workdir / "small-layout", SMALL_IMAGE.ref, small_image_spec())


@pytest.fixture(scope="session")
def small_image_layout(small_image: BuiltImage) -> Path:
    """Path of the OCI layout holding ``small:1``."""
    return small_image.layout


@pytest.fixture(scope="session")
def small_image_facts() -> ImageFacts:
    """Expected facts of ``small:1``."""
    return SMALL_IMAGE


@pytest.fixture(scope="session")
def small_image_formats(image_workdir: Path, small_image: BuiltImage) -> ImageFormats:
    """``small:1`` in every format."""
    return build_formats(small_image, small_image_spec(), image_workdir / "small-formats")


@pytest.fixture(scope="session")
def multiplatform_image(image_workdir: Path) -> BuiltImage:
    """``multi:1`` (amd64 + arm64/v8 + attestations) written as an OCI layout."""
    spec = multiplatform_index_spec()
    return build_layout(image_workdir / "multi-layout", MULTI_IMAGE.ref, spec)


@pytest.fixture(scope="session")
def multiplatform_layout(multiplatform_image: BuiltImage) -> Path:
    """Path of the OCI layout holding the ``multi:1`` index."""
    return multiplatform_image.layout


@pytest.fixture(scope="session")
def multiplatform_facts() -> MultiPlatformFacts:
    """Expected facts of ``multi:1``."""
    return MULTI_IMAGE


def _memoized(workdir: Path, convert: Callable[[Path, str, Path], Path], suffix: str) -> Converter:
    done: dict[tuple[Path, str], Path] = {}

    def converter(layout: Path, ref: str) -> Path:
        key = (layout.resolve(), ref)
        if key not in done:
            name = f"{len(done)}-{ref.replace(':', '_').replace('/', '_')}{suffix}"
            done[key] = convert(layout, ref, workdir / name)
        return done[key]

    return converter


@pytest.fixture(scope="session")
def docker_archive_of(image_workdir: Path) -> Converter:
    """``docker_archive_of(layout, ref)``: skopeo-made docker-archive tagged ``ref`` (cached)."""
    workdir = image_workdir / "skopeo-docker"
    workdir.mkdir(exist_ok=True)
    return _memoized(workdir, skopeo_docker_archive, ".docker.tar")


@pytest.fixture(scope="session")
def oci_archive_of(image_workdir: Path) -> Converter:
    """``oci_archive_of(layout, ref)``: skopeo-made oci-archive with ref ``ref`` (cached)."""
    workdir = image_workdir / "skopeo-oci"
    workdir.mkdir(exist_ok=True)
    return _memoized(workdir, skopeo_oci_archive, ".oci.tar")
