"""Shared pieces of the version schemes: the error, the scheme protocol, small helpers."""

from __future__ import annotations

from typing import Any, Protocol

from hullscan.errors import CorruptContentError


class InvalidVersionError(CorruptContentError):
    """A version (or range) string that its scheme cannot parse."""

    def __init__(self, scheme: str, version: str, detail: str = "") -> None:
        reason = f"invalid {scheme} version {version!r}"
        if detail:
            reason = f"{reason}: {detail}"
        super().__init__(reason)
        self.scheme = scheme
        self.version = version


class Scheme(Protocol):
    """One version scheme: ``parse`` (cached; raises InvalidVersionError) and ``compare``."""

    name: str

    def parse(self, version: str) -> Any:
        """Return the parsed form of ``version`` or raise :class:`InvalidVersionError`."""

    def validate(self, version: str) -> bool:
        """Return whether ``version`` is valid in this scheme."""

    def compare(self, a: str, b: str) -> int:
        """Return a negative number, zero or a positive number as ``a`` <, == or > ``b``."""


def sign(a: Any, b: Any) -> int:
    """Three-way comparison of two orderable values."""
    return int((a > b) - (a < b))


class KeyScheme:
    """A scheme whose parsed form is a totally ordered key: ``compare`` compares keys."""

    name = ""

    def parse(self, version: str) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def validate(self, version: str) -> bool:
        try:
            self.parse(version)
        except InvalidVersionError:
            return False
        return True

    def compare(self, a: str, b: str) -> int:
        ka = self.parse(a)
        kb = self.parse(b)
        return int((ka > kb) - (ka < kb))
