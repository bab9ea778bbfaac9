"""Content digests: parse them, and check that bytes or streams match the digest that names them."""

from __future__ import annotations

import hashlib
import re
from typing import IO

from hullscan.errors import DigestMismatchError, InvalidReferenceError

_ALGORITHMS = {"sha256": 64, "sha512": 128}
_ENCODED_RE = re.compile(r"^[a-f0-9]+$")


def validate_digest(digest: str, *, subject: str) -> str:
    """Return ``digest`` if it is a well-formed sha256/sha512 digest, else raise."""
    algorithm, _, encoded = digest.partition(":")
    length = _ALGORITHMS.get(algorithm)
    if length is None or len(encoded) != length or not _ENCODED_RE.match(encoded):
        raise InvalidReferenceError(f"invalid or unsupported digest {digest!r}", subject=subject)
    return digest


def new_hasher(digest: str) -> hashlib._Hash:
    """A hash object of the algorithm that ``digest`` uses."""
    return hashlib.new(digest.partition(":")[0])


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """The digest of ``data`` in ``algorithm:hex`` form."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify_bytes(data: bytes, expected: str, *, subject: str) -> bytes:
    """Return ``data`` if it matches ``expected``; raise :class:`DigestMismatchError` if not."""
    algorithm = expected.partition(":")[0]
    actual = digest_of(data, algorithm)
    if actual != expected:
        raise DigestMismatchError(f"content is {actual}, expected {expected}", subject=subject)
    return data


def check_blob(actual: str, size: int, expected: str, expected_size: int | None, *,
               subject: str) -> None:
    """Raise :class:`DigestMismatchError` unless a whole blob read (``actual``, ``size``) is
    the one its descriptor names (``expected``, ``expected_size`` when declared)."""
    if expected_size is not None and size != expected_size:
        raise DigestMismatchError(f"content is {size} bytes, expected {expected_size}",
                                  subject=subject)
    if actual != expected:
        raise DigestMismatchError(f"content is {actual}, expected {expected}", subject=subject)


class VerifyingReader:
    """Wrap a binary stream; hash what is read and verify digest and size at end of stream.

    The check happens when the wrapped stream reports EOF, so a consumer that reads to the end
    can never accept content that differs from its digest.
    """

    def __init__(self, stream: IO[bytes], expected: str, *, subject: str,
                 expected_size: int | None = None) -> None:
        self._stream = stream
        self._expected = expected
        self._expected_size = expected_size
        self._subject = subject
        self._hasher = new_hasher(expected)
        self._count = 0
        self.verified = False

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes; at EOF, verify."""
        chunk = self._stream.read(size)
        if chunk:
            self._hasher.update(chunk)
            self._count += len(chunk)
            if self._expected_size is not None and self._count > self._expected_size:
                raise DigestMismatchError(
                    f"content is longer than its declared {self._expected_size} bytes",
                    subject=self._subject)
        elif size != 0:
            self.finish()
        return chunk

    def finish(self) -> None:
        """Drain the stream and verify; idempotent."""
        if self.verified:
            return
        while chunk := self._stream.read(1 << 20):
            self._hasher.update(chunk)
            self._count += len(chunk)
        actual = f"{self._expected.partition(':')[0]}:{self._hasher.hexdigest()}"
        check_blob(actual, self._count, self._expected, self._expected_size,
                   subject=self._subject)
        self.verified = True

    def close(self) -> None:
        """Close the wrapped stream."""
        self._stream.close()
