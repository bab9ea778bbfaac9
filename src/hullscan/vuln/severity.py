"""Severities: the ordered scale findings use, and scores computed from CVSS vectors."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache


class Severity(enum.IntEnum):
    """Ordered so that ``>=`` means "at least as bad"."""

    UNKNOWN = 0
    NEGLIGIBLE = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``high``, ``High``, ``IMPORTANT`` (Red Hat), ``moderate`` (GitHub), ``unimportant``."""
        key = text.strip().upper()
        key = _ALIASES.get(key, key)
        try:
            return cls[key]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}") from None

    @classmethod
    def from_score(cls, score: float) -> Severity:
        """CVSS v3/v4 qualitative rating of a base score."""
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MEDIUM
        if score > 0.0:
            return cls.LOW
        return cls.NEGLIGIBLE

    def __str__(self) -> str:
        return self.name.capitalize()


_ALIASES = {"IMPORTANT": "HIGH", "MODERATE": "MEDIUM", "UNIMPORTANT": "NEGLIGIBLE",
            "MINOR": "LOW", "NONE": "NEGLIGIBLE", "NOT YET ASSIGNED": "UNKNOWN",
            "UNTRIAGED": "UNKNOWN"}


@dataclass(frozen=True)
class CvssScore:
    """A base score computed from a vector, with the CVSS version it used."""

    version: str
    score: float
    vector: str


@lru_cache(maxsize=65536)
def score_vector(vector: str) -> CvssScore | None:
    """The base score of a CVSS 2, 3.x or 4.0 vector; None when it does not parse."""
    # Imported here: commands that score nothing (sbom, a warm scan) skip its 4 ms.
    from cvss import CVSS2, CVSS3, CVSS4  # type: ignore[import-untyped]
    from cvss.exceptions import CVSSError  # type: ignore[import-untyped]

    text = vector.strip()
    try:
        if text.startswith("CVSS:4"):
            return CvssScore("4.0", float(CVSS4(text).base_score), text)
        if text.startswith("CVSS:3"):
            return CvssScore(text[5:8], float(CVSS3(text).scores()[0]), text)
        return CvssScore("2.0", float(CVSS2(text).scores()[0]), text)
    except (CVSSError, ValueError, KeyError, IndexError):
        return None
