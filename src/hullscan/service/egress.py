"""The service's guard on outbound connections to places its users name (registries of
images, watches and credentials; webhook URLs): a remote user must not make the service reach
its own network (SSRF). Loopback, private, link-local (cloud metadata), unspecified,
multicast and other non-global addresses are refused unless an allowed network lists them.

The addresses checked are the *resolved* ones: ``localhost``, ``2130706433`` and
``0177.0.0.1`` all resolve to 127.0.0.1 and are refused as such. For webhooks the check sits
in the connection itself (:class:`GuardedTransport`): the name is resolved once, every address
checked, and the socket opened to a checked address, never to the name again, so a DNS answer
that changes between check and connect (rebinding) cannot slip through; redirects are not
followed. Registry pulls are checked before they start (:meth:`EgressPolicy.check_host`, for a
clear error early) and every connection they make, token servers and redirects included, goes
through the same transport (``RegistryOptions.transport``).

The CLI (``hullscan scan`` of a registry its own user names) is not guarded: only the service
builds these checks.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from hullscan.errors import HullscanError
from hullscan.service.settings import (
    ALLOW_PRIVATE_NETWORKS_VARIABLE,
    ALLOWED_NETWORKS_VARIABLE,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses`` as text; :func:`system_resolver` asks the system."""

PRIVATE_KEYWORD = "private"
"""An allowed-network entry standing for :data:`PRIVATE_NETWORKS`."""
PRIVATE_NETWORKS: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "::1/128", "fc00::/7"))
"""What ``--allow-private-networks`` allows: RFC 1918, loopback and unique-local IPv6; not
link-local (where cloud metadata lives)."""
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200"))
"""Cloud instance-metadata endpoints (AWS, ECS, GCP, Azure, Alibaba): refused unless an allowed
network is exactly that one address (a wide allowance such as ``fc00::/7`` or
``169.254.0.0/16`` does not open them)."""


class EgressRefusedError(HullscanError):
    """A connection the guard refused: the target resolves to a non-public address."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (``getaddrinfo``, TCP); [] when it does not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks from ``CIDR`` or single-address entries (and ``private``); an error naming a
    malformed entry."""
    networks: list[IPNetwork] = []
    for entry in entries:
        for word in entry.replace(",", " ").split():
            if word.lower() == PRIVATE_KEYWORD:
                networks.extend(PRIVATE_NETWORKS)
                continue
            try:
                networks.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                raise HullscanError("not a network (CIDR such as 10.1.0.0/16, an address, "
                                    f"or '{PRIVATE_KEYWORD}')", subject=word) from None
    return tuple(dict.fromkeys(networks))


def _unwrapped(address: IPAddress) -> IPAddress:
    """IPv4 addresses carried in IPv6 (``::ffff:127.0.0.1``, 6to4) as the IPv4 they reach."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is not None:
            return inner
    return address


def _kind(address: IPAddress) -> str | None:
    """Why ``address`` is not public, or None when it is."""
    checks = (("loopback", address.is_loopback), ("link-local", address.is_link_local),
              ("unspecified", address.is_unspecified), ("multicast", address.is_multicast),
              ("private", address.is_private), ("reserved", address.is_reserved),
              ("non-global", not address.is_global))
    return next((name for name, hit in checks if hit), None)


@dataclass(frozen=True)
class EgressPolicy:
    """Which addresses the service may connect to for its users."""

    allowed: tuple[IPNetwork, ...] = ()
    """Networks allowed although not public (``HULLSCAN_ALLOWED_NETWORKS``)."""
    resolver: Resolver = system_resolver
    """How names become addresses (tests give a fixed table)."""

    @classmethod
    def from_settings(cls, networks: Iterable[str] = (), *,
                      allow_private: bool = False) -> EgressPolicy:
        """The policy allowing ``networks`` (plus :data:`PRIVATE_NETWORKS` with
        ``allow_private``)."""
        entries = [*networks, *([PRIVATE_KEYWORD] if allow_private else [])]
        return cls(parse_networks(entries))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> EgressPolicy:
        """The policy of ``$HULLSCAN_ALLOWED_NETWORKS`` (CIDRs, spaces or commas) and
        ``$HULLSCAN_ALLOW_PRIVATE_NETWORKS`` (``1``/``true``)."""
        environ = os.environ if environ is None else environ
        flag = environ.get(ALLOW_PRIVATE_NETWORKS_VARIABLE, "").strip().lower()
        return cls.from_settings([environ.get(ALLOWED_NETWORKS_VARIABLE, "")],
                                 allow_private=flag in ("1", "true", "yes", "on"))

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to ``address`` is refused (``"loopback"``...), or None."""
        reached = _unwrapped(address)
        if reached in METADATA_ADDRESSES:
            listed = any(n.num_addresses == 1 and reached in n for n in self.allowed
                         if n.version == reached.version)
            return None if listed else "cloud metadata"
        kind = _kind(reached)
        if kind is None:
            return None
        if any(reached in n for n in self.allowed if n.version == reached.version):
            return None
        return kind

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The addresses of ``host``, every one checked; :class:`EgressRefusedError` when any
        is refused (a name with one public and one private address is refused too), an
        ``OSError`` when the name does not resolve."""
        texts = self.resolver(host.strip("[]"), port)
        if not texts:
            raise OSError(f"{host} does not resolve")
        addresses = [ipaddress.ip_address(text.split("%", 1)[0]) for text in texts]
        for address in addresses:
            kind = self.refusal(address)
            if kind is not None:
                raise EgressRefusedError(
                    f"refused: {host} resolves to a private address ({address}, {kind}); "
                    f"allow its network with --allow-network or {ALLOWED_NETWORKS_VARIABLE}")
        return addresses

    def check_host(self, host_port: str, default_port: int = 443) -> None:
        """Refuse ``host[:port]`` when it resolves to a refused address (a name that does not
        resolve passes: the connection fails anyway)."""
        parts = urlsplit(f"//{host_port}")
        try:
            port = parts.port or default_port
        except ValueError:
            port = default_port
        if not parts.hostname:
            return
        try:
            self.resolve(parts.hostname, port)
        except OSError:
            return

    def check_url(self, url: str) -> None:
        """:meth:`check_host` of an ``http(s)`` URL's host and port."""
        parts = urlsplit(url)
        default = 80 if parts.scheme == "http" else 443
        if parts.hostname:
            self.check_host(parts.netloc.rpartition("@")[2], default)


class _GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to checked addresses of the requested name."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None
                    ) -> httpcore.NetworkStream:
        try:
            addresses = self._policy.resolve(host, port)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                # The checked address itself: resolving the name again could answer otherwise.
                # TLS still verifies the certificate against the name (httpcore passes the
                # request's host as server_hostname).
                return self._inner.connect_tcp(str(address), port, timeout, local_address,
                                               socket_options)
            except httpcore.ConnectError as error:
                failure = error
        assert failure is not None
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        raise EgressRefusedError("refused: unix sockets", subject=path)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection passes ``policy`` (see the module's
    docstring). Use it with ``trust_env=False`` (a proxy from the environment would be
    connected to instead) and without following redirects to unchecked places (redirect
    targets are checked too: each connection goes through the guard)."""

    def __init__(self, policy: EgressPolicy, *, verify: ssl.SSLContext | bool = True,
                 limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits()
        super().__init__(verify=verify, limits=limits)
        context = verify if isinstance(verify, ssl.SSLContext) \
            else httpx.create_ssl_context(verify=verify)
        # httpx's transport takes no network backend; its pool is rebuilt with one (request
        # and error mapping stay httpx's own).
        self._pool = httpcore.ConnectionPool(
            ssl_context=context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy))
