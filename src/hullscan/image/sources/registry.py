"""Images pulled from a registry over the OCI distribution API."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

from hullscan.errors import CorruptContentError
from hullscan.image.config import MAX_CONFIG_BYTES, parse_config
from hullscan.image.layer import LayerInfo
from hullscan.image.manifest import ImageIndex, ImageManifest, parse_manifest
from hullscan.image.model import ImageMetadata, link_layers
from hullscan.image.reference import ImageReference, RegistryReference
from hullscan.image.registry.client import RegistryClient
from hullscan.image.sources.interface import (
    AcquireOptions,
    ImageSource,
    check_layer_count,
    check_platform,
    verified,
)


def client_for(reference: RegistryReference, options: AcquireOptions) -> RegistryClient:
    """A client for the reference's registry with the credentials that apply to it."""
    credentials = options.credentials.lookup(reference.registry) if options.credentials else None
    return RegistryClient(reference.api_host, credentials=credentials, options=options.registry)


PARALLEL_DOWNLOADS = 3
"""Blobs downloaded at once (each by a thread with a client of its own)."""


class RegistrySource(ImageSource):
    """Manifest and config fetched at once; layers downloaded (verified) when read, or ahead
    of time, several at once, when :meth:`prefetch` names them."""

    def __init__(self, reference: ImageReference, workdir: Path,
                 options: AcquireOptions) -> None:
        super().__init__(workdir, options)
        assert reference.registry is not None
        self.reference = reference.registry
        self.subject = reference.text
        self.client = client_for(self.reference, options)
        self._downloads: dict[str, Future[Path]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._clients: list[RegistryClient] = []
        try:
            self.metadata = self._resolve(reference)
        except BaseException:
            self.client.close()
            raise

    def _resolve(self, reference: ImageReference) -> ImageMetadata:
        repository = self.reference.repository
        fetched = self.client.get_manifest(repository, self.reference.manifest_reference)
        self.top_manifest = (fetched.data, fetched.media_type or "")
        document = parse_manifest(fetched.data, fetched.media_type, subject=self.subject)
        index_digest = None
        manifest_digest = fetched.digest
        if isinstance(document, ImageIndex):
            index_digest = fetched.digest
            chosen = document.select(self.options.platform, subject=self.subject)
            fetched = self.client.get_manifest(repository, chosen.digest)
            manifest_digest = fetched.digest
            document = parse_manifest(fetched.data, fetched.media_type, subject=self.subject)
            if not isinstance(document, ImageManifest):
                raise CorruptContentError("index entry is not an image manifest",
                                          subject=self.subject)
        config_data = self.client.fetch_blob(repository, document.config.digest,
                                             max_bytes=MAX_CONFIG_BYTES)
        config = parse_config(config_data, subject=f"{self.subject}: config")
        check_layer_count(len(document.layers), config, self.options.limits, subject=self.subject)
        return ImageMetadata(
            reference=reference.text, source=reference.kind,
            name=str(RegistryReference(self.reference.registry, repository,
                                       self.reference.tag, None))
            if self.reference.tag else self.reference.name,
            manifest_digest=manifest_digest, index_digest=index_digest,
            manifest_media_type=document.media_type, image_id=document.config.digest,
            platform=check_platform(config, self.options, subject=self.subject), config=config,
            layers=link_layers(config, [(d.digest, d.media_type, d.size)
                                        for d in document.layers]))

    def download_layer(self, layer: LayerInfo) -> Path:
        """Download a layer blob into the work directory (verified) and return its path."""
        assert layer.digest is not None
        return self._download(layer.digest, layer.size)

    def blob_for_copy(self, digest: str, size: int) -> Path | bytes:
        """A blob of this image, downloaded (verified) into the work directory, for pushing."""
        return self._download(digest, size)

    def prefetch(self, layers: Sequence[LayerInfo]) -> None:
        """Start downloading ``layers`` in the background, up to :data:`PARALLEL_DOWNLOADS`
        at once, in order; reading a layer waits for its download."""
        for layer in layers:
            if layer.digest is not None:
                self._scheduled(layer.digest, layer.size)

    def _download(self, digest: str, size: int) -> Path:
        """Each blob once per work directory; a failed download never stands in for it
        (asking again downloads again)."""
        future = self._scheduled(digest, size)
        try:
            return future.result()
        except BaseException:
            with self._lock:
                if self._downloads.get(digest) is future:
                    del self._downloads[digest]
            raise

    def _scheduled(self, digest: str, size: int) -> Future[Path]:
        with self._lock:
            future = self._downloads.get(digest)
            if future is None:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(PARALLEL_DOWNLOADS,
                                                    thread_name_prefix="hullscan-download")
                future = self._pool.submit(self._download_now, digest, size)
                self._downloads[digest] = future
            return future

    def _download_now(self, digest: str, size: int) -> Path:
        destination = self.workdir / f"blob-{digest.partition(':')[2]}"
        if not destination.exists():
            partial = destination.with_suffix(".partial")
            self._thread_client().download_blob(self.reference.repository, digest, size,
                                                partial)
            partial.rename(destination)
        return destination

    def _thread_client(self) -> RegistryClient:
        """A client per download thread: clients (token state, connections) are not shared."""
        client: RegistryClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = client_for(self.reference, self.options)
            with self._lock:
                self._clients.append(client)
        return client

    def open_layer_blob(self, layer: LayerInfo) -> contextlib.AbstractContextManager[IO[bytes]]:
        path = self.download_layer(layer)
        # Verified once more as read: the file sits in a directory other processes could touch.
        return verified(path.open("rb"), layer.digest, layer.size,
                        f"{self.subject}: layer {layer.index}")

    def close(self) -> None:
        super().close()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for client in self._clients:
            client.close()
        self.client.close()
