"""Request fields that name places the service will connect to, checked against the
service's egress guard before anything is stored (the connections are checked again)."""

from __future__ import annotations

from hullscan.image.reference import RegistryReference
from hullscan.service.api.errors import FieldError
from hullscan.service.egress import EgressRefusedError
from hullscan.service.operations import Service


def check_registry_field(service: Service, field: str, reference: RegistryReference) -> None:
    """422 naming ``field`` when the reference's registry resolves to a refused address."""
    try:
        service.check_registry(reference)
    except EgressRefusedError as error:
        raise FieldError(field, error.reason) from None


def check_host_field(service: Service, field: str, host: str) -> None:
    """422 naming ``field`` when ``host[:port]`` resolves to a refused address."""
    try:
        service.egress.check_host(host)
    except EgressRefusedError as error:
        raise FieldError(field, error.reason) from None


def check_url_field(service: Service, field: str, url: str) -> None:
    """422 naming ``field`` when the URL's host resolves to a refused address."""
    try:
        service.egress.check_url(url)
    except EgressRefusedError as error:
        raise FieldError(field, error.reason) from None
