"""How to talk to registries: options light enough to import without the HTTP client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hullscan.image.registry.retry import RetryPolicy

if TYPE_CHECKING:
    import ssl

    import httpx

TransportFactory = Callable[["ssl.SSLContext | bool"], "httpx.BaseTransport"]
"""Makes the HTTP transport of a registry client, given its TLS verification setting."""


@dataclass(frozen=True)
class RegistryOptions:
    """How to talk to registries."""

    insecure: bool = False
    """Plain HTTP (always used for loopback hosts unless a CA certificate is given)."""
    ca_cert: Path | None = None
    """Extra CA bundle trusted for TLS."""
    timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: bool = True
    """Whether backoff really sleeps (tests of the policy may turn it off)."""
    transport: TransportFactory | None = None
    """None: httpx's own transport (honouring proxy variables). The service passes one that
    checks every connection, redirects included, against its egress policy."""
