"""Open an image from any source and read its layers: the entry point of the pipeline."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hullscan.errors import HullscanError
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import LayerContents, LayerInfo, LayerVisitor, as_visitor
from hullscan.image.layer_cache import (
    LayerCache,
    analysis_fingerprint,
    decode_layer,
    encode_layer,
)
from hullscan.image.layer_workers import LayerPool, exportable
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
    and the visitors' states come from the cache. Other layers are read and stored. With
    ``layer_workers`` above one, forked workers may read some of them (:mod:`layer_workers`).
    """
    visitor = as_visitor(wanted)
    budget = ReadBudget(source.options.limits, subject=source.metadata.reference)
    fingerprint = None if cache is None else analysis_fingerprint(visitor, source.options.limits)

    def entry_key(layer: LayerInfo) -> tuple[LayerCache, str, str] | None:
        """The cache, diff ID and fingerprint a layer's entry is filed under, if it has one."""
        if cache is None or fingerprint is None or layer.diff_id is None:
            return None
        return cache, layer.diff_id, fingerprint

    def has_entry(layer: LayerInfo) -> bool:
        key = entry_key(layer)
        return key is not None and key[0].entry_path(key[1], key[2]).is_file()

    to_read = [layer for layer in source.metadata.layers if not has_entry(layer)]
    pool = _pool(source, visitor, to_read)  # forked before any thread starts
    position = {layer.index: n for n, layer in enumerate(to_read)}
    try:
        if pool is None:
            source.prefetch(to_read)
        layers: list[LayerContents] = []
        for layer in source.metadata.layers:
            key = entry_key(layer)
            if pool is not None and layer.index in position:
                document = pool.result(position[layer.index])
                contents = _recorded(document, layer, visitor, budget)
                if contents is None:
                    raise HullscanError(f"layer worker sent an unreadable result for layer "
                                        f"{layer.index}", subject=source.metadata.reference)
                if key is not None:
                    key[0].store(key[1], key[2], document)
            elif key is None:
                contents = source.read_layer(layer, visitor=visitor, budget=budget)
            else:
                contents = _from_cache(key[0], layer, key[2], visitor, budget)
                if contents is None:  # no entry, or a damaged one: read (and rewrite) it
                    contents = _read_and_store(source, layer, visitor, budget, key)
            layers.append(contents)
    finally:
        if pool is not None:
            pool.close()
    return tuple(layers)


def _pool(source: ImageSource, visitor: LayerVisitor,
          to_read: list[LayerInfo]) -> LayerPool | None:
    """Workers for the layers to read, or None when they would not help or cannot be used."""
    options = source.options
    if options.layer_workers < 2 or len(to_read) < 2 or not source.reads_in_forked_process \
            or not exportable(visitor) \
            or sum(layer.size for layer in to_read) < options.parallel_min_bytes \
            or _one_plain_layer_dominates(source, to_read):
        return None
    return LayerPool(source, to_read, visitor, min(options.layer_workers, len(to_read)))


def _one_plain_layer_dominates(source: ImageSource, to_read: list[LayerInfo]) -> bool:
    """Are all the layers plain tars in local files, one of them more than half the bytes?

    Workers share out layers, never parts of one, so the pool takes at least as long as the
    largest layer costs a worker (its tar pass and its hash). One process reading plain
    layers hashes the next ones during each tar pass (``ImageSource.prefetch``), so there it
    costs about the tar passes alone: on the bench's debian-180 (121 of its 182 MB in one
    layer) 0.50 s against 0.58 s with two workers.
    """
    if any(source.plain_blob(layer) is None for layer in to_read):
        return False
    return 2 * max(layer.size for layer in to_read) > sum(layer.size for layer in to_read)


def _read_and_store(source: ImageSource, layer: LayerInfo, visitor: LayerVisitor,
                    budget: ReadBudget, key: tuple[LayerCache, str, str]) -> LayerContents:
    """Read a layer and file its result (with the visitors' states) in the cache."""
    contents = source.read_layer(layer, visitor=visitor, budget=budget)
    state = visitor.export_layer(layer.index)  # type: ignore[attr-defined]
    cache, diff_id, fingerprint = key
    cache.store(diff_id, fingerprint, encode_layer(contents, state))
    return contents


def _from_cache(cache: LayerCache, layer: LayerInfo, fingerprint: str, visitor: LayerVisitor,
                budget: ReadBudget) -> LayerContents | None:
    """The cached result of ``layer`` with its visitor states recorded, or None."""
    assert layer.diff_id is not None
    document = cache.load(layer.diff_id, fingerprint)
    return None if document is None else _recorded(document, layer, visitor, budget)


def _recorded(document: dict[str, Any], layer: LayerInfo, visitor: LayerVisitor,
              budget: ReadBudget) -> LayerContents | None:
    """A layer's encoded result (a cache entry's, a worker's) with its visitor states
    recorded and counted against the budget; None when it does not decode."""
    try:
        contents, state = decode_layer(document, layer)
        commit = visitor.import_layer(contents, state)  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # a damaged or foreign entry: read the layer (and rewrite the entry)
    # The limits still hold for an image made of layers read elsewhere.
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
