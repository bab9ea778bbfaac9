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
from hullscan.image.layer import LayerContents, LayerInfo, LayerVisitor, as_visitor
from hullscan.image.layer_cache import (
    LayerCache,
    analysis_fingerprint,
    decode_layer,
    encode_layer,
)
from hullscan.image.limits import ReadBudget
from hullscan.image.reference import ImageReference, SourceKind, parse_image_reference
from hullscan.image.sources.docker_archive import DockerArchiveSource
from hullscan.image.sources.interface import AcquireOptions, ImageSource
from hullscan.image.sources.oci_layout import OciLayoutSource
from hullscan.image.sources.rootfs import RootFilesystemSource

SourceOpener = Callable[[ImageReference, Path, AcquireOptions], ImageSource]


def _open_registry(reference: ImageReference, workdir: Path,
                   options: AcquireOptions) -> ImageSource:
    """The registry source, imported on use (the HTTP client is a tenth of a second)."""
    from hullscan.image.sources.registry import RegistrySource

    return RegistrySource(reference, workdir, options)


SOURCES: dict[SourceKind, SourceOpener] = {
    SourceKind.REGISTRY: _open_registry,
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


def read_layers(source: ImageSource, wanted: LayerVisitor | Callable[[str], bool],
                cache: LayerCache | None = None) -> tuple[LayerContents, ...]:
    """Read every layer once, in order; ``wanted`` is a visitor, or a path predicate naming
    the files whose contents to keep.

    With a ``cache`` and a visitor that can be cached (:class:`CachingVisitor`), a layer with
    a diff ID whose result is cached is not read at all (nothing is downloaded): its result
    and the visitors' states come from the cache. Other layers are read and stored.
    """
    visitor = as_visitor(wanted)
    budget = ReadBudget(source.options.limits, subject=source.metadata.reference)
    fingerprint = None if cache is None else analysis_fingerprint(visitor, source.options.limits)
    layers: list[LayerContents] = []
    source.prefetch([layer for layer in source.metadata.layers
                     if cache is None or fingerprint is None or layer.diff_id is None
                     or not cache.entry_path(layer.diff_id, fingerprint).is_file()])
    for layer in source.metadata.layers:
        if cache is None or fingerprint is None or layer.diff_id is None:
            layers.append(source.read_layer(layer, visitor=visitor, budget=budget))
            continue
        cached = _from_cache(cache, layer, fingerprint, visitor, budget)
        if cached is None:
            cached = source.read_layer(layer, visitor=visitor, budget=budget)
            state = visitor.export_layer(layer.index)  # type: ignore[attr-defined]
            cache.store(layer.diff_id, fingerprint, encode_layer(cached, state))
        layers.append(cached)
    return tuple(layers)


def _from_cache(cache: LayerCache, layer: LayerInfo, fingerprint: str, visitor: LayerVisitor,
                budget: ReadBudget) -> LayerContents | None:
    """The cached result of ``layer`` with its visitor states recorded, or None."""
    assert layer.diff_id is not None
    document = cache.load(layer.diff_id, fingerprint)
    if document is None:
        return None
    try:
        contents, state = decode_layer(document, layer)
        commit = visitor.import_layer(contents, state)  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # a damaged or foreign entry: read the layer (and rewrite the entry)
    # The limits still hold for an image made of cached layers.
    budget.add_bytes(contents.uncompressed_size)
    for _ in range(len(contents.entries) + len(contents.whiteouts) + len(contents.opaque_dirs)):
        budget.add_file()
    commit()
    return contents


def read_image(source: ImageSource, wanted: LayerVisitor | Callable[[str], bool],
               cache: LayerCache | None = None) -> ImageContents:
    """Read every layer once (in order) and merge them."""
    layers = read_layers(source, wanted, cache)
    filesystem = SquashedFilesystem(layers, max_link_hops=source.options.limits.max_link_hops)
    return ImageContents(layers, filesystem)
