"""Bounds on what reading one image may cost, so that hostile images cannot exhaust the machine."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from hullscan.errors import InvalidReferenceError, LimitExceededError

_GIB = 1024**3
_MIB = 1024**2


@dataclass(frozen=True)
class ReadLimits:
    """Per-image bounds; each is configurable (CLI flags and ``HULLSCAN_MAX_*`` variables)."""

    max_image_bytes: int = 32 * _GIB
    """Decompressed bytes read across all layers of one image."""
    max_files: int = 1_000_000
    """Tar entries across all layers of one image (each costs ~0.4 KB while the image is
    analysed: the default keeps a scan near 400 MiB)."""
    max_layers: int = 1_000
    """Layers of one image (Docker runs at most 127; the 4 MiB manifest limit allows ~25,000)."""
    max_compression_ratio: int = 500
    """Decompressed/compressed ratio a layer may reach once past ``ratio_grace_bytes``."""
    ratio_grace_bytes: int = 256 * _MIB
    """Layers smaller than this when decompressed are never judged by their ratio."""
    max_captured_file_bytes: int = 64 * _MIB
    """Largest single file handed to an analyser in memory."""
    max_header_bytes: int = 1 * _MIB
    """Largest tar extended header (pax, GNU long name) we accept."""
    max_link_hops: int = 40
    """Symlinks followed while resolving one path (Linux allows 40)."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ReadLimits:
        """Defaults, overridden by ``HULLSCAN_MAX_IMAGE_BYTES``, ``HULLSCAN_MAX_FILES``, ..."""
        limits = cls()
        for name, variable in _VARIABLES.items():
            if (text := environ.get(variable)) is not None:
                limits = replace(limits, **{name: parse_size(text, subject=variable)})
        return limits


_VARIABLES = {
    "max_image_bytes": "HULLSCAN_MAX_IMAGE_BYTES",
    "max_files": "HULLSCAN_MAX_FILES",
    "max_layers": "HULLSCAN_MAX_LAYERS",
    "max_compression_ratio": "HULLSCAN_MAX_COMPRESSION_RATIO",
    "max_captured_file_bytes": "HULLSCAN_MAX_FILE_BYTES",
}

_SUFFIXES = {"": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": _MIB, "MB": _MIB, "MIB": _MIB,
             "G": _GIB, "GB": _GIB, "GIB": _GIB, "T": 1024 * _GIB, "TB": 1024 * _GIB,
             "TIB": 1024 * _GIB}


def parse_size(text: str, *, subject: str) -> int:
    """Parse ``1500``, ``512MiB``, ``4G`` into a positive number."""
    stripped = text.strip().upper()
    digits = stripped.rstrip("KMGTIB")
    suffix = stripped[len(digits):]
    if not digits.isdigit() or suffix not in _SUFFIXES or int(digits) <= 0:
        raise InvalidReferenceError(f"not a positive size: {text!r}", subject=subject)
    return int(digits) * _SUFFIXES[suffix]


class ReadBudget:
    """What one image read has used so far; raises once a limit is passed."""

    def __init__(self, limits: ReadLimits, *, subject: str) -> None:
        self.limits = limits
        self.subject = subject
        self.bytes_read = 0
        self.files_read = 0

    def add_bytes(self, count: int) -> None:
        """Count decompressed bytes."""
        self.bytes_read += count
        if self.bytes_read > self.limits.max_image_bytes:
            raise LimitExceededError(
                f"more than {self.limits.max_image_bytes} decompressed bytes "
                "(decompression bomb? raise HULLSCAN_MAX_IMAGE_BYTES or --max-image-bytes)",
                subject=self.subject)

    def add_file(self) -> None:
        """Count one tar entry."""
        self.files_read += 1
        if self.files_read > self.limits.max_files:
            raise LimitExceededError(
                f"more than {self.limits.max_files} files "
                "(raise HULLSCAN_MAX_FILES or --max-files)", subject=self.subject)
