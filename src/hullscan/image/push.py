"""Copy an image, byte for byte, into a registry repository (the basis of promotion).

Manifests and blobs are pushed unchanged, so digests are preserved; an index is pushed with
every platform manifest it lists. Blobs the target already has are skipped, blobs in another
repository of the same registry are mounted instead of uploaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hullscan.errors import CorruptContentError
from hullscan.image.digest import verify_bytes
from hullscan.image.manifest import (
    MAX_MANIFEST_BYTES,
    ImageIndex,
    ImageManifest,
    load_json_object,
    parse_manifest,
)
from hullscan.image.registry.client import RegistryClient

BlobFetcher = Callable[[str, int], Path | bytes]
"""Returns a verified blob (a file or bytes) given its digest and size."""


@dataclass(frozen=True)
class PushTarget:
    """Where to push: a client for the registry, the repository and the tag (or none)."""

    client: RegistryClient
    repository: str
    tag: str | None
    mount_from: str | None = None
    """A repository of the same registry to mount blobs from (e.g. the staging repository)."""
    chunk_size: int | None = None
    """Upload in chunks of this many bytes (None: monolithic)."""


@dataclass(frozen=True)
class PushResult:
    """What a push did."""

    digest: str
    uploaded: int
    mounted: int
    skipped: int


def push_manifest_tree(manifest: bytes, media_type: str, fetch: BlobFetcher,
                       target: PushTarget) -> PushResult:
    """Push ``manifest`` (an image manifest or index) and everything it references."""
    counts = {"uploaded": 0, "mounted": 0, "skipped": 0}
    digest = _push(manifest, media_type, fetch, target, counts, tag=target.tag)
    return PushResult(digest, counts["uploaded"], counts["mounted"], counts["skipped"])


def _push(manifest: bytes, media_type: str, fetch: BlobFetcher, target: PushTarget,
          counts: dict[str, int], *, tag: str | None) -> str:
    subject = f"{target.client.host}/{target.repository}"
    document = parse_manifest(manifest, media_type, subject=subject, require_image=False)
    if isinstance(document, ImageIndex):
        for child in document.manifests:
            data = fetch(child.digest, child.size)
            body = data if isinstance(data, bytes) else data.read_bytes()
            verify_bytes(body, child.digest, subject=subject)
            if len(body) > MAX_MANIFEST_BYTES:
                raise CorruptContentError("index entry too large", subject=subject)
            child_type = load_json_object(body, what="manifest", subject=subject).get(
                "mediaType") or child.media_type
            _push(body, str(child_type), fetch, target, counts, tag=None)
    elif isinstance(document, ImageManifest):
        for blob in (document.config, *document.layers):
            _ensure_blob(blob.digest, blob.size, fetch, target, counts)
    return target.client.put_manifest(target.repository, tag or _digest(manifest), manifest,
                                      media_type)


def _ensure_blob(digest: str, size: int, fetch: BlobFetcher, target: PushTarget,
                 counts: dict[str, int]) -> None:
    client = target.client
    if client.blob_exists(target.repository, digest):
        counts["skipped"] += 1
        return
    if target.mount_from and client.mount_blob(target.repository, digest, target.mount_from):
        counts["mounted"] += 1
        return
    client.upload_blob(target.repository, digest, fetch(digest, size),
                       chunk_size=target.chunk_size)
    counts["uploaded"] += 1


def _digest(data: bytes) -> str:
    from hullscan.image.digest import digest_of
    return digest_of(data)


def push_image(source: object, target: PushTarget) -> PushResult:
    """Push an opened image (from an OCI layout or a registry) unchanged, index included."""
    top = getattr(source, "top_manifest", None)
    fetch = getattr(source, "blob_for_copy", None)
    if top is None or fetch is None:
        raise CorruptContentError(
            "only images from OCI layouts and registries can be pushed byte for byte",
            subject=getattr(getattr(source, "metadata", None), "reference", None))
    data, media_type = top
    return push_manifest_tree(data, media_type or _media_type_of(data), fetch, target)


def _media_type_of(data: bytes) -> str:
    value = load_json_object(data, what="manifest", subject="push").get("mediaType")
    return str(value) if value else "application/vnd.oci.image.manifest.v1+json"
