"""Promotion copies against real ``docker-registry`` servers, checked with skopeo."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from hullscan.errors import DigestMismatchError, ImageNotFoundError, InvalidReferenceError
from hullscan.image import mediatypes
from hullscan.image.acquire import open_image
from hullscan.image.copy import CopyVerificationError, copy_image, resolve_digest
from hullscan.image.digest import digest_of
from hullscan.image.push import PushResult, PushTarget, push_image
from hullscan.image.registry.client import RegistryClient, RegistryOptions
from hullscan.image.registry.credentials import RegistryCredentials
from hullscan.image.sources.interface import AcquireOptions
from tests.image.override_proxy import Canned, OverrideProxy
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.registry_servers import RegistryServer, skopeo_inspect
from tests.support.standard_images import ImageFacts, ImageFormats, MultiPlatformFacts

_counter = itertools.count()


class _HostCredentials:
    """A credential store answering per registry host."""

    def __init__(self, *servers: RegistryServer) -> None:
        self._by_host = {s.host: _credentials(s) for s in servers}

    def lookup(self, host: str) -> RegistryCredentials | None:
        return self._by_host.get(host)


def _credentials(server: RegistryServer) -> RegistryCredentials | None:
    if server.username is None:
        return None
    return RegistryCredentials(server.username, server.password, None, "test")


def _options(*servers: RegistryServer) -> AcquireOptions:
    return AcquireOptions(credentials=_HostCredentials(*servers))  # type: ignore[arg-type]


def _client(server: RegistryServer) -> RegistryClient:
    return RegistryClient(server.host, credentials=_credentials(server),
                          options=RegistryOptions(ca_cert=server.ca_cert))


def _push(server: RegistryServer, layout: Path, ref: str, repository: str,
          tag: str) -> PushResult:
    with open_image(f"oci-dir:{layout}:{ref}") as source, _client(server) as client:
        return push_image(source, PushTarget(client, repository, tag))


def _repos() -> tuple[str, str]:
    n = next(_counter)
    return f"staging/app{n}", f"prod/app{n}"


def _assert_tag_absent(server: RegistryServer, repository: str, tag: str) -> None:
    with _client(server) as client, pytest.raises(ImageNotFoundError):
        client.get_manifest(repository, tag)


def test_same_registry_copy_mounts_every_blob(registry_token: RegistryServer,
                                              small_image_formats: ImageFormats,
                                              small_image_facts: ImageFacts) -> None:
    server = registry_token
    staging, prod = _repos()
    _push(server, small_image_formats.oci_layout, small_image_formats.ref, staging, "1")
    resolved = resolve_digest(f"{server.host}/{staging}:1", _options(server))
    assert resolved.digest == digest_of(resolved.manifest)
    assert resolved.media_type == mediatypes.OCI_MANIFEST

    result = copy_image(f"{server.host}/{staging}:1", resolved.digest,
                        f"{server.host}/{prod}:1", _options(server))

    blobs = small_image_facts.layer_count + 1
    assert (result.mounted, result.uploaded, result.skipped) == (blobs, 0, 0)
    assert result.verified and result.digest == resolved.digest
    assert (result.manifests, result.size) == (1, resolved.size)
    assert result.destination == f"{server.host}/{prod}:1"
    assert skopeo_inspect(server, f"{staging}:1")["Digest"] == resolved.digest
    assert skopeo_inspect(server, f"{prod}:1")["Digest"] == resolved.digest
    # Promoting again changes nothing: every blob is already there.
    again = copy_image(f"{server.host}/{staging}:1", resolved.digest,
                       f"{server.host}/{prod}:1", _options(server))
    assert (again.mounted, again.uploaded, again.skipped) == (0, 0, blobs)


def test_copy_across_registries_uploads(registry_plain: RegistryServer,
                                        registry_basic: RegistryServer,
                                        small_image_formats: ImageFormats,
                                        small_image_facts: ImageFacts) -> None:
    staging, prod = _repos()
    _push(registry_plain, small_image_formats.oci_layout, small_image_formats.ref, staging, "1")
    options = _options(registry_plain, registry_basic)
    resolved = resolve_digest(f"{registry_plain.host}/{staging}:1", options)

    result = copy_image(resolved.reference, resolved.digest,
                        f"{registry_basic.host}/{prod}:1.0", options, chunk_size=4096)

    assert (result.uploaded, result.mounted) == (small_image_facts.layer_count + 1, 0)
    assert result.verified
    seen = skopeo_inspect(registry_basic, f"{prod}:1.0")
    assert seen["Digest"] == resolved.digest
    assert seen["Layers"] == skopeo_inspect(registry_plain, f"{staging}:1")["Layers"]


def test_multi_platform_index_is_promoted_whole(registry_plain: RegistryServer,
                                                registry_basic: RegistryServer,
                                                multiplatform_layout: Path,
                                                multiplatform_facts: MultiPlatformFacts) -> None:
    staging, prod = _repos()
    pushed = _push(registry_plain, multiplatform_layout, multiplatform_facts.ref, staging, "1")
    options = _options(registry_plain, registry_basic)
    resolved = resolve_digest(f"registry:{registry_plain.host}/{staging}:1", options)
    assert resolved.digest == pushed.digest
    assert resolved.media_type in mediatypes.INDEXES

    result = copy_image(f"{registry_plain.host}/{staging}:1", resolved.digest,
                        f"{registry_basic.host}/{prod}:1", options)

    index = json.loads(resolved.manifest)
    children = index["manifests"]
    assert len(children) == len(multiplatform_facts.platforms) \
        + multiplatform_facts.attestation_count
    assert result.manifests == 1 + len(children)
    assert skopeo_inspect(registry_basic, f"{prod}:1", raw=True) == index
    with _client(registry_basic) as client:
        for child in children:
            fetched = client.get_manifest(prod, child["digest"])
            manifest = json.loads(fetched.data)
            for blob in (manifest["config"], *manifest["layers"]):
                assert client.blob_exists(prod, blob["digest"])
    assert result.uploaded == pushed.uploaded


def test_copy_by_digest_ignores_a_moved_source_tag(registry_plain: RegistryServer,
                                                   small_image_formats: ImageFormats,
                                                   multiplatform_layout: Path,
                                                   multiplatform_facts: MultiPlatformFacts
                                                   ) -> None:
    server = registry_plain
    staging, prod = _repos()
    _push(server, small_image_formats.oci_layout, small_image_formats.ref, staging, "1")
    evaluated = resolve_digest(f"{server.host}/{staging}:1", _options(server))
    # Between evaluation and promotion someone points the tag at another image.
    moved = _push(server, multiplatform_layout, multiplatform_facts.ref, staging, "1")
    assert moved.digest != evaluated.digest

    result = copy_image(f"{server.host}/{staging}:1", evaluated.digest,
                        f"{server.host}/{prod}:1", _options(server))

    assert result.digest == evaluated.digest
    assert skopeo_inspect(server, f"{prod}:1")["Digest"] == evaluated.digest
    assert skopeo_inspect(server, f"{staging}:1")["Digest"] == moved.digest


def test_corrupted_source_manifest_writes_nothing(registry_plain: RegistryServer,
                                                  fault_proxy: FaultProxy,
                                                  small_image_formats: ImageFormats) -> None:
    staging, prod = _repos()
    pushed = _push(registry_plain, small_image_formats.oci_layout, small_image_formats.ref,
                   staging, "1")
    fault_proxy.add(Fault.corrupt(40, path=r"/manifests/sha256:", times=None))
    options = _options(registry_plain)

    with pytest.raises(DigestMismatchError, match=pushed.digest):
        copy_image(f"{fault_proxy.host}/{staging}:1", pushed.digest,
                   f"{registry_plain.host}/{prod}:1", options)

    _assert_tag_absent(registry_plain, prod, "1")
    with _client(registry_plain) as client, pytest.raises(ImageNotFoundError):
        client.list_tags(prod)  # not even the repository was created


def test_corrupted_layer_in_transit_leaves_the_tag_unwritten(
        registry_plain: RegistryServer, fault_proxy: FaultProxy,
        small_image_formats: ImageFormats) -> None:
    staging, prod = _repos()
    pushed = _push(registry_plain, small_image_formats.oci_layout, small_image_formats.ref,
                   staging, "1")
    fault_proxy.add(Fault.corrupt(100, path=r"/blobs/sha256:", times=None))

    with pytest.raises(DigestMismatchError):
        copy_image(f"{fault_proxy.host}/{staging}:1", pushed.digest,
                   f"{registry_plain.host}/{prod}:1", _options(registry_plain))

    _assert_tag_absent(registry_plain, prod, "1")


def test_destination_that_cannot_serve_the_copy_gets_no_tag(
        registry_plain: RegistryServer, fault_proxy: FaultProxy,
        small_image_formats: ImageFormats) -> None:
    staging, prod = _repos()
    pushed = _push(registry_plain, small_image_formats.oci_layout, small_image_formats.ref,
                   staging, "1")
    # The read-back by digest, before the tag is written, comes back corrupted.
    fault_proxy.add(Fault.corrupt(40, path=rf"/{prod}/manifests/sha256:", times=None))

    with pytest.raises(DigestMismatchError):
        copy_image(f"{registry_plain.host}/{staging}:1", pushed.digest,
                   f"{fault_proxy.host}/{prod}:1", _options(registry_plain))

    _assert_tag_absent(registry_plain, prod, "1")


def test_destination_tag_naming_another_digest_is_detected(
        registry_plain: RegistryServer, small_image_formats: ImageFormats,
        multiplatform_layout: Path, multiplatform_facts: MultiPlatformFacts) -> None:
    staging, prod = _repos()
    pushed = _push(registry_plain, small_image_formats.oci_layout, small_image_formats.ref,
                   staging, "1")
    other = _push(registry_plain, multiplatform_layout, multiplatform_facts.ref, staging,
                  "other")
    with _client(registry_plain) as client:
        impostor = client.get_manifest(staging, other.digest).data

    def lie(method: str, path: str) -> Canned | None:
        if method == "GET" and path == f"/v2/{prod}/manifests/1":
            return Canned(200, impostor, {"Content-Type": mediatypes.OCI_INDEX,
                                          "Docker-Content-Digest": other.digest})
        return None

    with OverrideProxy(registry_plain.host, lie) as proxy, \
            pytest.raises(CopyVerificationError, match=other.digest) as raised:
        copy_image(f"{registry_plain.host}/{staging}:1", pushed.digest,
                   f"{proxy.host}/{prod}:1", _options(registry_plain))
    assert isinstance(raised.value, DigestMismatchError)


def test_pinned_references_must_agree_with_the_digest(registry_plain: RegistryServer) -> None:
    digest = "sha256:" + "a" * 64
    other = "sha256:" + "b" * 64
    with pytest.raises(InvalidReferenceError, match="destination is pinned"):
        copy_image(f"{registry_plain.host}/a/b:1", digest,
                   f"{registry_plain.host}/c/d@{other}", _options(registry_plain))
    with pytest.raises(InvalidReferenceError, match="promotion needs a registry"):
        copy_image(f"dir:{Path(__file__).parent}", digest, f"{registry_plain.host}/c/d:1")
