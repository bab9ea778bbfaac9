"""Referrers (evaluation report, SBOM) attached to promoted images on real registries.

``docker-registry`` (distribution 2.8) has no referrers API, so these exercise the referrers
tag schema; a proxy that answers the referrers API shows the other path.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import httpx
import pytest

from hullscan.errors import DigestMismatchError
from hullscan.image import mediatypes
from hullscan.image.acquire import open_image
from hullscan.image.digest import digest_of
from hullscan.image.push import PushResult, PushTarget, push_image
from hullscan.image.referrers import (
    EMPTY_CONFIG_DIGEST,
    AttachedReferrer,
    ReferrersError,
    ReferrersMode,
    attach_referrer,
    fetch_referrer_payload,
    list_referrers,
    referrers_mode,
    referrers_tag,
)
from hullscan.image.registry.client import RegistryClient, RegistryOptions
from hullscan.image.registry.credentials import RegistryCredentials
from tests.image.override_proxy import Canned, OverrideProxy
from tests.support.registry_servers import RegistryServer, skopeo_inspect
from tests.support.standard_images import ImageFormats, MultiPlatformFacts

REPORT_TYPE = "application/vnd.hullscan.evaluation.v1+json"
SBOM_TYPE = "application/vnd.cyclonedx+json"
REPORT = json.dumps({"result": "pass", "policy": "prod"}).encode()
SBOM = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}).encode()
_counter = itertools.count()


def _client(server: RegistryServer) -> RegistryClient:
    credentials = None
    if server.username is not None:
        credentials = RegistryCredentials(server.username, server.password, None, "test")
    return RegistryClient(server.host, credentials=credentials,
                          options=RegistryOptions(ca_cert=server.ca_cert))


def _push(server: RegistryServer, layout: Path, ref: str) -> tuple[str, PushResult]:
    repository = f"prod/ref{next(_counter)}"
    with open_image(f"oci-dir:{layout}:{ref}") as source, _client(server) as client:
        return repository, push_image(source, PushTarget(client, repository, "1"))


def _attach(client: RegistryClient, repository: str, subject: str, media_type: str,
            size: int, artifact_type: str, payload: bytes) -> AttachedReferrer:
    return attach_referrer(
        client, repository, subject_digest=subject, subject_media_type=media_type,
        subject_size=size, artifact_type=artifact_type, payload=payload,
        payload_media_type="application/json")


def test_referrers_tag_follows_the_spec() -> None:
    assert referrers_tag("sha256:" + "a" * 64) == "sha256-" + "a" * 64
    assert referrers_tag("sha512:" + "b" * 128) == "sha512-" + "b" * 64
    odd = ("test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise"
           "+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLots"
           "AndLotsOfCharactersToExcerciseEncodedTruncation")
    assert referrers_tag(odd) == ("test-algorithm-using-algorithm-s-alsoSome-InTheEncoded"
                                  "SectionToShowHyphenReplacementAndLotsAndLot")


@pytest.mark.parametrize("kind", ["plain", "basic", "token"])
def test_report_and_sbom_attached_through_the_tag_schema(
        request: pytest.FixtureRequest, kind: str, small_image_formats: ImageFormats) -> None:
    server: RegistryServer = request.getfixturevalue(f"registry_{kind}")
    repository, pushed = _push(server, small_image_formats.oci_layout, small_image_formats.ref)
    with _client(server) as client:
        subject = client.get_manifest(repository, pushed.digest)
        size = len(subject.data)
        assert referrers_mode(client, repository, pushed.digest) is ReferrersMode.TAG_SCHEMA
        assert list_referrers(client, repository, pushed.digest) == ()

        report = attach_referrer(
            client, repository, subject_digest=pushed.digest,
            subject_media_type=mediatypes.OCI_MANIFEST, subject_size=size,
            artifact_type=REPORT_TYPE, payload=REPORT, payload_media_type="application/json",
            annotations={"org.opencontainers.image.created": "2026-01-01T00:00:00Z"})
        sbom = attach_referrer(
            client, repository, subject_digest=pushed.digest,
            subject_media_type=mediatypes.OCI_MANIFEST, subject_size=size,
            artifact_type=SBOM_TYPE, payload=SBOM, payload_media_type=SBOM_TYPE)

        tag = "sha256-" + pushed.digest.removeprefix("sha256:")
        assert (report.mode, report.referrers_tag) == (ReferrersMode.TAG_SCHEMA, tag)
        assert sbom.referrers_tag == tag
        listed = list_referrers(client, repository, pushed.digest)
        assert [(r.digest, r.artifact_type) for r in listed] == [
            (report.digest, REPORT_TYPE), (sbom.digest, SBOM_TYPE)]
        assert listed[0].annotations == {
            "org.opencontainers.image.created": "2026-01-01T00:00:00Z"}
        only_sbom = list_referrers(client, repository, pushed.digest, artifact_type=SBOM_TYPE)
        assert [r.digest for r in only_sbom] == [sbom.digest]
        assert fetch_referrer_payload(client, repository, sbom.digest, max_bytes=1 << 20) == (
            SBOM_TYPE, SBOM)

        # Attaching the same artifact again neither duplicates it nor rewrites the tag.
        again = attach_referrer(
            client, repository, subject_digest=pushed.digest,
            subject_media_type=mediatypes.OCI_MANIFEST, subject_size=size,
            artifact_type=SBOM_TYPE, payload=SBOM, payload_media_type=SBOM_TYPE)
        assert (again.digest, again.referrers_tag) == (sbom.digest, None)
        assert len(list_referrers(client, repository, pushed.digest)) == 2

    # An independent client sees the tag-schema index and the artifact manifests.
    index = skopeo_inspect(server, f"{repository}:{tag}", raw=True)
    assert index["mediaType"] == mediatypes.OCI_INDEX
    assert [(m["digest"], m["artifactType"], m["mediaType"]) for m in index["manifests"]] == [
        (report.digest, REPORT_TYPE, mediatypes.OCI_MANIFEST),
        (sbom.digest, SBOM_TYPE, mediatypes.OCI_MANIFEST)]
    artifact = skopeo_inspect(server, f"{repository}@{report.digest}", raw=True)
    assert artifact["artifactType"] == REPORT_TYPE
    assert artifact["config"] == {"mediaType": mediatypes.OCI_EMPTY,
                                  "digest": EMPTY_CONFIG_DIGEST, "size": 2}
    assert artifact["layers"] == [{"mediaType": "application/json",
                                   "digest": digest_of(REPORT), "size": len(REPORT)}]
    assert artifact["subject"] == {"mediaType": mediatypes.OCI_MANIFEST,
                                   "digest": pushed.digest, "size": size}


def test_raw_http_shows_no_referrers_api_but_the_tag(registry_plain: RegistryServer,
                                                     small_image_formats: ImageFormats) -> None:
    server = registry_plain
    repository, pushed = _push(server, small_image_formats.oci_layout, small_image_formats.ref)
    with _client(server) as client:
        size = len(client.get_manifest(repository, pushed.digest).data)
        attached = _attach(client, repository, pushed.digest, mediatypes.OCI_MANIFEST, size,
                           REPORT_TYPE, REPORT)
    with httpx.Client(base_url=server.url, trust_env=False) as http:
        assert http.get(f"/v2/{repository}/referrers/{pushed.digest}").status_code == 404
        tags = http.get(f"/v2/{repository}/tags/list").json()["tags"]
        assert sorted(tags) == sorted(["1", referrers_tag(pushed.digest)])
        response = http.get(f"/v2/{repository}/manifests/{referrers_tag(pushed.digest)}",
                            headers={"Accept": mediatypes.OCI_INDEX})
        assert response.headers["content-type"] == mediatypes.OCI_INDEX
        assert [m["digest"] for m in response.json()["manifests"]] == [attached.digest]


def test_referrer_attached_to_a_multi_platform_index(registry_plain: RegistryServer,
                                                     multiplatform_layout: Path,
                                                     multiplatform_facts: MultiPlatformFacts
                                                     ) -> None:
    server = registry_plain
    repository, pushed = _push(server, multiplatform_layout, multiplatform_facts.ref)
    with _client(server) as client:
        index = client.get_manifest(repository, pushed.digest)
        attached = _attach(client, repository, pushed.digest, mediatypes.OCI_INDEX,
                           len(index.data), SBOM_TYPE, SBOM)
        listed = list_referrers(client, repository, pushed.digest)
    assert [r.digest for r in listed] == [attached.digest]
    # The index itself is unchanged: referrers live beside it, not in it.
    assert skopeo_inspect(server, f"{repository}:1", raw=True) == json.loads(index.data)


def test_referrers_tag_that_is_not_an_index_is_left_alone(
        registry_plain: RegistryServer, small_image_formats: ImageFormats) -> None:
    server = registry_plain
    repository, pushed = _push(server, small_image_formats.oci_layout, small_image_formats.ref)
    tag = referrers_tag(pushed.digest)
    with _client(server) as client:
        manifest = client.get_manifest(repository, pushed.digest)
        # Someone tagged an image manifest with the referrers tag.
        client.put_manifest(repository, tag, manifest.data, mediatypes.OCI_MANIFEST)
        with pytest.raises(ReferrersError, match="not an OCI image index"):
            _attach(client, repository, pushed.digest, mediatypes.OCI_MANIFEST,
                    len(manifest.data), REPORT_TYPE, REPORT)
        assert client.get_manifest(repository, tag).digest == pushed.digest


def test_registry_with_the_referrers_api_gets_no_tag(registry_plain: RegistryServer,
                                                     small_image_formats: ImageFormats) -> None:
    repository, pushed = _push(registry_plain, small_image_formats.oci_layout,
                               small_image_formats.ref)
    listed: list[dict[str, object]] = []

    def referrers_api(method: str, path: str) -> Canned | None:
        if method == "GET" and path == f"/v2/{repository}/referrers/{pushed.digest}":
            body = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
                               "manifests": listed}).encode()
            return Canned(200, body, {"Content-Type": mediatypes.OCI_INDEX})
        return None

    with OverrideProxy(registry_plain.host, referrers_api) as proxy, \
            RegistryClient(proxy.host) as client:
        size = len(client.get_manifest(repository, pushed.digest).data)
        attached = attach_referrer(
            client, repository, subject_digest=pushed.digest,
            subject_media_type=mediatypes.OCI_MANIFEST, subject_size=size,
            artifact_type=REPORT_TYPE, payload=REPORT, payload_media_type="application/json")
        assert (attached.mode, attached.referrers_tag) == (ReferrersMode.API, None)
        listed.append({"mediaType": mediatypes.OCI_MANIFEST, "digest": attached.digest,
                       "size": attached.size, "artifactType": REPORT_TYPE})
        assert [r.digest for r in list_referrers(client, repository, pushed.digest)] == [
            attached.digest]
    with _client(registry_plain) as direct:
        assert referrers_tag(pushed.digest) not in direct.list_tags(repository)
        # The artifact manifest itself was pushed, by digest.
        assert direct.get_manifest(repository, attached.digest).digest == attached.digest


def test_payload_of_a_tampered_artifact_is_refused(registry_plain: RegistryServer,
                                                   small_image_formats: ImageFormats) -> None:
    repository, pushed = _push(registry_plain, small_image_formats.oci_layout,
                               small_image_formats.ref)
    with _client(registry_plain) as client:
        size = len(client.get_manifest(repository, pushed.digest).data)
        attached = _attach(client, repository, pushed.digest, mediatypes.OCI_MANIFEST, size,
                           REPORT_TYPE, REPORT)
    tampered = b'{"result": "fail"}'

    def swap_blob(method: str, path: str) -> Canned | None:
        if method == "GET" and path == f"/v2/{repository}/blobs/{digest_of(REPORT)}":
            return Canned(200, tampered, {"Content-Type": "application/octet-stream"})
        return None

    with OverrideProxy(registry_plain.host, swap_blob) as proxy, \
            RegistryClient(proxy.host) as client, pytest.raises(DigestMismatchError):
        fetch_referrer_payload(client, repository, attached.digest,
                               max_bytes=1 << 20)
