"""Layer decompression detected by magic bytes, bounded, and hashed for diff-ID verification."""

from __future__ import annotations

import bz2
import lzma
import zlib
from typing import IO, Protocol

import zstandard

from hullscan.errors import CorruptContentError, DigestMismatchError, LimitExceededError
from hullscan.image.digest import new_hasher
from hullscan.image.limits import ReadBudget

_CHUNK = 256 * 1024

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"


class _Inflater(Protocol):
    def read(self, size: int) -> bytes: ...


class DecompressedLayer:
    """A readable stream of a layer's uncompressed tar.

    Compression is told from the first bytes, never from the media type alone (registries and
    build tools mislabel layers). Every byte passes through the image's :class:`ReadBudget`
    and a hasher; :meth:`finish` drains the rest and checks the diff ID.
    """

    def __init__(self, raw: IO[bytes], *, diff_id: str | None, budget: ReadBudget,
                 subject: str) -> None:
        self._raw = _CountingReader(raw)
        self._subject = subject
        self._budget = budget
        self._diff_id = diff_id
        self._hasher = new_hasher(diff_id) if diff_id else None
        self.compression, self._inflater = self._open(self._raw)
        self.uncompressed_size = 0

    def _open(self, raw: _CountingReader) -> tuple[str, _Inflater]:
        head = raw.peek(6)
        if head.startswith(GZIP_MAGIC):
            return "gzip", _GzipInflater(raw, self._subject)
        if head.startswith(ZSTD_MAGIC):
            # Truncated zstd frames read as a short stream here; the diff-ID check catches them.
            reader = zstandard.ZstdDecompressor().stream_reader(
                raw, read_across_frames=True)  # type: ignore[arg-type]
            return "zstd", reader
        if head.startswith(BZIP2_MAGIC):
            return "bzip2", bz2.BZ2File(raw)  # type: ignore[call-overload]
        if head.startswith(XZ_MAGIC):
            return "xz", lzma.LZMAFile(raw)  # type: ignore[arg-type]
        return "none", raw

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes of uncompressed tar (at most one chunk when unbounded)."""
        wanted = _CHUNK if size is None or size < 0 else size
        try:
            chunk = self._inflater.read(wanted)
        except (OSError, EOFError, zlib.error, zstandard.ZstdError, lzma.LZMAError) as error:
            raise CorruptContentError(f"{self.compression} stream is corrupt ({error})",
                                      subject=self._subject) from error
        if chunk:
            self.uncompressed_size += len(chunk)
            self._budget.add_bytes(len(chunk))
            self._check_ratio()
            if self._hasher is not None:
                self._hasher.update(chunk)
        return chunk

    def _check_ratio(self) -> None:
        limits = self._budget.limits
        if self.uncompressed_size <= limits.ratio_grace_bytes or self.compression == "none":
            return
        if self.uncompressed_size > limits.max_compression_ratio * max(self._raw.count, 1):
            raise LimitExceededError(
                f"decompresses more than {limits.max_compression_ratio}:1 "
                "(decompression bomb? raise HULLSCAN_MAX_COMPRESSION_RATIO)",
                subject=self._subject)

    def finish(self) -> None:
        """Read to the end and verify the uncompressed digest against the diff ID."""
        while self.read(_CHUNK):
            pass
        if self._hasher is None or self._diff_id is None:
            return
        actual = f"{self._diff_id.partition(':')[0]}:{self._hasher.hexdigest()}"
        if actual != self._diff_id:
            raise DigestMismatchError(
                f"uncompressed content is {actual}, but the config's diff ID is {self._diff_id}",
                subject=self._subject)


class _CountingReader:
    """Counts compressed bytes read (for the ratio check) and allows peeking at the magic."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._pushback = b""
        self.count = 0

    def peek(self, size: int) -> bytes:
        while len(self._pushback) < size:
            chunk = self._raw.read(size - len(self._pushback))
            if not chunk:
                break
            self._pushback += chunk
        return self._pushback[:size]

    def read(self, size: int = -1) -> bytes:
        if self._pushback:
            if size is None or size < 0:
                data, self._pushback = self._pushback + self._raw.read(), b""
            else:
                data, self._pushback = self._pushback[:size], self._pushback[size:]
        else:
            data = self._raw.read(size)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True


class _GzipInflater:
    """Multi-member gzip with bounded output per call and explicit truncation detection.

    The stdlib ``gzip`` module in Python 3.11 reports a truncated stream only as a generic
    EOFError and reads in Python-level 8 KiB steps; zlib directly is simpler and faster.
    """

    def __init__(self, raw: _CountingReader, subject: str) -> None:
        self._raw = raw
        self._subject = subject
        self._inflater = zlib.decompressobj(wbits=31)
        self._pending = b""

    def read(self, size: int) -> bytes:
        while True:
            if self._inflater.unconsumed_tail:
                data = self._inflater.unconsumed_tail
            elif self._pending:
                data, self._pending = self._pending, b""
            else:
                data = self._raw.read(_CHUNK)
                if not data:
                    if not self._inflater.eof:
                        raise CorruptContentError("gzip stream is truncated",
                                                  subject=self._subject)
                    return b""
            if self._inflater.eof:
                # A finished member: further data is another member, or trailing padding.
                if not data.lstrip(b"\x00"):
                    continue
                self._inflater = zlib.decompressobj(wbits=31)
            chunk = self._inflater.decompress(data, size)
            if self._inflater.eof and self._inflater.unused_data:
                self._pending = self._inflater.unused_data
            if chunk:
                return chunk
