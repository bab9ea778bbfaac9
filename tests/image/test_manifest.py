"""Manifest and index parsing, platform selection, config parsing and history linking."""

from __future__ import annotations

import json

import pytest

from hullscan.errors import (
    CorruptContentError,
    ImageNotFoundError,
    InvalidReferenceError,
    UnsupportedManifestError,
)
from hullscan.image import mediatypes
from hullscan.image.config import parse_config
from hullscan.image.manifest import ImageIndex, ImageManifest, Platform, parse_manifest
from hullscan.image.model import link_layers

D1, D2, D3 = ("sha256:" + c * 64 for c in "123")


def _manifest(layer_type: str = mediatypes.OCI_LAYER_GZIP, **extra: object) -> bytes:
    return json.dumps({
        "schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": D1, "size": 10},
        "layers": [{"mediaType": layer_type, "digest": D2, "size": 20}], **extra}).encode()


def _index(*platforms: tuple[str, str, str | None], attestation: bool = True) -> bytes:
    manifests = [{"mediaType": mediatypes.OCI_MANIFEST, "digest": "sha256:" + str(i) * 64,
                  "size": 5, "platform": {"os": os_, "architecture": arch,
                                          **({"variant": var} if var else {})}}
                 for i, (os_, arch, var) in enumerate(platforms, start=1)]
    if attestation:
        manifests.insert(0, {"mediaType": mediatypes.OCI_MANIFEST, "digest": D3, "size": 5,
                             "platform": {"os": "unknown", "architecture": "unknown"},
                             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}})
    return json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
                       "manifests": manifests}).encode()


def test_image_manifest_is_parsed() -> None:
    manifest = parse_manifest(_manifest(), None, subject="x")
    assert isinstance(manifest, ImageManifest)
    assert manifest.config.digest == D1
    assert [layer.digest for layer in manifest.layers] == [D2]


def test_docker_manifest_without_media_type_in_body_uses_the_header() -> None:
    body = json.loads(_manifest(layer_type=mediatypes.DOCKER_LAYER_GZIP))
    del body["mediaType"]
    body["config"]["mediaType"] = mediatypes.DOCKER_CONFIG
    parsed = parse_manifest(json.dumps(body).encode(), mediatypes.DOCKER_MANIFEST, subject="x")
    assert isinstance(parsed, ImageManifest)
    assert parsed.media_type == mediatypes.DOCKER_MANIFEST


def test_platform_selection_skips_attestations_and_fills_variants() -> None:
    index = parse_manifest(_index(("linux", "amd64", None), ("linux", "arm64", "v8")), None,
                           subject="x")
    assert isinstance(index, ImageIndex)
    assert index.select(Platform.parse("linux/amd64"), subject="x").digest == "sha256:" + "1" * 64
    assert index.select(Platform.parse("linux/arm64"), subject="x").digest == "sha256:" + "2" * 64
    with pytest.raises(ImageNotFoundError, match=r"linux/s390x.*linux/amd64, linux/arm64/v8"):
        index.select(Platform.parse("linux/s390x"), subject="x")


def test_an_index_of_only_attestations_offers_nothing() -> None:
    index = parse_manifest(_index(), None, subject="x")
    assert isinstance(index, ImageIndex)
    with pytest.raises(ImageNotFoundError):
        index.select(Platform.parse("linux/amd64"), subject="x")


@pytest.mark.parametrize(("data", "error", "reason"), [
    (json.dumps({"schemaVersion": 1, "name": "x", "fsLayers": []}).encode(),
     UnsupportedManifestError, "schema 1"),
    (b"{not json", CorruptContentError, "not valid JSON"),
    (b"[1, 2]", CorruptContentError, "not a JSON object"),
    (_manifest(layer_type="application/x-unknown"), UnsupportedManifestError, "x-unknown"),
    (json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                 "layers": []}).encode(), CorruptContentError, "no config"),
    (json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                 "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": "sha256:zz",
                            "size": 1}, "layers": []}).encode(),
     InvalidReferenceError, "invalid or unsupported digest"),
    (b" " * (5 * 1024 * 1024), CorruptContentError, "larger than"),
])
def test_bad_manifests_are_refused_clearly(data: bytes, error: type[Exception],
                                           reason: str) -> None:
    with pytest.raises(error, match=reason):
        parse_manifest(data, None, subject="x")


def test_artifact_manifests_are_not_images() -> None:
    body = json.loads(_manifest())
    body["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json"
    with pytest.raises(UnsupportedManifestError, match="not a container image"):
        parse_manifest(json.dumps(body).encode(), None, subject="x")


def _config(history: list[dict[str, object]], diff_ids: list[str]) -> bytes:
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "app", "Env": ["PATH=/bin", "TOKEN=secret"],
                   "ExposedPorts": {"8080/tcp": {}, "22/tcp": {}}, "Cmd": ["run"],
                   "Healthcheck": {"Test": ["CMD", "true"]}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": history}).encode()


def test_config_links_layers_to_their_history_entries() -> None:
    history = [{"created_by": "ADD rootfs /"}, {"created_by": "ENV A=1", "empty_layer": True},
               {"created_by": "RUN make"}]
    config = parse_config(_config(history, [D1, D2]), subject="x")
    assert config.env_names == ("PATH", "TOKEN")
    assert config.exposed_ports == ("22/tcp", "8080/tcp")
    assert config.healthcheck == ("CMD", "true")
    layers = link_layers(config, [(D3, mediatypes.OCI_LAYER_GZIP, 5), (D3, None, 6)])
    assert [(layer.created_by, layer.history_index) for layer in layers] == [
        ("ADD rootfs /", 0), ("RUN make", 2)]
    assert [layer.diff_id for layer in layers] == [D1, D2]


def test_short_history_leaves_later_layers_without_a_step() -> None:
    config = parse_config(_config([{"created_by": "ADD x /"}], [D1, D2]), subject="x")
    layers = link_layers(config, [(None, None, 1), (None, None, 2)])
    assert layers[1].created_by is None and layers[0].created_by == "ADD x /"


@pytest.mark.parametrize("document", [
    {"rootfs": {"diff_ids": "nope"}},
    {"rootfs": {"diff_ids": [1]}},
    {"config": [], "rootfs": {"diff_ids": []}},
    {"history": {}, "rootfs": {"diff_ids": []}},
])
def test_malformed_configs_are_refused(document: dict[str, object]) -> None:
    with pytest.raises(CorruptContentError):
        parse_config(json.dumps(document).encode(), subject="x")
