"""OCI image layouts, as a directory (``oci-dir:``) or a tar of one (``oci-archive:``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import IO

from hullscan.errors import CorruptContentError, ImageNotFoundError
from hullscan.image.config import MAX_CONFIG_BYTES, parse_config
from hullscan.image.digest import digest_of, verify_bytes
from hullscan.image.layer import LayerInfo
from hullscan.image.manifest import (
    MAX_MANIFEST_BYTES,
    Descriptor,
    ImageIndex,
    ImageManifest,
    load_json_object,
    parse_manifest,
)
from hullscan.image.model import ImageMetadata, link_layers
from hullscan.image.plain_layer import BlobFile
from hullscan.image.reference import ImageReference
from hullscan.image.sources.interface import (
    AcquireOptions,
    ImageSource,
    check_layer_count,
    check_platform,
    require_json_file,
    verified,
)
from hullscan.image.sources.store import DirectoryStore, LayoutStore, open_store

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


def blob_name(digest: str) -> str:
    """Where a blob lives in a layout."""
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


class OciLayoutSource(ImageSource):
    """An image chosen from an OCI layout by ref name, then by platform."""

    reads_in_forked_process = True  # local files: a forked copy reopens them

    def __init__(self, reference: ImageReference, workdir: Path, options: AcquireOptions,
                 *, store: LayoutStore | None = None) -> None:
        super().__init__(workdir, options)
        assert reference.path is not None
        self.subject = reference.text
        self.store = store or open_store(reference.path)
        layout = load_json_object(
            require_json_file(self.store.read("oci-layout", max_bytes=4096), "oci-layout file",
                              self.subject), what="oci-layout", subject=self.subject)
        if not isinstance(layout.get("imageLayoutVersion"), str):
            raise CorruptContentError("oci-layout has no imageLayoutVersion", subject=self.subject)
        index_data = require_json_file(self.store.read("index.json", max_bytes=MAX_MANIFEST_BYTES),
                                       "index.json", self.subject)
        top = parse_manifest(index_data, None, subject=f"{self.subject}: index.json")
        if not isinstance(top, ImageIndex):
            raise CorruptContentError("index.json is not an image index", subject=self.subject)
        chosen = select_by_ref_name(top, reference.selector, subject=self.subject)
        self.metadata = self._resolve(reference, chosen)

    def _read_blob(self, descriptor: Descriptor, *, max_bytes: int, what: str) -> bytes:
        data = self.store.read(blob_name(descriptor.digest), max_bytes=max_bytes)
        if data is None:
            raise CorruptContentError(f"{what} blob {descriptor.digest} is missing",
                                      subject=self.subject)
        return verify_bytes(data, descriptor.digest, subject=f"{self.subject}: {what}")

    def _resolve(self, reference: ImageReference, chosen: Descriptor) -> ImageMetadata:
        data = self._read_blob(chosen, max_bytes=MAX_MANIFEST_BYTES, what="manifest")
        self.top_manifest = (data, chosen.media_type)
        document = parse_manifest(data, chosen.media_type, subject=self.subject)
        index_digest = None
        if isinstance(document, ImageIndex):
            index_digest = chosen.digest
            chosen = document.select(self.options.platform, subject=self.subject)
            data = self._read_blob(chosen, max_bytes=MAX_MANIFEST_BYTES, what="manifest")
            document = parse_manifest(data, chosen.media_type, subject=self.subject)
            if not isinstance(document, ImageManifest):
                raise CorruptContentError("nested image indexes are not supported",
                                          subject=self.subject)
        config_data = self._read_blob(document.config, max_bytes=MAX_CONFIG_BYTES, what="config")
        config = parse_config(config_data, subject=f"{self.subject}: config")
        check_layer_count(len(document.layers), config, self.options.limits, subject=self.subject)
        platform = check_platform(config, self.options, subject=self.subject)
        return ImageMetadata(
            reference=reference.text, source=reference.kind,
            name=chosen_name(chosen) or reference.selector,
            manifest_digest=chosen.digest, index_digest=index_digest,
            manifest_media_type=document.media_type, image_id=digest_of(config_data),
            platform=platform, config=config,
            layers=link_layers(config, [(d.digest, d.media_type, d.size)
                                        for d in document.layers]))

    def open_layer_blob(self, layer: LayerInfo) -> contextlib.AbstractContextManager[IO[bytes]]:
        assert layer.digest is not None
        handle = self.store.open(blob_name(layer.digest))
        if handle is None:
            raise CorruptContentError(f"layer blob {layer.digest} is missing",
                                      subject=self.subject)
        return verified(handle, layer.digest, layer.size, self._blob_subject(layer))

    def locate_layer_blob(self, layer: LayerInfo) -> tuple[BlobFile, str] | None:
        assert layer.digest is not None
        blob = self.store.locate(blob_name(layer.digest))
        return None if blob is None else (blob, self._blob_subject(layer))

    def _blob_subject(self, layer: LayerInfo) -> str:
        return f"{self.subject}: layer {layer.index}"

    def blob_for_copy(self, digest: str, size: int) -> Path | bytes:
        """A blob of the layout (a file path when the layout is a directory) for pushing."""
        if isinstance(self.store, DirectoryStore):
            return self.store.location / blob_name(digest)
        data = self.store.read(blob_name(digest), max_bytes=max(size, 0))
        if data is None:
            raise CorruptContentError(f"blob {digest} is missing", subject=self.subject)
        return verify_bytes(data, digest, subject=self.subject)

    def after_fork(self) -> None:
        self.store = self.store.reopen()

    def close(self) -> None:
        super().close()
        self.store.close()


def chosen_name(descriptor: Descriptor) -> str | None:
    """The name a layout gives a manifest, if any."""
    return descriptor.annotations.get(REF_NAME) or descriptor.annotations.get(CONTAINERD_NAME)


def select_by_ref_name(index: ImageIndex, selector: str | None, *, subject: str) -> Descriptor:
    """Pick a manifest of a layout's ``index.json`` by ref name (or the only one there is)."""
    if selector is None:
        if len(index.manifests) == 1:
            return index.manifests[0]
        names = sorted(filter(None, (chosen_name(d) for d in index.manifests)))
        raise ImageNotFoundError(
            f"layout holds {len(index.manifests)} images; name one with :REF "
            f"(refs: {', '.join(names) or 'none'})", subject=subject)
    for descriptor in index.manifests:
        own_names = {descriptor.annotations.get(REF_NAME),
                     descriptor.annotations.get(CONTAINERD_NAME)}
        if selector in own_names or descriptor.digest == selector:
            return descriptor
    for descriptor in index.manifests:
        # containerd writes full names (docker.io/library/x:1); accept the short tag too.
        full = descriptor.annotations.get(CONTAINERD_NAME, "")
        if full.endswith(f"/{selector}") or full.endswith(f":{selector}"):
            return descriptor
    names = sorted(filter(None, (chosen_name(d) for d in index.manifests)))
    raise ImageNotFoundError(f"no image named {selector!r} in the layout "
                             f"(refs: {', '.join(names) or 'none'})", subject=subject)



