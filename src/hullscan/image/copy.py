"""Copy one image, pinned by digest, from a registry repository to another (promotion).

The source tag is resolved once (:func:`resolve_digest`); :func:`copy_image` then reads
everything by digest, so a tag moved in the meantime cannot change what is copied. The
manifest tree (an index and every manifest it lists, or one manifest) is pushed by digest
first and read back; only then is the destination tag written, and read back once more to
check that it names the copied digest. A failure before the tag is written leaves the tag
untouched (blobs and untagged manifests may remain; registries garbage-collect them).

Within one registry blobs are mounted from the source repository; across registries each
blob is streamed through a temporary file (one at a time), never held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hullscan.errors import (
    CorruptContentError,
    DigestMismatchError,
    HullscanError,
    InvalidReferenceError,
)
from hullscan.image import mediatypes
from hullscan.image.acquire import workspace
from hullscan.image.digest import validate_digest
from hullscan.image.manifest import (
    ImageIndex,
    load_json_object,
    parse_manifest,
)
from hullscan.image.push import PushTarget, push_manifest_tree
from hullscan.image.reference import RegistryReference, SourceKind, parse_image_reference
from hullscan.image.registry.client import RegistryClient
from hullscan.image.sources.interface import AcquireOptions
from hullscan.image.sources.registry import client_for

_MAX_INDEX_DEPTH = 4
"""Indexes nested deeper than this are refused (real images nest at most once)."""


class CopyVerificationError(DigestMismatchError):
    """After a copy the destination does not serve the digest that was copied."""


@dataclass(frozen=True)
class ResolvedImage:
    """A registry reference resolved to the manifest (or index) it names right now."""

    reference: RegistryReference
    """The reference as given, pinned to ``digest`` (its tag kept for display)."""
    digest: str
    """Digest of the manifest bytes (``sha256:...``)."""
    media_type: str
    """Media type of the manifest or index."""
    manifest: bytes
    """The manifest bytes exactly as served (their digest is ``digest``)."""

    @property
    def size(self) -> int:
        """Size of the manifest in bytes (for descriptors such as a referrer's subject)."""
        return len(self.manifest)


@dataclass(frozen=True)
class CopyResult:
    """What :func:`copy_image` did."""

    source: str
    """``registry/repository@digest`` that was read."""
    destination: str
    """``registry/repository:tag`` (or ``@digest`` when no tag was given) that was written."""
    digest: str
    """Digest of the copied manifest or index; the same at source and destination."""
    media_type: str
    """Media type of the copied manifest or index."""
    size: int
    """Size of the copied manifest or index in bytes."""
    manifests: int
    """Manifests pushed: 1 for one image, the index plus every manifest it lists otherwise."""
    uploaded: int
    """Blobs uploaded (streamed from the source registry)."""
    mounted: int
    """Blobs mounted from the source repository (same registry only)."""
    skipped: int
    """Blobs the destination repository already had."""
    verified: bool
    """True when the destination tag was read back and named ``digest``."""


def registry_reference(reference: str | RegistryReference) -> RegistryReference:
    """A registry reference from text (``[registry:]HOST/REPO[:TAG][@DIGEST]``) or as is."""
    if isinstance(reference, RegistryReference):
        return reference
    parsed = parse_image_reference(reference)
    if parsed.kind is not SourceKind.REGISTRY or parsed.registry is None:
        raise InvalidReferenceError(f"is a {parsed.kind} source; promotion needs a registry "
                                    "reference", subject=reference)
    return parsed.registry


def resolve_digest(reference: str | RegistryReference,
                   options: AcquireOptions | None = None) -> ResolvedImage:
    """Fetch the manifest ``reference`` names now and pin it by digest (verified)."""
    ref = registry_reference(reference)
    options = options or AcquireOptions()
    with client_for(ref, options) as client:
        fetched = client.get_manifest(ref.repository, ref.manifest_reference)
    media_type = _media_type(fetched.data, fetched.media_type, subject=str(ref))
    return ResolvedImage(ref.with_digest(fetched.digest), fetched.digest, media_type,
                         fetched.data)


def copy_image(source: str | RegistryReference, digest: str,
               destination: str | RegistryReference, options: AcquireOptions | None = None,
               *, chunk_size: int | None = None) -> CopyResult:
    """Copy exactly the manifest (or index) ``digest`` of ``source``'s repository to
    ``destination``, with every manifest and blob it references, then verify the destination.

    ``source``'s tag is ignored: only its registry and repository are used. Raises
    :class:`CopyVerificationError` when the destination serves another digest,
    :class:`~hullscan.errors.DigestMismatchError` when the source serves content that does not
    match its digest, and other :class:`~hullscan.errors.HullscanError` subclasses for
    registry failures. ``chunk_size`` uploads in chunks of that many bytes.
    """
    src = registry_reference(source)
    dst = registry_reference(destination)
    options = options or AcquireOptions()
    validate_digest(digest, subject=str(src))
    if src.digest is not None and src.digest != digest:
        raise InvalidReferenceError(f"source is pinned to {src.digest}, asked to copy {digest}",
                                    subject=str(src))
    if dst.digest is not None and dst.digest != digest:
        raise InvalidReferenceError(f"destination is pinned to {dst.digest}, which is not the "
                                    f"digest being copied ({digest})", subject=str(dst))
    pinned = f"{src.name}@{digest}"
    target_text = f"{dst.name}:{dst.tag}" if dst.tag else f"{dst.name}@{digest}"
    same_registry = src.api_host == dst.api_host
    with client_for(src, options) as source_client, workspace() as workdir:
        target_client = source_client if same_registry else client_for(dst, options)
        try:
            return _copy(src, dst, digest, source_client, target_client, workdir,
                         pinned=pinned, target_text=target_text, same_registry=same_registry,
                         chunk_size=chunk_size)
        except HullscanError as error:
            raise error.with_subject(f"copy {pinned} to {target_text}") from None
        finally:
            if target_client is not source_client:
                target_client.close()


def _copy(src: RegistryReference, dst: RegistryReference, digest: str,
          source_client: RegistryClient, target_client: RegistryClient, workdir: Path, *,
          pinned: str, target_text: str, same_registry: bool,
          chunk_size: int | None) -> CopyResult:
    top = source_client.get_manifest(src.repository, digest)  # verified against digest
    media_type = _media_type(top.data, top.media_type, subject=pinned)
    manifests: dict[str, bytes] = {}
    _collect_children(source_client, src.repository, top.data, media_type, manifests,
                      subject=pinned, depth=0)
    blobs = _BlobStream(source_client, src.repository, workdir)
    target = PushTarget(target_client, dst.repository, None,
                        mount_from=src.repository if same_registry else None,
                        chunk_size=chunk_size)
    try:
        pushed = push_manifest_tree(top.data, media_type, blobs.fetcher(manifests), target)
    finally:
        blobs.discard()
    if pushed.digest != digest:
        raise CopyVerificationError(f"pushed manifest is {pushed.digest}, expected {digest}",
                                    subject=target_text)
    # Read back by digest before the tag is written: a destination that cannot serve the
    # copied manifest must not get the tag.
    target_client.get_manifest(dst.repository, digest)
    verified = True
    if dst.tag is not None:
        target_client.put_manifest(dst.repository, dst.tag, top.data, media_type)
        served = target_client.get_manifest(dst.repository, dst.tag)
        if served.digest != digest:
            raise CopyVerificationError(
                f"destination tag names {served.digest} after the copy, expected {digest}",
                subject=target_text)
    return CopyResult(
        source=pinned, destination=target_text, digest=digest, media_type=media_type,
        size=len(top.data), manifests=1 + len(manifests), uploaded=pushed.uploaded,
        mounted=pushed.mounted, skipped=pushed.skipped, verified=verified)


def _collect_children(client: RegistryClient, repository: str, data: bytes, media_type: str,
                      found: dict[str, bytes], *, subject: str, depth: int) -> None:
    """Fetch (by digest, verified) every manifest an index lists, recursively, into ``found``.

    Everything is read before anything is written, so a missing child fails the copy early.
    """
    document = parse_manifest(data, media_type, subject=subject, require_image=False)
    if not isinstance(document, ImageIndex):
        return
    if depth >= _MAX_INDEX_DEPTH:
        raise CorruptContentError(f"indexes nested more than {_MAX_INDEX_DEPTH} deep",
                                  subject=subject)
    for child in document.manifests:
        if child.digest in found:
            continue
        fetched = client.get_manifest(repository, child.digest)
        if len(fetched.data) != child.size:
            raise DigestMismatchError(f"index lists {child.digest} with size {child.size}, "
                                      f"the manifest has {len(fetched.data)} bytes",
                                      subject=subject)
        found[child.digest] = fetched.data
        child_type = _media_type(fetched.data, fetched.media_type or child.media_type,
                                 subject=subject)
        _collect_children(client, repository, fetched.data, child_type, found,
                          subject=subject, depth=depth + 1)


class _BlobStream:
    """Hands blobs to the push one at a time, each downloaded (verified) to a temporary file.

    The push uploads a blob right after asking for it, so the previous file can be removed
    when the next is fetched: at most one blob is on disk at once.
    """

    def __init__(self, client: RegistryClient, repository: str, workdir: Path) -> None:
        self._client = client
        self._repository = repository
        self._workdir = workdir
        self._current: Path | None = None

    def fetcher(self, manifests: dict[str, bytes]) -> _Fetcher:
        """A ``BlobFetcher`` serving pre-fetched manifests from memory and blobs from files."""
        return _Fetcher(self, manifests)

    def download(self, digest: str, size: int) -> Path:
        """Download one blob, removing the one handed out before."""
        self.discard()
        path = self._workdir / f"blob-{digest.partition(':')[2]}"
        self._current = path
        self._client.download_blob(self._repository, digest, size, path)
        return path

    def discard(self) -> None:
        """Remove the blob file handed out last, if any."""
        if self._current is not None:
            self._current.unlink(missing_ok=True)
            self._current = None


@dataclass(frozen=True)
class _Fetcher:
    """Callable matching :data:`hullscan.image.push.BlobFetcher`."""

    stream: _BlobStream
    manifests: dict[str, bytes]

    def __call__(self, digest: str, size: int) -> Path | bytes:
        if digest in self.manifests:
            return self.manifests[digest]
        return self.stream.download(digest, size)


def _media_type(data: bytes, declared: str | None, *, subject: str) -> str:
    """The manifest's own ``mediaType``, else the declared one, else guessed from its shape."""
    document = load_json_object(data, what="manifest", subject=subject)
    body = document.get("mediaType")
    if isinstance(body, str) and body:
        return body
    header = (declared or "").split(";")[0].strip()
    if header in mediatypes.INDEXES or header in mediatypes.IMAGE_MANIFESTS:
        return header
    return mediatypes.OCI_INDEX if "manifests" in document else mediatypes.OCI_MANIFEST
