"""Real tests of the registry test infrastructure (docker-registry, token server, skopeo)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509

from tests.support.pki import RegistryPki, libtrust_key_id, load_certificate, make_test_pki
from tests.support.registry_servers import (
    REGISTRY_KINDS,
    RegistryKind,
    RegistryServer,
    SkopeoError,
    running_registry,
    skopeo_copy,
    skopeo_delete,
    skopeo_inspect,
    start_registry,
)
from tests.support.token_server import ResourceAccess, TokenServer

pytestmark = pytest.mark.registry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


# -- a hand-made OCI image layout --------------------------------------------------------------


@dataclass(frozen=True)
class OciImage:
    """A minimal OCI image layout on disk."""

    path: Path
    tag: str
    manifest: dict[str, Any]
    manifest_digest: str
    config_digest: str
    layer_digest: str
    diff_id: str

    @property
    def ref(self) -> str:
        """``oci:DIR:TAG`` for skopeo."""
        return f"oci:{self.path}:{self.tag}"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def build_oci_image(path: Path, *, tag: str = "latest", content: bytes = b"hello\n") -> OciImage:
    """Write a one-layer OCI image layout (one small gzip layer) to ``path``."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("etc/hullscan-test.txt")
        info.size = len(content)
        info.mode = 0o644
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    layer_tar = tar_buf.getvalue()
    layer = gzip.compress(layer_tar, mtime=0)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [_sha256(layer_tar)]},
        "history": [{"created_by": "hullscan test fixture"}],
    }
    config_bytes = _canonical(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": _sha256(config_bytes),
            "size": len(config_bytes),
        },
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": _sha256(layer), "size": len(layer)}],
    }
    manifest_bytes = _canonical(manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": _sha256(manifest_bytes),
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    blobs = path / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for blob in (layer, config_bytes, manifest_bytes):
        (blobs / hashlib.sha256(blob).hexdigest()).write_bytes(blob)
    (path / "oci-layout").write_bytes(_canonical({"imageLayoutVersion": "1.0.0"}))
    (path / "index.json").write_bytes(_canonical(index))
    return OciImage(
        path=path,
        tag=tag,
        manifest=manifest,
        manifest_digest=_sha256(manifest_bytes),
        config_digest=_sha256(config_bytes),
        layer_digest=_sha256(layer),
        diff_id=_sha256(layer_tar),
    )


@pytest.fixture
def oci_image(tmp_path: Path) -> OciImage:
    """A fresh minimal OCI image layout."""
    return build_oci_image(tmp_path / "oci-image")


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _push(image: OciImage, server: RegistryServer, repo_tag: str) -> None:
    skopeo_copy(image.ref, server.ref(repo_tag), dest_server=server)


def _assert_is_image(info: dict[str, Any], image: OciImage) -> None:
    assert info["Digest"] == image.manifest_digest
    assert info["Layers"] == [image.layer_digest]
    assert info["Os"] == "linux"
    assert info["Architecture"] == "amd64"


# -- PKI -----------------------------------------------------------------------------------------


def test_pki_server_certificate_chains_to_ca_with_sans(registry_pki: RegistryPki) -> None:
    ca = load_certificate(registry_pki.ca.cert)
    server = load_certificate(registry_pki.server.cert)
    issuer = load_certificate(registry_pki.token_issuer.cert)
    server.verify_directly_issued_by(ca)
    issuer.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_libtrust_key_id_format(registry_pki: RegistryPki) -> None:
    key_id = libtrust_key_id(load_certificate(registry_pki.token_issuer.cert).public_key())
    groups = key_id.split(":")
    assert len(groups) == 12
    assert all(len(g) == 4 and g.isalnum() and g.upper() == g for g in groups)


# -- every kind ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", REGISTRY_KINDS)
def test_push_inspect_and_pull_roundtrip(
    kind: RegistryKind, request: pytest.FixtureRequest, oci_image: OciImage, tmp_path: Path
) -> None:
    server: RegistryServer = request.getfixturevalue(f"registry_{kind}")
    assert server.kind == kind
    assert server.host.startswith("127.0.0.1:")
    assert server.url == f"{'https' if kind == 'tls' else 'http'}://{server.host}"
    assert (server.username is None) == (kind in ("plain", "tls"))
    assert (server.token_server is None) == (kind != "token")
    assert (server.ca_cert is None) == (kind != "tls")
    repo = _unique(f"roundtrip/{kind}")

    _push(oci_image, server, f"{repo}:v1")

    _assert_is_image(skopeo_inspect(server, f"{repo}:v1"), oci_image)
    assert skopeo_inspect(server, f"{repo}:v1", raw=True) == oci_image.manifest
    config = skopeo_inspect(server, f"{repo}:v1", config=True)
    assert config["rootfs"]["diff_ids"] == [oci_image.diff_id]

    pulled = tmp_path / "pulled"
    skopeo_copy(server.ref(f"{repo}:v1"), f"oci:{pulled}:v1", src_server=server)
    layer_path = pulled / "blobs" / "sha256" / oci_image.layer_digest.removeprefix("sha256:")
    assert layer_path.is_file()


def test_skopeo_flags() -> None:
    http = RegistryServer("basic", "127.0.0.1:1", "http://127.0.0.1:1", "u", "p", None, None)
    assert http.skopeo_flags("src") == ["--src-tls-verify=false", "--src-creds", "u:p"]
    assert http.anonymous().skopeo_flags(None) == ["--tls-verify=false", "--no-creds"]
    tls = RegistryServer(
        "tls",
        "127.0.0.1:2",
        "https://127.0.0.1:2",
        None,
        None,
        Path("/x/ca.crt"),
        None,
        cert_dir=Path("/x"),
    )
    assert tls.skopeo_flags("dest") == ["--dest-cert-dir", "/x", "--dest-no-creds"]


def test_registry_stops_cleanly(tmp_path: Path) -> None:
    running = start_registry("plain", tmp_path)
    url = running.server.url
    assert httpx.get(f"{url}/v2/").status_code == 200
    running.stop()
    assert running.process.returncode is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v2/", timeout=2)


# -- plain / tls ---------------------------------------------------------------------------------


def test_plain_registry_is_open(registry_plain: RegistryServer) -> None:
    response = httpx.get(f"{registry_plain.url}/v2/")
    assert response.status_code == 200
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_delete_is_enabled(registry_plain: RegistryServer, oci_image: OciImage) -> None:
    repo = _unique("plain/deleted")
    _push(oci_image, registry_plain, f"{repo}:v1")
    skopeo_delete(registry_plain, f"{repo}:v1")
    with pytest.raises(SkopeoError, match=r"(?i)manifest unknown|not found"):
        skopeo_inspect(registry_plain, f"{repo}:v1")


def test_tls_registry_needs_the_test_ca(registry_tls: RegistryServer, oci_image: OciImage) -> None:
    assert httpx.get(f"{registry_tls.url}/v2/", verify=registry_tls.ssl_context()).is_success
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{registry_tls.url}/v2/")  # system trust store only
    repo = _unique("tls/untrusted")
    _push(oci_image, registry_tls, f"{repo}:v1")
    untrusted = RegistryServer(
        "tls", registry_tls.host, registry_tls.url, None, None, None, None, cert_dir=None
    )
    with pytest.raises(SkopeoError, match=r"x509|certificate"):
        skopeo_inspect(untrusted, f"{repo}:v1")


# -- basic ---------------------------------------------------------------------------------------


def test_basic_registry_refuses_missing_or_wrong_credentials(
    registry_basic: RegistryServer, oci_image: OciImage
) -> None:
    response = httpx.get(f"{registry_basic.url}/v2/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert httpx.get(f"{registry_basic.url}/v2/", auth=registry_basic.credentials).is_success
    assert registry_basic.username is not None
    wrong = registry_basic.with_credentials(registry_basic.username, "wrong-password")
    assert httpx.get(f"{registry_basic.url}/v2/", auth=wrong.credentials).status_code == 401

    repo = _unique("basic/private")
    _push(oci_image, registry_basic, f"{repo}:v1")
    for client in (registry_basic.anonymous(), wrong):
        with pytest.raises(SkopeoError, match=r"(?i)unauthorized|authentication"):
            skopeo_inspect(client, f"{repo}:v1")
        with pytest.raises(SkopeoError):
            _push(oci_image, client, f"{repo}:v2")


# -- token ---------------------------------------------------------------------------------------


def _token_server(server: RegistryServer) -> TokenServer:
    assert server.token_server is not None
    return server.token_server


def test_token_registry_challenges_with_bearer(registry_token: RegistryServer) -> None:
    tokens = _token_server(registry_token)
    response = httpx.get(f"{registry_token.url}/v2/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{tokens.realm}",service="{tokens.service}"'
    )


def test_token_private_repo_refuses_anonymous_and_wrong_credentials(
    registry_token: RegistryServer, oci_image: OciImage
) -> None:
    tokens = _token_server(registry_token)
    repo = _unique("team/private")
    _push(oci_image, registry_token, f"{repo}:v1")
    _assert_is_image(skopeo_inspect(registry_token, f"{repo}:v1"), oci_image)

    with pytest.raises(SkopeoError, match=r"(?i)unauthorized|authentication"):
        skopeo_inspect(registry_token.anonymous(), f"{repo}:v1")
    with pytest.raises(SkopeoError):
        _push(oci_image, registry_token.anonymous(), f"{repo}:v2")
    assert registry_token.username is not None
    wrong = registry_token.with_credentials(registry_token.username, "wrong-password")
    with pytest.raises(SkopeoError):
        skopeo_inspect(wrong, f"{repo}:v1")

    seen = [r for r in tokens.requests if any(repo in s for s in r.scopes)]
    refused = [r for r in seen if r.status == 401]
    assert refused, seen
    assert all(r.basic_auth and r.username == registry_token.username for r in refused)
    anonymous = [r for r in seen if not r.basic_auth]
    assert anonymous
    assert all(r.status == 200 and r.username is None and r.granted == () for r in anonymous)


def test_token_public_repo_allows_anonymous_pull_only(
    registry_token: RegistryServer, oci_image: OciImage, tmp_path: Path
) -> None:
    tokens = _token_server(registry_token)
    repo = _unique("public/scanner-test")
    _push(oci_image, registry_token, f"{repo}:v1")

    anonymous = registry_token.anonymous()
    _assert_is_image(skopeo_inspect(anonymous, f"{repo}:v1"), oci_image)
    skopeo_copy(anonymous.ref(f"{repo}:v1"), f"oci:{tmp_path / 'pulled'}:v1", src_server=anonymous)
    with pytest.raises(SkopeoError):
        _push(oci_image, anonymous, f"{repo}:v2")

    seen = [r for r in tokens.requests if any(repo in s for s in r.scopes)]
    pushes = [r for r in seen if f"repository:{repo}:pull,push" in r.scopes and r.basic_auth]
    assert pushes
    assert all(r.username == registry_token.username and r.status == 200 for r in pushes)
    assert all(r.service == tokens.service and r.path == "/token" for r in seen)
    anon = [r for r in seen if not r.basic_auth]
    assert any(f"repository:{repo}:pull" in r.scopes for r in anon)
    for request in anon:
        assert request.username is None
        assert all(g.actions == ("pull",) for g in request.granted)


def test_token_server_issues_verifiable_jwts(registry_token: RegistryServer) -> None:
    tokens = _token_server(registry_token)
    response = httpx.get(
        tokens.realm,
        params=[("service", tokens.service), ("scope", "registry:catalog:*")],
        auth=registry_token.credentials,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert body["issued_at"].endswith("Z")

    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "RS256"
    issuer_cert = load_certificate(tokens.issuer_cert.cert)
    claims = jwt.decode(
        body["token"],
        issuer_cert.public_key(),  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience=tokens.service,
        issuer=tokens.issuer,
    )
    assert claims["sub"] == registry_token.username
    assert claims["access"] == [{"type": "registry", "name": "catalog", "actions": ["*"]}]
    bearer = {"Authorization": f"Bearer {body['token']}"}
    catalog = httpx.get(f"{registry_token.url}/v2/_catalog", headers=bearer)
    assert catalog.status_code == 200
    assert "repositories" in catalog.json()


def test_token_registry_rejects_forged_or_misaddressed_tokens(
    registry_token: RegistryServer, tmp_path: Path
) -> None:
    tokens = _token_server(registry_token)
    catalog = [ResourceAccess("registry", "catalog", ("*",))]
    url = f"{registry_token.url}/v2/_catalog"

    def status(token: str) -> int:
        return httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code

    good, _ = tokens.issue_token("someone", catalog)
    assert status(good) == 200
    wrong_audience, _ = tokens.issue_token("someone", catalog, audience="another-service")
    assert status(wrong_audience) == 401

    other_pki = make_test_pki(tmp_path / "other-pki")
    forger = TokenServer(
        other_pki.token_issuer, users={}, service=tokens.service, issuer=tokens.issuer
    )
    try:
        forged, _ = forger.issue_token("someone", catalog)
    finally:
        forger.stop()
    assert status(forged) == 401


def test_token_server_rules(registry_pki: RegistryPki) -> None:
    with TokenServer(registry_pki.token_issuer, users={"alice": "s3cret"}) as tokens:

        def ask(*scopes: str, auth: tuple[str, str] | None = None) -> httpx.Response:
            params = (("service", tokens.service), *(("scope", s) for s in scopes))
            return httpx.get(tokens.realm, params=params, auth=auth)

        def access(response: httpx.Response) -> Any:
            assert response.status_code == 200, response.text
            return jwt.decode(response.json()["token"], options={"verify_signature": False})[
                "access"
            ]

        assert access(ask("repository:public/a:pull,push", "repository:private/b:pull")) == [
            {"type": "repository", "name": "public/a", "actions": ["pull"]}
        ]
        assert access(ask("repository:private/b:pull,push", auth=("alice", "s3cret"))) == [
            {"type": "repository", "name": "private/b", "actions": ["pull", "push"]}
        ]
        assert access(ask("repository:localhost:5000/x:pull", auth=("alice", "s3cret"))) == [
            {"type": "repository", "name": "localhost:5000/x", "actions": ["pull"]}
        ]
        refused = ask("repository:public/a:pull", auth=("alice", "nope"))
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Basic ")
        assert ask(auth=("mallory", "s3cret")).status_code == 401
        assert ask("garbage").status_code == 400
        assert httpx.get(f"{tokens.url}/elsewhere").status_code == 404
        oauth = httpx.post(
            tokens.realm,
            data={
                "grant_type": "password",
                "username": "alice",
                "password": "s3cret",
                "service": tokens.service,
                "scope": "repository:a:pull repository:b:push",
            },
        )
        assert [a["name"] for a in access(oauth)] == ["a", "b"]

        log = tokens.requests
        assert [r.status for r in log] == [200, 200, 200, 401, 401, 400, 404, 200]
        assert [r.basic_auth for r in log] == [False, True, True, True, True, False, False, True]
        assert [r.username for r in log][:5] == [None, "alice", "alice", "alice", "mallory"]
        assert log[0].scopes == ("repository:public/a:pull,push", "repository:private/b:pull")
        assert log[0].query["service"] == (tokens.service,)
        assert log[-1].method == "POST"
        tokens.clear_requests()
        assert tokens.requests == ()


def test_token_registry_with_libtrust_kid(
    registry_pki: RegistryPki, tmp_path: Path, oci_image: OciImage
) -> None:
    with running_registry("token", tmp_path / "kid", pki=registry_pki, key_id_mode="kid") as server:
        tokens = _token_server(server)
        token, _ = tokens.issue_token("x", [ResourceAccess("registry", "catalog", ("*",))])
        header = jwt.get_unverified_header(token)
        assert "x5c" not in header
        assert header["kid"] == libtrust_key_id(
            load_certificate(registry_pki.token_issuer.cert).public_key()
        )
        repo = _unique("kid/repo")
        _push(oci_image, server, f"{repo}:v1")
        _assert_is_image(skopeo_inspect(server, f"{repo}:v1"), oci_image)
        with pytest.raises(SkopeoError):
            skopeo_inspect(server.anonymous(), f"{repo}:v1")
