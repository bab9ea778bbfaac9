"""Typed errors; the CLI turns each into one line naming the input and the reason.

Every error raised for bad or hostile input derives from :class:`HullscanError`. The
``subject`` names what was being read (an image reference, a file, a layer) so that the
message at the CLI edge can say *which* input is wrong.
"""

from __future__ import annotations


class HullscanError(Exception):
    """Base of every expected failure. ``str(error)`` is the one-line reason."""

    def __init__(self, reason: str, *, subject: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.subject = subject

    def with_subject(self, subject: str) -> HullscanError:
        """Return this error, naming ``subject`` if it names nothing yet."""
        if self.subject is None:
            self.subject = subject
        return self

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}" if self.subject else self.reason


class InvalidReferenceError(HullscanError):
    """An image reference that cannot be parsed."""


class ImageNotFoundError(HullscanError):
    """The image, tag, manifest or blob does not exist where the reference points."""


class RegistryError(HullscanError):
    """The registry answered with an error or could not be reached."""


class AuthenticationError(RegistryError):
    """The registry refused our credentials (or demanded some we do not have)."""


class UnsupportedManifestError(HullscanError):
    """A manifest or media type this tool does not read (for example Docker schema 1)."""


class DigestMismatchError(HullscanError):
    """Content whose digest differs from the one that names it: never accepted."""


class CorruptContentError(HullscanError):
    """Content that cannot be parsed: bad JSON, truncated compression, not a tar."""


class HostileContentError(HullscanError):
    """Content that tries to escape the image root or otherwise attack the reader."""


class LimitExceededError(HostileContentError):
    """A configured bound (decompressed bytes, file count, ratio) was exceeded."""


class CredentialsError(HullscanError):
    """Credentials could not be read (bad config file, failing credential helper)."""
