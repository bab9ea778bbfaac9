"""How to pull the artifact of one scan request: the registry Harbor named and the
authorization it carried.

Harbor sends ``registry.url`` (``http://core:8080``, ``https://harbor.example``) and
``registry.authorization``: the full value of an ``Authorization`` header for that registry,
``Basic base64(user:password)`` (a robot account; what Harbor 2 sends) or ``Bearer TOKEN`` (a
registry token already scoped to the repository; what older Harbors sent). Basic becomes
ordinary explicit credentials; a Bearer token becomes explicit credentials with a
``registry_token``, which the registry client sends as it is (it fetches no token of its own).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from hullscan.image.reference import RegistryReference
from hullscan.image.registry.credentials import CredentialStore, RegistryCredentials
from hullscan.image.registry.options import RegistryOptions
from hullscan.image.sources.interface import AcquireOptions
from hullscan.service.harbor.errors import invalid_field
from hullscan.service.inventory import Inventory

SOURCE = "Harbor scan request"
"""How error messages name the credentials (never their value)."""

_HOST_RE = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"|\[[0-9a-f:]+\])(?::[0-9]{1,5})?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}

Analyse = Callable[[str, AcquireOptions], Inventory]


@dataclass(frozen=True)
class RegistryLocation:
    """Where the registry is: ``host[:port]`` as references name it and how to reach it."""

    host: str
    """Always with a port or a dot, so that a reference starting with it names a registry
    (``harbor-core`` alone would read as a Docker Hub repository)."""
    scheme: Literal["http", "https"]

    @property
    def insecure(self) -> bool:
        """Plain HTTP."""
        return self.scheme == "http"

    @property
    def base_url(self) -> str:
        """``scheme://host[:port]``."""
        return f"{self.scheme}://{self.host}"


def parse_registry_url(url: str) -> RegistryLocation:
    """``http(s)://host[:port][/]``; no scheme means HTTPS (as Docker assumes)."""
    text = url.strip()
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise invalid_field("invalid registry.url") from None
    scheme = parts.scheme.lower()
    host = parts.netloc.lower()
    if scheme not in ("http", "https") or parts.username or parts.password \
            or parts.path not in ("", "/") or parts.query or parts.fragment \
            or not _HOST_RE.match(host):
        raise invalid_field("invalid registry.url: expected http(s)://host[:port]")
    if port is None and "." not in host and not host.startswith("["):
        host = f"{host}:{_DEFAULT_PORTS[scheme]}"
    return RegistryLocation(host, "http" if scheme == "http" else "https")


@dataclass(frozen=True, repr=False)
class RegistryAuthorization:
    """A parsed ``registry.authorization``; ``repr`` never shows the secret."""

    scheme: Literal["basic", "bearer"]
    username: str | None = None
    password: str | None = None
    token: str | None = None

    def __repr__(self) -> str:
        return f"RegistryAuthorization({self.scheme}, username={self.username!r})"


def parse_authorization(value: str) -> RegistryAuthorization | None:
    """``Basic base64(user:password)`` or ``Bearer TOKEN``; empty means anonymous."""
    text = value.strip()
    if not text:
        return None
    scheme, _, credential = text.partition(" ")
    scheme = scheme.rstrip(":").lower()  # the spec's own example writes "Bearer: TOKEN"
    credential = credential.strip()
    if not credential:
        raise invalid_field("invalid registry.authorization: no credential after the scheme")
    if scheme == "bearer":
        return RegistryAuthorization("bearer", token=credential)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise invalid_field("invalid registry.authorization: Basic credential is not "
                                "base64 of USER:PASSWORD") from None
        username, colon, password = decoded.partition(":")
        if not colon or not username:
            raise invalid_field("invalid registry.authorization: Basic credential is not "
                                "base64 of USER:PASSWORD")
        return RegistryAuthorization("basic", username=username, password=password)
    raise invalid_field("invalid registry.authorization: expected Basic or Bearer")


def pull_inventory(location: RegistryLocation, authorization: RegistryAuthorization | None,
                   repository: str, digest: str, *, analyse: Analyse,
                   ca_cert: Path | None = None) -> Inventory:
    """Pull ``repository@digest`` from ``location`` with ``authorization`` and analyse it."""
    reference = str(RegistryReference(location.host, repository, None, digest))
    registry = RegistryOptions(insecure=location.insecure, ca_cert=ca_cert)
    explicit: RegistryCredentials | None = None
    if authorization is not None and authorization.scheme == "basic":
        explicit = RegistryCredentials(authorization.username, authorization.password, None,
                                       SOURCE)
    elif authorization is not None:
        explicit = RegistryCredentials(None, None, None, SOURCE,
                                       registry_token=authorization.token)
    return analyse(reference, AcquireOptions(
        registry=registry, credentials=CredentialStore(environ={}, explicit=explicit)))
