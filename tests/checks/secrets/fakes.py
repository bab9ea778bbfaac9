"""Token-shaped test values built at run time, so the repository holds no complete token."""

from __future__ import annotations

import base64
import json
import random
import string

ALNUM = string.ascii_letters + string.digits
UPPER32 = string.ascii_uppercase + "234567"
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"


def rand(alphabet: str, length: int, seed: int = 7) -> str:
    """Deterministic, high-entropy text."""
    generator = random.Random(seed * 1000 + length)
    return "".join(generator.choice(alphabet) for _ in range(length))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt() -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"sub": rand(ALNUM, 12), "iat": 1700000000}).encode())
    return f"{header}.{claims}.{rand(B64URL, 43)}"


def pem(kind: str) -> str:
    """A private-key-shaped PEM block (random body): ``kind`` is ``RSA ``, ``EC ``, ``""``..."""
    dashes = "-" * 5
    body = "\n".join(rand(B64, 64, seed=n) for n in range(6))
    return (f"{dashes}BEGIN {kind}PRIVATE KEY{dashes}\n{body}\n"
            f"{dashes}END {kind}PRIVATE KEY{dashes}\n")


def pgp() -> str:
    dashes = "-" * 5
    body = "\n".join(rand(B64, 64, seed=n) for n in range(6))
    return (f"{dashes}BEGIN PGP PRIVATE KEY BLOCK{dashes}\nComment: test\n\n{body}\n"
            f"{dashes}END PGP PRIVATE KEY BLOCK{dashes}\n")
