"""The interface every image source implements, and what they share."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from hullscan.errors import CorruptContentError, HullscanError, LimitExceededError
from hullscan.image.config import ImageConfig
from hullscan.image.decompress import DecompressedLayer
from hullscan.image.digest import VerifyingReader
from hullscan.image.layer import LayerContents, LayerInfo, LayerVisitor, read_layer_tar
from hullscan.image.limits import ReadBudget, ReadLimits
from hullscan.image.manifest import DEFAULT_PLATFORM, Platform
from hullscan.image.model import ImageMetadata
from hullscan.image.plain_layer import BlobFile, BlobHasher, PlainLayer, algorithms_of, is_plain
from hullscan.image.registry.credentials import CredentialStore
from hullscan.image.registry.options import RegistryOptions


@dataclass(frozen=True)
class AcquireOptions:
    """Everything that decides how an image is found and read."""

    platform: Platform = DEFAULT_PLATFORM
    platform_explicit: bool = False
    """True when the user chose the platform; a single-platform image must then match it."""
    registry: RegistryOptions = field(default_factory=RegistryOptions)
    credentials: CredentialStore | None = None
    limits: ReadLimits = field(default_factory=ReadLimits)
    layer_workers: int = 1
    """Processes that may read layers at once (this one included); more than one forks, so
    only callers without threads of their own set it (the command line does)."""
    parallel_min_bytes: int = 16 * 1024**2
    """Layers to read (stored size) below which one process reads them all: forking and
    carrying results back cost more than they save on small images."""


class ImageSource(ABC):
    """An opened image: its metadata, and one-pass access to each layer."""

    metadata: ImageMetadata
    reads_in_forked_process = False
    """True when a forked copy can read layers on its own after :meth:`after_fork`."""
    _hasher: BlobHasher | None = None

    def __init__(self, workdir: Path, options: AcquireOptions) -> None:
        self.workdir = workdir
        self.options = options

    @abstractmethod
    def open_layer_blob(self, layer: LayerInfo) -> contextlib.AbstractContextManager[IO[bytes]]:
        """The stored blob of ``layer``, verified against its digest as it is read."""

    def locate_layer_blob(self, layer: LayerInfo) -> tuple[BlobFile, str] | None:
        """Where ``layer``'s stored blob lies as it is in a local file, with the subject that
        :meth:`open_layer_blob` names in its digest errors; None when it does not."""
        return None

    def prefetch(self, layers: Sequence[LayerInfo]) -> None:
        """These layers will be read, in this order: fetch them ahead if that helps.

        Here: the ones stored as plain tars in local files are hashed ahead, one after
        another, by one thread (:class:`~hullscan.image.plain_layer.BlobHasher`).
        """
        plain = [(located[0], algorithms_of(layer.diff_id, layer.digest))
                 for layer in layers if (located := self.plain_blob(layer)) is not None]
        self._stop_hashing()
        if plain:
            self._hasher = BlobHasher(plain)

    def plain_blob(self, layer: LayerInfo) -> tuple[BlobFile, str] | None:
        """The located blob of ``layer`` when it is a plain tar of the size the image gives
        (a blob of another size takes the generic path, which reports it)."""
        located = self.locate_layer_blob(layer)
        if located is None or (layer.digest is not None and located[0].size != layer.size):
            return None
        return located if is_plain(located[0]) else None

    def _stop_hashing(self) -> None:
        if self._hasher is not None:
            self._hasher.close()
            self._hasher = None

    def read_layer(self, layer: LayerInfo, *, visitor: LayerVisitor,
                   budget: ReadBudget) -> LayerContents:
        """One pass over ``layer``: metadata of every file; wanted contents go to ``visitor``."""
        subject = f"{self.metadata.reference}: layer {layer.index}" + (
            f" ({layer.digest})" if layer.digest else "")
        try:
            if (located := self.plain_blob(layer)) is not None:
                return _read_plain_layer(*located, layer, visitor=visitor, budget=budget,
                                         subject=subject, hasher=self._hasher)
            with self.open_layer_blob(layer) as raw:
                try:
                    stream = DecompressedLayer(raw, diff_id=layer.diff_id, budget=budget,
                                               subject=subject)
                    contents = read_layer_tar(stream, layer, visitor=visitor, budget=budget,
                                              subject=subject)
                except CorruptContentError:
                    # Corruption is most often tampering: report a digest mismatch if it is one.
                    if isinstance(raw, VerifyingReader):
                        raw.finish()
                    raise
                if isinstance(raw, VerifyingReader):
                    raw.finish()
        except HullscanError as error:
            raise error.with_subject(subject) from None
        return contents

    def after_fork(self) -> None:  # noqa: B027 - only sources holding open files need it
        """In a forked copy: open what the original shares (a file offset shared between two
        processes would mix their reads)."""

    def close(self) -> None:
        """Release open files and connections (sources holding some extend this)."""
        self._stop_hashing()


def _read_plain_layer(blob: BlobFile, blob_subject: str, layer: LayerInfo, *,
                      visitor: LayerVisitor, budget: ReadBudget, subject: str,
                      hasher: BlobHasher | None) -> LayerContents:
    """:meth:`ImageSource.read_layer` for an uncompressed blob in a local file: read in place
    (:mod:`hullscan.image.plain_layer`), with the generic path's checks in its order."""
    with PlainLayer(blob, diff_id=layer.diff_id, blob_digest=layer.digest, budget=budget,
                    subject=subject, blob_subject=blob_subject, hasher=hasher) as stream:
        try:
            contents = read_layer_tar(stream, layer, visitor=visitor, budget=budget,
                                      subject=subject)
        except CorruptContentError:
            stream.verify_blob()  # corruption is most often tampering: say so if it is
            raise
    return contents


def check_layer_count(layers: int, config: ImageConfig, limits: ReadLimits, *,
                      subject: str) -> None:
    """A manifest and its config must agree on the number of layers, within the limit."""
    if layers > limits.max_layers:
        raise LimitExceededError(f"more than {limits.max_layers} layers ({layers}; raise "
                                 "HULLSCAN_MAX_LAYERS or --max-layers)", subject=subject)
    if layers != len(config.diff_ids):
        raise CorruptContentError(f"manifest lists {layers} layers but the config has "
                                  f"{len(config.diff_ids)} diff IDs", subject=subject)


def check_platform(config: ImageConfig, options: AcquireOptions, *, subject: str) -> Platform:
    """The image's platform; refuse it when the user asked for another one explicitly."""
    platform = Platform(config.os or "linux", config.architecture or "unknown", config.variant)
    if options.platform_explicit and not platform.matches(options.platform):
        raise HullscanError(f"image is for {platform}, not the requested {options.platform}",
                            subject=subject)
    return platform


@contextlib.contextmanager
def verified(stream: IO[bytes], digest: str | None, size: int | None,
             subject: str) -> Iterator[IO[bytes]]:
    """Wrap ``stream`` so that reading it to the end verifies ``digest`` (if known)."""
    try:
        if digest is None:
            yield stream
        else:
            reader = VerifyingReader(stream, digest, subject=subject, expected_size=size)
            yield reader  # type: ignore[misc]
    finally:
        stream.close()


def require_json_file(data: bytes | None, what: str, subject: str) -> bytes:
    """Refuse a missing metadata file with a clear message."""
    if data is None:
        raise CorruptContentError(f"{what} is missing", subject=subject)
    return data
