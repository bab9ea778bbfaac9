"""Reading one RPM header blob as stored in an rpm database.

Layout (all integers big-endian): ``il`` (index entry count, int32), ``dl`` (data length,
int32), ``il`` index entries of 16 bytes (tag, type, offset, count) and then ``dl`` bytes of data.
Package files put an 8-byte magic (``8e ad e8 01 00 00 00 00``) in front; databases do not,
but both are accepted. Every offset and count is checked against the blob, so hostile input
raises :class:`CorruptContentError` and nothing else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hullscan.errors import CorruptContentError

HEADER_MAGIC = b"\x8e\xad\xe8\x01\x00\x00\x00\x00"
MAX_INDEX_ENTRIES = 0x10000
"""rpm's own limit (``hdrchkTags``)."""
MAX_DATA_LENGTH = 256 * 1024 * 1024
"""rpm's own limit (``hdrchkData``)."""
MAX_ARRAY_COUNT = 1 << 20
"""Values in one string or integer array: each costs a Python object (8 to 40 bytes) per
byte or four of data, so a data area of zeros must not become a list of millions."""
MAX_FILE_LIST_BYTES = 64 * 1024 * 1024
"""Characters in all owned paths together: one long directory name shared by many base
names would otherwise multiply."""

NULL, CHAR, INT8, INT16, INT32, INT64, STRING, BIN, STRING_ARRAY, I18NSTRING = range(10)
_INT_FORMATS = {CHAR: ("B", 1), INT8: ("B", 1), INT16: ("H", 2), INT32: ("I", 4), INT64: ("Q", 8)}

TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_SIZE = 1009
TAG_VENDOR = 1011
TAG_LICENSE = 1014
TAG_ARCH = 1022
TAG_SOURCERPM = 1044
TAG_DIRINDEXES = 1116
TAG_BASENAMES = 1117
TAG_DIRNAMES = 1118

Value = str | bytes | tuple[int, ...] | tuple[str, ...]


@dataclass(frozen=True)
class _Entry:
    tag: int
    type: int
    offset: int
    count: int


class Header:
    """A parsed header: look tags up with :meth:`string`, :meth:`strings`, :meth:`ints`."""

    def __init__(self, blob: bytes, *, subject: str | None = None) -> None:
        self._subject = subject
        if blob.startswith(HEADER_MAGIC):
            blob = blob[len(HEADER_MAGIC) :]
        if len(blob) < 8:
            raise self._error("header shorter than its 8-byte preamble")
        count, data_length = struct.unpack_from(">II", blob, 0)
        if count == 0 or count > MAX_INDEX_ENTRIES:
            raise self._error(f"header index count {count} out of range")
        if data_length > MAX_DATA_LENGTH:
            raise self._error(f"header data length {data_length} out of range")
        data_start = 8 + 16 * count
        if data_start + data_length > len(blob):
            raise self._error(
                f"header truncated: needs {data_start + data_length} bytes, has {len(blob)}"
            )
        self._entries: dict[int, _Entry] = {}
        for position in range(count):
            tag, kind, offset, number = struct.unpack_from(">IIiI", blob, 8 + 16 * position)
            if kind > I18NSTRING:
                raise self._error(f"tag {tag}: unknown type {kind}")
            if offset < 0 or offset > data_length:
                raise self._error(f"tag {tag}: offset {offset} outside data of {data_length}")
            if number == 0 or number > data_length or (kind != BIN and number > MAX_ARRAY_COUNT):
                raise self._error(f"tag {tag}: count {number} out of range")
            self._entries[tag] = _Entry(tag, kind, offset, number)
        self._data = blob[data_start : data_start + data_length]  # a copy: checked index first

    def _error(self, reason: str) -> CorruptContentError:
        return CorruptContentError(f"rpm header: {reason}", subject=self._subject)

    def tags(self) -> tuple[int, ...]:
        """Tags present, in index order."""
        return tuple(self._entries)

    def _read_strings(self, entry: _Entry) -> tuple[str, ...]:
        values: list[str] = []
        position = entry.offset
        for _ in range(entry.count):
            end = self._data.find(b"\0", position)
            if end < 0:
                raise self._error(f"tag {entry.tag}: string runs past the data")
            values.append(self._data[position:end].decode("utf-8", errors="replace"))
            position = end + 1
        return tuple(values)

    def value(self, tag: int) -> Value | None:
        """The tag's value decoded by its type, or ``None`` if absent."""
        entry = self._entries.get(tag)
        if entry is None:
            return None
        if entry.type in (STRING, STRING_ARRAY, I18NSTRING):
            strings = self._read_strings(entry)
            return strings[0] if entry.type == STRING else strings
        if entry.type == BIN:
            if entry.offset + entry.count > len(self._data):
                raise self._error(f"tag {entry.tag}: binary value runs past the data")
            return self._data[entry.offset : entry.offset + entry.count]
        if entry.type == NULL:
            return ()
        code, size = _INT_FORMATS[entry.type]
        if entry.offset % size:
            raise self._error(f"tag {entry.tag}: misaligned integer array")
        if entry.offset + size * entry.count > len(self._data):
            raise self._error(f"tag {entry.tag}: integer array runs past the data")
        return struct.unpack_from(f">{entry.count}{code}", self._data, entry.offset)

    def string(self, tag: int) -> str | None:
        """A single string (the first of an array or I18N string)."""
        value = self.value(tag)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, tuple) and value and isinstance(value[0], str):
            return value[0]
        raise self._error(f"tag {tag}: not a string")

    def strings(self, tag: int) -> tuple[str, ...]:
        """A string array (a single string becomes a one-element tuple); empty if absent."""
        value = self.value(tag)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, tuple) and all(isinstance(item, str) for item in value):
            return tuple(str(item) for item in value)
        raise self._error(f"tag {tag}: not a string array")

    def ints(self, tag: int) -> tuple[int, ...]:
        """An integer array; empty if absent."""
        value = self.value(tag)
        if value is None:
            return ()
        if isinstance(value, tuple) and all(isinstance(item, int) for item in value):
            return tuple(int(item) for item in value)
        raise self._error(f"tag {tag}: not an integer array")

    def files(self) -> tuple[str, ...]:
        """Owned paths from DIRNAMES + BASENAMES + DIRINDEXES, without the leading slash."""
        basenames = self.strings(TAG_BASENAMES)
        if not basenames:
            return ()
        dirnames = self.strings(TAG_DIRNAMES)
        indexes = self.ints(TAG_DIRINDEXES)
        if len(indexes) != len(basenames):
            raise self._error("DIRINDEXES and BASENAMES differ in length")
        paths: list[str] = []
        total = 0
        for base, index in zip(basenames, indexes, strict=True):
            if index >= len(dirnames):
                raise self._error(f"dir index {index} outside {len(dirnames)} dir names")
            total += len(dirnames[index]) + len(base)
            if total > MAX_FILE_LIST_BYTES:
                raise self._error(f"file list longer than {MAX_FILE_LIST_BYTES} characters")
            paths.append((dirnames[index] + base).lstrip("/"))
        return tuple(paths)


def parse_header(blob: bytes, *, subject: str | None = None) -> Header:
    """Parse one header blob; raises :class:`CorruptContentError` if it is malformed."""
    return Header(blob, subject=subject)
