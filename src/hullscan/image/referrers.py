"""OCI referrers: attach artifacts (evaluation reports, SBOMs) to an image, and list them.

An artifact is an OCI image manifest with an ``artifactType``, the empty config
(``application/vnd.oci.empty.v1+json``, ``{}``), one layer holding the payload and a
``subject`` naming the image manifest it refers to (OCI image spec, "Guidance for Artifacts").

Registries with the referrers API (``GET /v2/<name>/referrers/<digest>``, distribution spec
1.1) index such manifests themselves. Older registries (``docker-registry`` / distribution 2.8
among them) answer that request with 404; for those the client maintains the "referrers tag
schema": an image index tagged ``<alg>-<hex>`` listing the referrers of ``<alg>:<hex>``.
Updating that tag is read-modify-write without conditional requests, so two clients
attaching to the same subject at the same moment can lose one entry (the spec accepts this).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from hullscan.errors import ImageNotFoundError, RegistryError
from hullscan.image import mediatypes
from hullscan.image.digest import digest_of, validate_digest
from hullscan.image.manifest import MAX_MANIFEST_BYTES, load_json_object
from hullscan.image.registry.client import RegistryClient

EMPTY_CONFIG = b"{}"
"""Content of the empty descriptor (``application/vnd.oci.empty.v1+json``)."""
EMPTY_CONFIG_DIGEST = digest_of(EMPTY_CONFIG)
_TAG_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")
_MAX_PAGES = 100
"""Pages of the referrers API followed at most (a hostile Link chain must end)."""
_NO_API = frozenset({404, 405, 501})
"""Answers meaning "no referrers API here" (the spec names 404; some proxies send the others)."""


class ReferrersError(RegistryError):
    """The referrers of a manifest cannot be read or updated (e.g. the referrers tag names
    something other than an image index)."""


class ReferrersMode(enum.StrEnum):
    """How a registry keeps the referrers list."""

    API = "referrers-api"
    """The registry answers ``GET /v2/<name>/referrers/<digest>`` itself."""
    TAG_SCHEMA = "tag-schema"
    """Clients maintain an index under the referrers tag (``sha256-<hex>``)."""


@dataclass(frozen=True)
class Referrer:
    """One entry of a referrers list: a manifest whose ``subject`` is the queried digest."""

    digest: str
    media_type: str
    size: int
    artifact_type: str | None
    """The artifact's ``artifactType`` (or its config media type when it has none)."""
    annotations: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    """Annotations copied from the artifact manifest."""


@dataclass(frozen=True)
class AttachedReferrer:
    """What :func:`attach_referrer` pushed."""

    digest: str
    """Digest of the artifact manifest."""
    size: int
    """Size of the artifact manifest in bytes."""
    artifact_type: str
    subject: str
    """Digest of the manifest the artifact refers to."""
    mode: ReferrersMode
    """Whether the registry indexes referrers itself or the referrers tag was updated."""
    referrers_tag: str | None
    """The referrers tag written (tag-schema mode only; None if it already listed the
    artifact, or in API mode)."""


def referrers_tag(digest: str) -> str:
    """The referrers tag of ``digest``: ``sha256:abc…`` -> ``sha256-abc…`` (spec truncation)."""
    algorithm, _, encoded = digest.partition(":")
    return _TAG_UNSAFE.sub("-", f"{algorithm[:32]}-{encoded[:64]}")


def artifact_manifest(*, subject_digest: str, subject_media_type: str, subject_size: int,
                      artifact_type: str, payload: bytes, payload_media_type: str,
                      annotations: Mapping[str, str] | None = None) -> bytes:
    """The bytes of an artifact manifest holding ``payload`` and pointing at the subject.

    Deterministic: the same inputs give the same digest, so attaching twice is idempotent.
    """
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": mediatypes.OCI_EMPTY, "digest": EMPTY_CONFIG_DIGEST,
                   "size": len(EMPTY_CONFIG)},
        "layers": [{"mediaType": payload_media_type, "digest": digest_of(payload),
                    "size": len(payload)}],
        "subject": {"mediaType": subject_media_type, "digest": subject_digest,
                    "size": subject_size},
    }
    if annotations:
        document["annotations"] = dict(annotations)
    return _encode(document)


def attach_referrer(client: RegistryClient, repository: str, *, subject_digest: str,
                    subject_media_type: str, subject_size: int, artifact_type: str,
                    payload: bytes, payload_media_type: str,
                    annotations: Mapping[str, str] | None = None) -> AttachedReferrer:
    """Push ``payload`` as an artifact referring to ``subject_digest`` in ``repository``.

    The blobs and the artifact manifest (by digest) are pushed first; then, unless the
    registry has the referrers API, the referrers tag index is updated to list the artifact.
    """
    subject = f"{client.host}/{repository}@{subject_digest}"
    validate_digest(subject_digest, subject=subject)
    manifest = artifact_manifest(
        subject_digest=subject_digest, subject_media_type=subject_media_type,
        subject_size=subject_size, artifact_type=artifact_type, payload=payload,
        payload_media_type=payload_media_type, annotations=annotations)
    for blob in (EMPTY_CONFIG, payload):
        blob_digest = digest_of(blob)
        if not client.blob_exists(repository, blob_digest):
            client.upload_blob(repository, blob_digest, blob)
    digest = client.put_manifest(repository, digest_of(manifest), manifest,
                                 mediatypes.OCI_MANIFEST)
    attached = AttachedReferrer(digest, len(manifest), artifact_type, subject_digest,
                                ReferrersMode.API, None)
    if _query_api(client, repository, subject_digest, None) is not None:
        return attached
    entry: dict[str, Any] = {"mediaType": mediatypes.OCI_MANIFEST, "digest": digest,
                             "size": len(manifest), "artifactType": artifact_type}
    if annotations:
        entry["annotations"] = dict(annotations)
    tag = referrers_tag(subject_digest)
    entries = _read_tag_index(client, repository, tag, subject=subject)
    if any(item.get("digest") == digest for item in entries):
        return AttachedReferrer(digest, len(manifest), artifact_type, subject_digest,
                                ReferrersMode.TAG_SCHEMA, None)
    index = _encode({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
                     "manifests": [*entries, entry]})
    client.put_manifest(repository, tag, index, mediatypes.OCI_INDEX)
    return AttachedReferrer(digest, len(manifest), artifact_type, subject_digest,
                            ReferrersMode.TAG_SCHEMA, tag)


def referrers_mode(client: RegistryClient, repository: str, subject_digest: str
                   ) -> ReferrersMode:
    """Whether the registry serves the referrers API for ``repository`` (asked, not guessed)."""
    found = _query_api(client, repository, subject_digest, None)
    return ReferrersMode.TAG_SCHEMA if found is None else ReferrersMode.API


def list_referrers(client: RegistryClient, repository: str, subject_digest: str, *,
                   artifact_type: str | None = None) -> tuple[Referrer, ...]:
    """The referrers of ``subject_digest`` (API, else the referrers tag), optionally only
    those of ``artifact_type``; an empty tuple when there are none."""
    subject = f"{client.host}/{repository}@{subject_digest}"
    validate_digest(subject_digest, subject=subject)
    entries = _query_api(client, repository, subject_digest, artifact_type)
    if entries is None:
        entries = _read_tag_index(client, repository, referrers_tag(subject_digest),
                                  subject=subject)
    referrers = [_referrer(item, subject=subject) for item in entries]
    return tuple(r for r in referrers
                 if artifact_type is None or r.artifact_type == artifact_type)


def fetch_referrer_payload(client: RegistryClient, repository: str, referrer_digest: str, *,
                           max_bytes: int) -> tuple[str, bytes]:
    """The payload media type and bytes (verified) of a one-layer artifact manifest."""
    subject = f"{client.host}/{repository}@{referrer_digest}"
    fetched = client.get_manifest(repository, referrer_digest)
    document = load_json_object(fetched.data, what="artifact manifest", subject=subject)
    layers = document.get("layers")
    if not isinstance(layers, list) or len(layers) != 1 or not isinstance(layers[0], dict):
        raise ReferrersError("artifact manifest does not have exactly one layer",
                             subject=subject)
    layer = layers[0]
    media_type, digest = layer.get("mediaType"), layer.get("digest")
    if not isinstance(media_type, str) or not isinstance(digest, str):
        raise ReferrersError("artifact layer descriptor is malformed", subject=subject)
    validate_digest(digest, subject=subject)
    return media_type, client.fetch_blob(repository, digest, max_bytes=max_bytes)


def _query_api(client: RegistryClient, repository: str, subject_digest: str,
               artifact_type: str | None) -> list[dict[str, Any]] | None:
    """The referrers API's descriptors (all pages), or None if the registry has no such API."""
    subject = f"{client.host}/{repository}@{subject_digest}"
    params = {"artifactType": artifact_type} if artifact_type else None
    path: str | None = f"/v2/{repository}/referrers/{subject_digest}"
    entries: list[dict[str, Any]] = []
    for _ in range(_MAX_PAGES):
        if path is None:
            return entries
        # The client has no public call for this endpoint; its request helper brings auth
        # and retries.
        response = client._request("GET", path, scopes=(f"repository:{repository}:pull",),
                                   headers={"Accept": mediatypes.OCI_INDEX}, params=params)
        if response.status_code in _NO_API:
            if entries:
                raise ReferrersError("referrers API vanished while paging", subject=subject)
            return None
        if response.status_code != 200:
            raise ReferrersError(f"referrers API answered HTTP {response.status_code}",
                                 subject=subject)
        entries += _index_entries(response.content, subject=subject)
        path = _next_page(response)
        params = None  # the next link carries the query
    raise ReferrersError(f"referrers API returned more than {_MAX_PAGES} pages",
                         subject=subject)


def _next_page(response: httpx.Response) -> str | None:
    link = response.links.get("next", {}).get("url")
    return str(response.url.join(link)) if link else None


def _read_tag_index(client: RegistryClient, repository: str, tag: str, *,
                    subject: str) -> list[dict[str, Any]]:
    """Entries of the referrers tag index; empty if the tag does not exist."""
    try:
        fetched = client.get_manifest(repository, tag)
    except ImageNotFoundError:
        return []
    return _index_entries(fetched.data, subject=f"{client.host}/{repository}:{tag}")


def _index_entries(data: bytes, *, subject: str) -> list[dict[str, Any]]:
    if len(data) > MAX_MANIFEST_BYTES:
        raise ReferrersError(f"referrers list larger than {MAX_MANIFEST_BYTES} bytes",
                             subject=subject)
    document = load_json_object(data, what="referrers list", subject=subject)
    media_type = document.get("mediaType", mediatypes.OCI_INDEX)
    manifests = document.get("manifests")
    if media_type != mediatypes.OCI_INDEX or not isinstance(manifests, list) \
            or not all(isinstance(item, dict) for item in manifests):
        raise ReferrersError("the referrers list is not an OCI image index; leaving it alone",
                             subject=subject)
    return manifests


def _referrer(item: dict[str, Any], *, subject: str) -> Referrer:
    digest, media_type, size = item.get("digest"), item.get("mediaType"), item.get("size")
    if not isinstance(digest, str) or not isinstance(media_type, str) \
            or not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ReferrersError(f"malformed referrer descriptor {json.dumps(item)[:200]}",
                             subject=subject)
    validate_digest(digest, subject=subject)
    artifact_type = item.get("artifactType")
    annotations = item.get("annotations")
    return Referrer(
        digest=digest, media_type=media_type, size=size,
        artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        annotations={str(k): str(v) for k, v in annotations.items()}
        if isinstance(annotations, dict) else {})


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
