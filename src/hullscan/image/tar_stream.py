"""A forward-only reader of tar streams: headers, long names, pax records, file data.

Our own instead of ``tarfile``: in stream mode ``tarfile`` builds a ``TarInfo`` per entry,
reads each header through several Python-level buffer layers and parses pax records with
regular expressions; on layers of 10,000+ files that per-entry overhead was half the time of
the whole layer pass (bench/README.md). This reader slices headers out of large decompressed
chunks and keeps nothing per entry beyond what it returns. It accepts the formats layers use
(ustar, GNU, pax, old V7) and refuses what it cannot read faithfully, never skipping data
silently.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import NamedTuple

from hullscan.errors import CorruptContentError, HostileContentError

BLOCK = 512
_CHUNK = 1024 * 1024

REGULAR = b"0"
OLD_REGULAR = b"\x00"
HARDLINK = b"1"
SYMLINK = b"2"
CHAR_DEVICE = b"3"
BLOCK_DEVICE = b"4"
DIRECTORY = b"5"
FIFO = b"6"
CONTIGUOUS = b"7"
GNU_SPARSE = b"S"
_PAX_LOCAL = b"x"
_PAX_GLOBAL = b"g"
_SOLARIS_PAX = b"X"
_GNU_LONGNAME = b"L"
_GNU_LONGLINK = b"K"
_EXTENSION_TYPES = frozenset({_PAX_LOCAL, _PAX_GLOBAL, _SOLARIS_PAX, _GNU_LONGNAME,
                              _GNU_LONGLINK})
_GNU_MAGIC = b"ustar  \x00"
_EMPTY_BLOCK = bytes(BLOCK)
_SIGNED_BYTES = struct.Struct("148b8x356b")
_USTAR = struct.Struct("100s8s8s8s12s12s8sc100s8s")
"""name, mode, uid, gid, size, mtime, checksum, type, linkname, magic + version."""


class TarHeader(NamedTuple):
    """One entry as its headers (and any pax or GNU extension before it) describe it.

    A named tuple rather than a frozen dataclass: made once per tar entry, and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) cost five times as much.
    """

    name: str
    type: bytes
    """The type flag (``b"0"``, ``b"5"``, ...), V7 directories (``name/``) as ``b"5"``."""
    size: int
    """Bytes of data that follow in the stream (for old GNU sparse files: the stored part)."""
    mode: int
    uid: int
    gid: int
    mtime: int
    linkname: str
    sparse: bool = False
    """GNU sparse data (old or pax form): the stored bytes are not the file's contents."""
    real_size: int | None = None
    """The file's size when it differs from the stored data (sparse files)."""


Read = Callable[[int], bytes]


class TarStream:
    """Entries of a tar stream, one after another; the data of each may be read or skipped.

    ``read(size)`` must return up to ``size`` bytes, and ``b""`` only at the end. A stream
    that can pass over bytes without reading them gives ``skip(size)``, returning how many
    bytes there were (fewer only at the end): file data nobody wants is then never read.
    """

    def __init__(self, read: Read, *, max_header_bytes: int,
                 skip: Callable[[int], int] | None = None) -> None:
        self._read = read
        self._skip_unread = skip
        self._max_header_bytes = max_header_bytes
        self._buffer = b""
        self._position = 0
        self._offset = 0
        """Stream offset of ``_buffer[0]`` (for messages)."""
        self._pending = 0
        """Bytes (data and padding) of the current entry not yet consumed."""
        self._global_pax: dict[str, str] = {}

    def next(self) -> TarHeader | None:
        """The next entry, or None at the end of the archive (a zero block or a clean end)."""
        self._skip(self._pending)
        self._pending = 0
        long_name: str | None = None
        long_link: str | None = None
        pax: dict[str, str] = {}
        while True:
            offset = self._offset + self._position
            block = self._take(BLOCK, allow_short=True)
            if len(block) < BLOCK:
                if block.strip(b"\x00"):
                    raise CorruptContentError(f"tar stream ends inside a header at {offset}")
                if long_name is not None or long_link is not None or pax:
                    raise CorruptContentError("tar stream ends after an extended header")
                return None
            if block == _EMPTY_BLOCK:
                return None
            header = _parse_block(block, offset)
            if header.type in _EXTENSION_TYPES:
                if header.size > self._max_header_bytes:
                    raise HostileContentError(f"tar extended header of {header.size} bytes")
                data = self._take(header.size)
                self._skip(_padding(header.size))
                if header.type == _GNU_LONGNAME:
                    long_name = _text(data.split(b"\x00", 1)[0])
                elif header.type == _GNU_LONGLINK:
                    long_link = _text(data.split(b"\x00", 1)[0])
                elif header.type == _PAX_GLOBAL:
                    self._global_pax.update(_pax_records(data, offset))
                else:
                    pax.update(_pax_records(data, offset))
                continue
            if header.type == GNU_SPARSE:
                header = self._old_gnu_sparse(header, block)
            entry = _apply_extensions(header, {**self._global_pax, **pax}, long_name,
                                      long_link)
            self._pending = entry.size + _padding(entry.size)
            return entry

    def read_data(self, entry: TarHeader) -> bytes:
        """The whole data of the entry :meth:`next` just returned (call once, before next)."""
        data = self._take(entry.size)
        self._pending -= entry.size
        return data

    def finish(self) -> int:
        """Consume the rest of the stream; the number of bytes that were left."""
        left = len(self._buffer) - self._position
        self._buffer, self._position = b"", 0
        while chunk := self._read(_CHUNK):
            left += len(chunk)
        return left

    def _old_gnu_sparse(self, header: TarHeader, block: bytes) -> TarHeader:
        """Skip the extension blocks of an old GNU sparse header; note the real size."""
        extended = block[482]
        while extended:
            extension = self._take(BLOCK)
            extended = extension[504]
        real_size = _number(block[483:495])
        return TarHeader(header.name, REGULAR, header.size, header.mode, header.uid,
                         header.gid, header.mtime, header.linkname, True, real_size)

    def _take(self, size: int, *, allow_short: bool = False) -> bytes:
        """Exactly ``size`` bytes (fewer only at the end when ``allow_short``)."""
        end = self._position + size
        if end <= len(self._buffer):
            data = self._buffer[self._position:end]
            self._position = end
            return data
        parts = [self._buffer[self._position:]]
        have = len(parts[0])
        self._offset += len(self._buffer)
        self._buffer, self._position = b"", 0
        while have < size:
            chunk = self._read(max(_CHUNK, size - have))
            if not chunk:
                if allow_short:
                    return b"".join(parts)
                raise CorruptContentError("unexpected end of data in the tar stream")
            need = size - have
            if len(chunk) > need:
                parts.append(chunk[:need])
                self._buffer, self._position = chunk, need
                have = size
            else:
                parts.append(chunk)
                self._offset += len(chunk)
                have += len(chunk)
        return b"".join(parts)

    def _skip(self, size: int) -> None:
        """Consume ``size`` bytes without keeping them."""
        available = len(self._buffer) - self._position
        if size <= available:
            self._position += size
            return
        size -= available
        self._offset += len(self._buffer)
        self._buffer, self._position = b"", 0
        if self._skip_unread is not None:
            skipped = self._skip_unread(size)
            self._offset += skipped
            if skipped < size:
                raise CorruptContentError("unexpected end of data in the tar stream")
            return
        while size > 0:
            chunk = self._read(_CHUNK)
            if not chunk:
                raise CorruptContentError("unexpected end of data in the tar stream")
            if len(chunk) > size:
                self._buffer, self._position = chunk, size
                return
            self._offset += len(chunk)
            size -= len(chunk)


def _padding(size: int) -> int:
    return -size % BLOCK


def _text(raw: bytes) -> str:
    """Names as tar stores them: UTF-8, undecodable bytes as ``\\xNN`` (printable in every
    report; lone surrogates would break UTF-8 output)."""
    return raw.decode("utf-8", "backslashreplace")


def _field(raw: bytes) -> str:
    return _text(raw.split(b"\x00", 1)[0])


def _number(raw: bytes) -> int:
    """An octal field (NUL- or space-terminated), or GNU base-256 when the top bit is set."""
    if raw[0] & 0x80:
        value = int.from_bytes(raw[1:], "big")
        if raw[0] == 0xFF:
            value -= 256 ** (len(raw) - 1)
        return value
    digits = raw.split(b"\x00", 1)[0].strip()
    try:
        return int(digits, 8) if digits else 0
    except ValueError:
        raise CorruptContentError(f"not a valid tar stream (bad number {digits[:12]!r})") \
            from None


def _byte_sum(block: bytes) -> int:
    """The sum of a 512-byte block's bytes, at C speed: adler32's low half is one plus the
    byte sum modulo 65,521, exact for each 256-byte half (at most 256 * 255 = 65,280)."""
    return (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:]) & 0xFFFF) - 2


def _parse_block(block: bytes, offset: int) -> TarHeader:
    """A header block, its checksum verified (unsigned, or signed as some old tars wrote)."""
    (raw_name, raw_mode, raw_uid, raw_gid, raw_size, raw_mtime, raw_sum, kind, raw_link,
     magic) = _USTAR.unpack_from(block)
    numbers: tuple[int, ...] | None
    try:  # the usual octal fields; base-256, empty or odd ones take the exact path below
        stored = int(raw_sum.split(b"\x00", 1)[0], 8)
        numbers = (int(raw_mode.split(b"\x00", 1)[0], 8), int(raw_uid.split(b"\x00", 1)[0], 8),
                   int(raw_gid.split(b"\x00", 1)[0], 8), int(raw_size.split(b"\x00", 1)[0], 8),
                   int(raw_mtime.split(b"\x00", 1)[0], 8))
    except ValueError:
        stored, numbers = _number(raw_sum), None
    if stored != _byte_sum(block) - sum(raw_sum) + 256 and \
            stored != sum(_SIGNED_BYTES.unpack_from(block)) + 256:
        raise CorruptContentError(f"not a valid tar stream (bad header checksum at {offset})")
    if numbers is None:
        numbers = tuple(_number(raw) for raw in (raw_mode, raw_uid, raw_gid, raw_size,
                                                 raw_mtime))
    mode, uid, gid, size, mtime = numbers
    name = _field(raw_name)
    if magic != _GNU_MAGIC and block[345] and kind not in (GNU_SPARSE, _GNU_LONGNAME,
                                                           _GNU_LONGLINK):
        name = f"{_field(block[345:500])}/{name}"
    if size < 0:
        raise CorruptContentError(f"not a valid tar stream (negative size at {offset})")
    return TarHeader(name, kind, size, mode, uid, gid, mtime, _field(raw_link))


def _pax_records(data: bytes, offset: int) -> dict[str, str]:
    """``"%d %s=%s\\n"`` records; the length prefix counts the whole record."""
    records: dict[str, str] = {}
    position = 0
    while position < len(data) and data[position] != 0:
        space = data.find(b" ", position)
        try:
            length = int(data[position:space])
        except ValueError:
            length = 0
        record = data[space + 1:position + length]
        if space < 0 or length <= 0 or position + length > len(data) or \
                not record.endswith(b"\n") or b"=" not in record:
            raise CorruptContentError(f"not a valid tar stream (bad pax record at {offset})")
        key, _, value = record[:-1].partition(b"=")
        records[_text(key)] = _text(value)
        position += length
    return records


def _apply_extensions(header: TarHeader, pax: dict[str, str], long_name: str | None,
                      long_link: str | None) -> TarHeader:
    """The entry as pax records and GNU long names override its ustar header."""
    name = pax.get("path", long_name if long_name is not None else header.name)
    linkname = pax.get("linkpath", long_link if long_link is not None else header.linkname)
    kind = header.type
    if name.endswith("/") and kind == OLD_REGULAR:
        # Old V7 tars wrote directories as files named ``dir/``; judged on the final name (a
        # 100-byte ustar name cut at a slash says nothing about a long-named ``0`` file).
        kind = DIRECTORY
    if kind == DIRECTORY:
        name = name.rstrip("/")
    size, uid, gid, mtime = header.size, header.uid, header.gid, header.mtime
    sparse, real_size = header.sparse, header.real_size
    if pax:
        try:
            size = int(pax.get("size", size))
            uid = int(pax.get("uid", uid))
            gid = int(pax.get("gid", gid))
            mtime = int(float(pax.get("mtime", mtime)))
        except ValueError:
            raise CorruptContentError(f"not a valid tar stream (bad pax value for {name!r})") \
                from None
        if size < 0:
            raise CorruptContentError(f"not a valid tar stream (negative size for {name!r})")
        if any(key.startswith("GNU.sparse.") for key in pax):
            sparse = True
            real = pax.get("GNU.sparse.realsize", pax.get("GNU.sparse.size"))
            real_size = int(real) if real is not None and real.isdigit() else None
            name = pax.get("GNU.sparse.name", name)
    if name == header.name and linkname == header.linkname and kind == header.type and \
            (size, uid, gid, mtime, sparse) == (header.size, header.uid, header.gid,
                                                header.mtime, header.sparse):
        return header
    return TarHeader(name, kind, size, header.mode, uid, gid, mtime, linkname, sparse,
                     real_size)
