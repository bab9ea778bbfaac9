"""Open an image from any source and read its layers: the entry point of the pipeline."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hullscan.errors import HullscanError
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import LayerContents, LayerVisitor, as_visitor
from hullscan.image.limits import ReadBudget
from hullscan.image.reference import ImageReference, SourceKind, parse_image_reference
from hullscan.image.sources.docker_archive import DockerArchiveSource
from hullscan.image.sources.interface import AcquireOptions, ImageSource
from hullscan.image.sources.oci_layout import OciLayoutSource
from hullscan.image.sources.registry import RegistrySource
from hullscan.image.sources.rootfs import RootFilesystemSource

SourceOpener = Callable[[ImageReference, Path, AcquireOptions], ImageSource]

SOURCES: dict[SourceKind, SourceOpener] = {
    SourceKind.REGISTRY: RegistrySource,
    SourceKind.DOCKER_ARCHIVE: DockerArchiveSource,
    SourceKind.OCI_DIR: OciLayoutSource,
    SourceKind.OCI_ARCHIVE: OciLayoutSource,
    SourceKind.DIRECTORY: RootFilesystemSource,
}
"""Which class opens which kind of source."""


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A private temporary directory (under ``HULLSCAN_TMPDIR`` or ``TMPDIR``), removed after.

    The only place acquisition writes: downloaded blobs land here and nowhere else.
    """
    base = os.environ.get("HULLSCAN_TMPDIR") or None
    path = Path(tempfile.mkdtemp(prefix="hullscan-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def open_image(text: str, options: AcquireOptions | None = None) -> Iterator[ImageSource]:
    """Parse ``text``, open the image it names and close it afterwards."""
    options = options or AcquireOptions()
    reference = parse_image_reference(text)
    if reference.kind not in SOURCES:
        raise HullscanError(f"is an {reference.kind} source, not an image", subject=text)
    with workspace() as workdir:
        try:
            source = SOURCES[reference.kind](reference, workdir, options)
        except HullscanError as error:
            raise error.with_subject(text) from None
        try:
            yield source
        finally:
            source.close()


@dataclass(frozen=True)
class ImageContents:
    """All layers of an image read once, and the squashed view over them."""

    layers: tuple[LayerContents, ...]
    filesystem: SquashedFilesystem


def read_layers(source: ImageSource, wanted: LayerVisitor | Callable[[str], bool]
                ) -> tuple[LayerContents, ...]:
    """Read every layer once, in order; ``wanted`` is a visitor, or a path predicate naming
    the files whose contents to keep."""
    visitor = as_visitor(wanted)
    budget = ReadBudget(source.options.limits, subject=source.metadata.reference)
    return tuple(source.read_layer(layer, visitor=visitor, budget=budget)
                 for layer in source.metadata.layers)


def read_image(source: ImageSource,
               wanted: LayerVisitor | Callable[[str], bool]) -> ImageContents:
    """Read every layer once (in order) and merge them."""
    layers = read_layers(source, wanted)
    filesystem = SquashedFilesystem(layers, max_link_hops=source.options.limits.max_link_hops)
    return ImageContents(layers, filesystem)
