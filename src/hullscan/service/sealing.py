"""Secrets at rest (registry passwords, webhook keys): Fernet (AES-128-CBC + HMAC-SHA256)
with a key from the environment, never from the database it protects."""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken

from hullscan.errors import HullscanError

KEY_VARIABLE = "HULLSCAN_SECRET_KEY"


class SecretBox:
    """Seal and open short secrets with one key."""

    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise HullscanError("not a Fernet key (32 url-safe base64-encoded bytes; make one "
                                "with `hullscan serve --generate-key`)",
                                subject=KEY_VARIABLE) from None

    @classmethod
    def from_environment(cls) -> SecretBox:
        """The box for ``HULLSCAN_SECRET_KEY``; an error when it is not set."""
        key = os.environ.get(KEY_VARIABLE)
        if not key:
            raise HullscanError("not set: the service encrypts registry credentials and "
                                "webhook keys with it", subject=KEY_VARIABLE)
        return cls(key)

    @staticmethod
    def generate_key() -> str:
        """A new random key."""
        return Fernet.generate_key().decode()

    def seal(self, secret: str) -> bytes:
        """The encrypted form of ``secret``."""
        return self._fernet.encrypt(secret.encode("utf-8"))

    def open(self, sealed: bytes) -> str:
        """The secret back; an error when the key is not the one it was sealed with."""
        try:
            return self._fernet.decrypt(sealed).decode("utf-8")
        except InvalidToken:
            raise HullscanError("cannot decrypt a stored secret: the key differs from the one "
                                "it was stored with", subject=KEY_VARIABLE) from None
