"""A registry Bearer token obtained by someone else (``RegistryCredentials.registry_token``,
what Harbor hands its scanners) is sent as it is against a real token-auth registry: no
token is fetched, and a refused token is an AuthenticationError naming the registry."""

from __future__ import annotations

import httpx
import pytest

from hullscan.errors import AuthenticationError
from hullscan.image.acquire import open_image, read_image
from hullscan.image.push import PushTarget, push_image
from hullscan.image.registry.challenge import parse_challenges
from hullscan.image.registry.client import RegistryClient, RegistryOptions
from hullscan.image.registry.credentials import CredentialStore, RegistryCredentials
from hullscan.image.sources.interface import AcquireOptions
from tests.support.registry_servers import RegistryServer
from tests.support.standard_images import ImageFormats

pytestmark = pytest.mark.registry

REPOSITORY = "given-token/small"


@pytest.fixture(scope="module")
def pushed(registry_token: RegistryServer, small_image_formats: ImageFormats) -> str:
    """``small:1`` pushed (with the registry's user) to REPOSITORY; its reference."""
    server = registry_token
    user = RegistryCredentials(server.username, server.password, None, "test")
    with open_image(f"oci-dir:{small_image_formats.oci_layout}:{small_image_formats.ref}"
                    ) as source, RegistryClient(server.host, credentials=user) as client:
        result = push_image(source, PushTarget(client, REPOSITORY, "1"))
    return f"registry:{server.host}/{REPOSITORY}@{result.digest}"


def fetch_token(server: RegistryServer, repository: str) -> str:
    """A pull token obtained as a client would: the challenge, then the realm."""
    challenge = httpx.get(f"{server.url}/v2/{repository}/tags/list")
    assert challenge.status_code == 401
    bearer = next(c for c in parse_challenges(challenge.headers["www-authenticate"])
                  if c.scheme == "bearer")
    assert server.credentials is not None
    answer = httpx.get(bearer.params["realm"], auth=server.credentials, params={
        "service": bearer.params["service"], "scope": f"repository:{repository}:pull"})
    answer.raise_for_status()
    token: str = answer.json()["token"]
    return token


def given(token: str) -> AcquireOptions:
    explicit = RegistryCredentials(None, None, None, "the test", registry_token=token)
    return AcquireOptions(registry=RegistryOptions(),
                          credentials=CredentialStore(environ={}, explicit=explicit))


def test_a_given_token_pulls_without_fetching_one(registry_token: RegistryServer,
                                                  pushed: str) -> None:
    tokens = registry_token.token_server
    assert tokens is not None
    token = fetch_token(registry_token, REPOSITORY)
    tokens.clear_requests()
    with open_image(pushed, given(token)) as source:
        contents = read_image(source, lambda _path: False)
    assert contents.layers
    assert tokens.requests == ()


def test_a_refused_token_names_the_registry(registry_token: RegistryServer,
                                            pushed: str) -> None:
    tokens = registry_token.token_server
    assert tokens is not None
    tokens.clear_requests()
    with pytest.raises(AuthenticationError) as raised, open_image(pushed, given("not-a-token")):
        pass
    message = str(raised.value)
    assert f"registry {registry_token.host} refused the given token" in message
    assert "not-a-token" not in message
    assert tokens.requests == ()


def test_a_token_for_another_repository_is_refused(registry_token: RegistryServer,
                                                   pushed: str) -> None:
    token = fetch_token(registry_token, "given-token/other")
    with pytest.raises(AuthenticationError, match="refused the given token"), \
            open_image(pushed, given(token)):
        pass


def test_repr_redacts_the_registry_token() -> None:
    text = repr(RegistryCredentials(None, None, None, "the test", registry_token="s3cret"))
    assert "s3cret" not in text and "registry_token='<redacted>'" in text
