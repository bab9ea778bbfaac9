"""Errors the adapter answers with the spec's error body."""

from __future__ import annotations


class AdapterError(Exception):
    """A request the adapter refuses: ``status`` is the HTTP status the spec names."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> AdapterError:
    """400: not JSON, or a value of the wrong JSON type."""
    return AdapterError(400, message)


def invalid_field(message: str) -> AdapterError:
    """422: a field of the right type whose value is unusable."""
    return AdapterError(422, message)


def not_capable(message: str) -> AdapterError:
    """501: an artifact or report media type this scanner does not handle."""
    return AdapterError(501, message)
