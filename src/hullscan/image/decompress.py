"""Layer decompression detected by magic bytes, bounded, and hashed for diff-ID verification."""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable
from typing import IO, Protocol, cast

import zstandard
from isal import isal_zlib

from hullscan.errors import CorruptContentError, DigestMismatchError, LimitExceededError
from hullscan.image.digest import new_hasher
from hullscan.image.limits import ReadBudget

_CHUNK = 256 * 1024

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
COMPRESSION_MAGICS = (GZIP_MAGIC, ZSTD_MAGIC, BZIP2_MAGIC, XZ_MAGIC)


_STREAM_ERRORS: tuple[type[BaseException], ...] = (
    OSError, EOFError, zlib.error, cast(type[BaseException], isal_zlib.error),
    zstandard.ZstdError, lzma.LZMAError)


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
            return "zstd", _ZstdInflater(raw, self._subject)
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
        except _STREAM_ERRORS as error:
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
            raise diff_id_mismatch(actual, self._diff_id, subject=self._subject)


def diff_id_mismatch(actual: str, diff_id: str, *, subject: str) -> DigestMismatchError:
    """The error for a layer whose uncompressed content is not what its diff ID names."""
    return DigestMismatchError(
        f"uncompressed content is {actual}, but the config's diff ID is {diff_id}",
        subject=subject)


class _CountingReader:
    """Counts compressed bytes read (for the ratio check) and allows peeking at the magic."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._pushback = b""
        self.count = 0
        self.observer: Callable[[bytes], None] | None = None
        """Sees every byte handed out by :meth:`read` (not by :meth:`peek`)."""

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
        if self.observer is not None:
            self.observer(data)
        return data

    def readable(self) -> bool:
        return True


class _GzipInflater:
    """Multi-member gzip with bounded output per call and explicit truncation detection.

    The stdlib ``gzip`` module in Python 3.11 reports a truncated stream only as a generic
    EOFError and reads in Python-level 8 KiB steps; an inflater directly is simpler and
    faster. The inflater is ISA-L's (``isal``, zlib's interface): twice zlib's speed on the
    bench image's layers (650 against 335 MB/s of output; zlib-ng's bindings: 530 MB/s).
    """

    def __init__(self, raw: _CountingReader, subject: str) -> None:
        self._raw = raw
        self._subject = subject
        self._inflater = isal_zlib.decompressobj(wbits=31)
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
                self._inflater = isal_zlib.decompressobj(wbits=31)
            chunk = self._inflater.decompress(data, size)
            if self._inflater.eof and self._inflater.unused_data:
                self._pending = self._inflater.unused_data
            if chunk:
                return chunk


class _ZstdInflater:
    """zstd frames read across, with explicit truncation detection.

    ``zstandard``'s stream reader ends a stream cut inside a frame as if it were complete, so
    :class:`_ZstdFrames` follows the frame boundaries in the compressed bytes it consumes.
    """

    def __init__(self, raw: _CountingReader, subject: str) -> None:
        self._frames = _ZstdFrames()
        raw.observer = self._frames.feed
        self._subject = subject
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            raw, read_across_frames=True)  # type: ignore[arg-type]

    def read(self, size: int) -> bytes:
        chunk = self._reader.read(size)
        if not chunk and not self._frames.complete:
            raise CorruptContentError("zstd stream is truncated", subject=self._subject)
        return chunk


_SKIPPABLE_MAGIC = 0x184D2A50
_FCS_BYTES = (0, 2, 4, 8)
_DICT_ID_BYTES = (0, 1, 2, 4)
_FIELD_BYTES = {"magic": 4, "descriptor": 1, "block": 3, "skippable": 4}


class _ZstdFrames:
    """Where the zstd frames (RFC 8878) of a byte stream begin and end, from their headers
    and block headers only; contents are skipped, never decoded."""

    def __init__(self) -> None:
        self._state = "magic"
        self._buffer = b""
        self._skip = 0
        self._checksum = False

    @property
    def complete(self) -> bool:
        """True between frames (or once the bytes stopped looking like zstd at all, which
        the decoder reports itself)."""
        return self._state == "unknown" or (
            self._state == "magic" and not self._skip and not self._buffer)

    def feed(self, data: bytes) -> None:
        """Follow ``data``, the next bytes of the stream."""
        position = 0
        while self._state != "unknown":
            if self._skip:
                step = min(self._skip, len(data) - position)
                self._skip -= step
                position += step
                if self._skip:
                    return
            need = _FIELD_BYTES[self._state] - len(self._buffer)
            if len(data) - position < need:
                self._buffer += data[position:]
                return
            field = self._buffer + data[position:position + need]
            self._buffer = b""
            position += need
            self._advance(field)

    def _advance(self, field: bytes) -> None:
        value = int.from_bytes(field, "little")
        if self._state == "magic":
            if field == ZSTD_MAGIC:
                self._state = "descriptor"
            elif value & 0xFFFFFFF0 == _SKIPPABLE_MAGIC:
                self._state = "skippable"
            else:
                self._state = "unknown"
        elif self._state == "skippable":
            self._state, self._skip = "magic", value
        elif self._state == "descriptor":
            single_segment = value >> 5 & 1
            self._checksum = bool(value >> 2 & 1)
            size_bytes = _FCS_BYTES[value >> 6] or single_segment
            self._state = "block"
            self._skip = (1 - single_segment) + _DICT_ID_BYTES[value & 3] + size_bytes
        else:  # a block header: last-block bit, type (raw, RLE, compressed), size
            block_type, block_size = value >> 1 & 3, value >> 3
            self._skip = 1 if block_type == 1 else block_size
            if value & 1:
                self._state = "magic"
                self._skip += 4 if self._checksum else 0
