"""Push to and pull from real ``docker-registry`` servers (plain, Basic, TLS, token), checked
against skopeo as an independent client."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from hullscan.errors import AuthenticationError, ImageNotFoundError, RegistryError
from hullscan.image.acquire import open_image, read_image
from hullscan.image.manifest import Platform
from hullscan.image.push import PushResult, PushTarget, push_image
from hullscan.image.registry.client import RegistryClient, RegistryOptions
from hullscan.image.registry.credentials import RegistryCredentials
from hullscan.image.sources.interface import AcquireOptions
from tests.support.registry_servers import RegistryServer, skopeo_inspect
from tests.support.standard_images import ImageFacts, ImageFormats

KINDS = ("plain", "basic", "tls", "token")
_counter = itertools.count()


def _server(request: pytest.FixtureRequest, kind: str) -> RegistryServer:
    server: RegistryServer = request.getfixturevalue(f"registry_{kind}")
    return server


def _credentials(server: RegistryServer) -> RegistryCredentials | None:
    if server.username is None:
        return None
    return RegistryCredentials(server.username, server.password, None, "test")


def _options(server: RegistryServer) -> RegistryOptions:
    return RegistryOptions(ca_cert=server.ca_cert)


def _client(server: RegistryServer, credentials: RegistryCredentials | None = None
            ) -> RegistryClient:
    return RegistryClient(server.host, credentials=credentials or _credentials(server),
                          options=_options(server))


class _FixedCredentials:
    """A credential store answering with one fixed set (or none)."""

    def __init__(self, credentials: RegistryCredentials | None) -> None:
        self.credentials = credentials

    def lookup(self, host: str) -> RegistryCredentials | None:
        return self.credentials


def _acquire(server: RegistryServer, credentials: RegistryCredentials | None = None,
             **extra: object) -> AcquireOptions:
    return AcquireOptions(registry=_options(server),
                          credentials=_FixedCredentials(credentials or _credentials(server)),  # type: ignore[arg-type]
                          **extra)  # type: ignore[arg-type]


def _push(layout: Path, ref: str, server: RegistryServer, repository: str, tag: str,
          **target: object) -> PushResult:
    with open_image(f"oci-dir:{layout}:{ref}") as source, _client(server) as client:
        return push_image(source, PushTarget(client, repository, tag, **target))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_push_round_trip_matches_skopeo(request: pytest.FixtureRequest, kind: str,
                                        small_image_formats: ImageFormats,
                                        small_image_facts: ImageFacts) -> None:
    server = _server(request, kind)
    repository = f"roundtrip/{kind}{next(_counter)}"
    result = _push(small_image_formats.oci_layout, small_image_formats.ref, server,
                   repository, "v1")
    assert result.uploaded == small_image_facts.layer_count + 1  # layers and config
    seen = skopeo_inspect(server, f"{repository}:v1")
    assert seen["Digest"] == result.digest
    with open_image(f"registry:{server.host}/{repository}:v1", _acquire(server)) as source:
        metadata = source.metadata
        contents = read_image(source, {p.lstrip("/") for p in small_image_facts.file_contents
                                       }.__contains__)
    assert metadata.manifest_digest == result.digest
    assert [layer.digest for layer in metadata.layers] == seen["Layers"]
    for path, data in small_image_facts.file_contents.items():
        assert contents.filesystem.read(path) == data
    # Pushing again uploads nothing.
    again = _push(small_image_formats.oci_layout, small_image_formats.ref, server,
                  repository, "v1")
    assert (again.uploaded, again.skipped, again.digest) == (0, result.uploaded, result.digest)


def test_registry_image_equals_the_archives(request: pytest.FixtureRequest,
                                            debian_image_formats: ImageFormats) -> None:
    server = _server(request, "plain")
    repository = f"debian/test{next(_counter)}"
    result = _push(debian_image_formats.oci_layout, debian_image_formats.ref, server,
                   repository, "1")
    identities = {}
    for reference in (f"{server.host}/{repository}:1",
                      f"{server.host}/{repository}@{result.digest}",
                      f"docker-archive:{debian_image_formats.docker_archive_legacy}",
                      f"oci-archive:{debian_image_formats.oci_archive}",
                      f"oci-dir:{debian_image_formats.oci_layout}"):
        with open_image(reference) as source:
            identities[reference] = (source.metadata.image_id,
                                     [layer.diff_id for layer in source.metadata.layers])
    assert len(set(map(str, identities.values()))) == 1, identities


def test_chunked_upload_and_cross_repository_mount(request: pytest.FixtureRequest,
                                                   small_image_formats: ImageFormats) -> None:
    server = _server(request, "token")
    source_repo, target_repo = f"staging/app{next(_counter)}", f"prod/app{next(_counter)}"
    first = _push(small_image_formats.oci_layout, small_image_formats.ref, server, source_repo,
                  "1", chunk_size=1000)
    assert first.uploaded > 0
    assert skopeo_inspect(server, f"{source_repo}:1")["Digest"] == first.digest
    second = _push(small_image_formats.oci_layout, small_image_formats.ref, server, target_repo,
                   "1", mount_from=source_repo)
    assert (second.mounted, second.uploaded) == (first.uploaded, 0)
    assert skopeo_inspect(server, f"{target_repo}:1")["Digest"] == first.digest


def test_multi_platform_index_push_and_platform_selection(
        request: pytest.FixtureRequest, multiplatform_layout: Path,
        multiplatform_facts: object) -> None:
    facts = multiplatform_facts
    server = _server(request, "basic")
    repository = f"multi/app{next(_counter)}"
    result = _push(multiplatform_layout, facts.ref, server, repository, "1")  # type: ignore[attr-defined]
    raw = skopeo_inspect(server, f"{repository}:1", raw=True)
    assert len(raw["manifests"]) == len(facts.platforms) + facts.attestation_count  # type: ignore[attr-defined]
    for platform in facts.platforms:  # type: ignore[attr-defined]
        options = _acquire(server, platform=Platform.parse(platform), platform_explicit=True)
        with open_image(f"registry:{server.host}/{repository}:1", options) as source:
            assert source.metadata.index_digest == result.digest
            contents = read_image(source, {"etc/arch"}.__contains__)
        assert contents.filesystem.read("etc/arch") == facts.arch_file[platform]  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["basic", "token"])
def test_wrong_and_missing_credentials_are_refused(request: pytest.FixtureRequest, kind: str,
                                                   small_image_formats: ImageFormats) -> None:
    server = _server(request, kind)
    repository = f"private/app{next(_counter)}"
    _push(small_image_formats.oci_layout, small_image_formats.ref, server, repository, "1")
    wrong = RegistryCredentials(server.username, "not-the-password", None, "--creds")
    with pytest.raises(AuthenticationError, match=r"refused the credentials from --creds"), \
            open_image(f"{server.host}/{repository}:1", _acquire(server, wrong)):
        pass
    anonymous = AcquireOptions(registry=_options(server), credentials=_FixedCredentials(None))  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError, match="--creds"), \
            open_image(f"{server.host}/{repository}:1", anonymous):
        pass


def test_token_registry_allows_anonymous_pull_of_public_repositories(
        request: pytest.FixtureRequest, small_image_formats: ImageFormats) -> None:
    server = _server(request, "token")
    repository = f"public/app{next(_counter)}"
    pushed = _push(small_image_formats.oci_layout, small_image_formats.ref, server, repository,
                   "1")
    assert server.token_server is not None
    server.token_server.clear_requests()
    anonymous = AcquireOptions(registry=_options(server), credentials=_FixedCredentials(None))  # type: ignore[arg-type]
    with open_image(f"{server.host}/{repository}:1", anonymous) as source:
        assert source.metadata.manifest_digest == pushed.digest
        read_image(source, lambda _: False)
    requests = server.token_server.requests
    assert requests and all(not r.basic_auth for r in requests)
    assert f"repository:{repository}:pull" in requests[0].scopes


def test_tls_without_the_ca_names_the_fix(request: pytest.FixtureRequest) -> None:
    server = _server(request, "tls")
    options = AcquireOptions(registry=RegistryOptions(ca_cert=None))
    # 127.0.0.1 without --ca-cert means plain HTTP; name the host so TLS is used.
    with pytest.raises(RegistryError, match=r"certificate|TLS|SSL|HTTP"), \
            open_image(f"localhost:{server.host.split(':')[1]}/x/y:1", options):
        pass


def test_unknown_tag_and_repository(request: pytest.FixtureRequest) -> None:
    server = _server(request, "plain")
    with pytest.raises(ImageNotFoundError, match="manifest unknown"), \
            open_image(f"{server.host}/no/such:tag"):
        pass
