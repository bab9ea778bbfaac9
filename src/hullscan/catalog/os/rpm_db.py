"""rpm database back ends: yield the raw header blobs from SQLite, BerkeleyDB hash or NDB files.

* SQLite (``rpmdb.sqlite``): table ``Packages``, column ``blob``. The bytes are opened as an
  in-memory database (``deserialize``): nothing is written to disk.
* BerkeleyDB hash (``Packages``): a metadata page (page 0) gives magic, byte order, page size and
  the last page number; hash pages (types 2 and 13) hold key/data item pairs, and each data item is
  either inline (``H_KEYDATA``) or points at a chain of overflow pages (``H_OFFPAGE``). Key 0 is
  rpm's bookkeeping record and is skipped.
* NDB (``Packages.db``): a little-endian ``RpmP`` header, then slot pages of 16-byte slots
  (``Slot`` magic, package index, block offset, block count); each blob starts with a 16-byte
  ``BlbS`` header (magic, package index, checksum, length) at ``block offset * 16``.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator

from hullscan.errors import CorruptContentError

BDB_HASH_MAGIC = 0x061561
SQLITE_MAGIC = b"SQLite format 3\x00"
NDB_MAGIC = b"RpmP"
_NDB_SLOT_MAGIC = b"Slot"
_NDB_BLOB_MAGIC = b"BlbS"
_NDB_PAGE = 4096
_MAX_SLOT_PAGES = 4096
_P_HASH_UNSORTED, _P_OVERFLOW, _P_HASHMETA, _P_HASH = 2, 7, 8, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3
_PAGE_HEADER = 26
_SQLITE_STEP_CHECK = 10_000
_SQLITE_MAX_STEPS = 500_000_000
"""SQLite virtual-machine steps one read may take (a real database needs far fewer)."""


def sqlite_blobs(path: str, content: bytes) -> Iterator[bytes]:
    """Header blobs from an rpm SQLite database, in ``hnum`` order.

    The database is opened in memory (nothing is written to disk, not even sort spills), and
    ``Packages`` must be a table: a view could compute rows without end. A query that takes
    more than :data:`_SQLITE_MAX_STEPS` virtual-machine steps is interrupted.
    """
    if not content.startswith(SQLITE_MAGIC):
        raise CorruptContentError("not an SQLite database", subject=path)
    # Bytes 18-19 say WAL mode, which an in-memory database cannot open; the WAL file is
    # not read either way.
    image = content[:18] + b"\x01\x01" + content[20:] if content[18:20] == b"\x02\x02" else content
    connection = sqlite3.connect(":memory:")
    try:
        try:
            connection.deserialize(image)
            connection.execute("PRAGMA temp_store = MEMORY")
        except sqlite3.Error as error:
            raise CorruptContentError(f"cannot open SQLite database: {error}",
                                      subject=path) from error
        try:
            kind = connection.execute(
                "SELECT type FROM sqlite_master WHERE name = 'Packages'").fetchone()
        except (sqlite3.Error, UnicodeDecodeError) as error:
            # UnicodeDecodeError: a corrupt schema whose error message quotes non-UTF-8 bytes.
            raise CorruptContentError(f"cannot read Packages table: {error}",
                                      subject=path) from error
        if kind != ("table",):
            raise CorruptContentError("SQLite database has no Packages table", subject=path)
        steps = [0]

        def interrupt() -> int:
            steps[0] += 1
            return 1 if steps[0] * _SQLITE_STEP_CHECK > _SQLITE_MAX_STEPS else 0

        connection.set_progress_handler(interrupt, _SQLITE_STEP_CHECK)
        try:
            rows = connection.execute("SELECT blob FROM Packages ORDER BY hnum")
            for (blob,) in rows:
                if not isinstance(blob, bytes):
                    raise CorruptContentError("Packages.blob is not a BLOB", subject=path)
                yield blob
        except (sqlite3.Error, UnicodeDecodeError) as error:
            reason = f"cannot read Packages table: {error}"
            raise CorruptContentError(reason, subject=path) from error
    finally:
        connection.close()


def _bdb_order(path: str, content: bytes) -> str:
    if len(content) < 72:
        raise CorruptContentError("BerkeleyDB file shorter than its metadata page", subject=path)
    for order in ("<", ">"):
        if struct.unpack_from(f"{order}I", content, 12)[0] == BDB_HASH_MAGIC:
            return order
    raise CorruptContentError("not a BerkeleyDB hash database", subject=path)


def bdb_blobs(path: str, content: bytes) -> Iterator[bytes]:
    """Header blobs from an rpm BerkeleyDB hash ``Packages`` file (either byte order)."""
    order = _bdb_order(path, content)
    (page_size,) = struct.unpack_from(f"{order}I", content, 20)
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise CorruptContentError(f"BerkeleyDB page size {page_size} invalid", subject=path)
    (last_page,) = struct.unpack_from(f"{order}I", content, 32)
    pages = min(last_page + 1, len(content) // page_size)

    def page(number: int) -> bytes:
        if number >= pages:
            raise CorruptContentError(f"BerkeleyDB page {number} outside the file", subject=path)
        return content[number * page_size : (number + 1) * page_size]

    def overflow(first: int, total: int) -> bytes:
        parts: list[bytes] = []
        have = 0
        number = first
        seen: set[int] = set()
        while number != 0:
            if number in seen:
                raise CorruptContentError("BerkeleyDB overflow chain loops", subject=path)
            seen.add(number)
            data = page(number)
            if data[25] != _P_OVERFLOW:
                raise CorruptContentError(f"page {number} is not an overflow page", subject=path)
            (next_page,) = struct.unpack_from(f"{order}I", data, 16)
            (length,) = struct.unpack_from(f"{order}H", data, 22)
            if _PAGE_HEADER + length > page_size:
                raise CorruptContentError(f"overflow page {number} overfull", subject=path)
            parts.append(data[_PAGE_HEADER : _PAGE_HEADER + length])
            have += length
            number = next_page
        blob = b"".join(parts)
        if have < total:
            raise CorruptContentError("BerkeleyDB overflow chain truncated", subject=path)
        return blob[:total]

    for number in range(1, pages):
        data = page(number)
        if data[25] not in (_P_HASH, _P_HASH_UNSORTED):
            continue
        (entries,) = struct.unpack_from(f"{order}H", data, 20)
        if _PAGE_HEADER + 2 * entries > page_size:
            raise CorruptContentError(f"hash page {number}: too many entries", subject=path)
        offsets = struct.unpack_from(f"{order}{entries}H", data, _PAGE_HEADER)
        for index in range(0, entries - 1, 2):
            key_at, value_at = offsets[index], offsets[index + 1]
            key_end = offsets[index - 1] if index else page_size
            if not (_PAGE_HEADER < key_at < key_end <= page_size and value_at < key_at):
                raise CorruptContentError(f"hash page {number}: bad item offsets", subject=path)
            if data[key_at] == _H_KEYDATA and data[key_at + 1 : key_end] == b"\0\0\0\0":
                continue
            kind = data[value_at]
            if kind == _H_OFFPAGE:
                if value_at + 12 > key_at:
                    raise CorruptContentError(f"hash page {number}: short item", subject=path)
                first, total = struct.unpack_from(f"{order}II", data, value_at + 4)
                yield overflow(first, total)
            elif kind == _H_KEYDATA:
                yield data[value_at + 1 : key_at]


def ndb_blobs(path: str, content: bytes) -> Iterator[bytes]:
    """Header blobs from an rpm NDB ``Packages.db`` file, in slot order."""
    if len(content) < 32 or not content.startswith(NDB_MAGIC):
        raise CorruptContentError("not an rpm NDB database", subject=path)
    version, _generation, slot_pages = struct.unpack_from("<III", content, 4)
    if version != 0:
        raise CorruptContentError(f"NDB version {version} not supported", subject=path)
    if slot_pages == 0 or slot_pages > _MAX_SLOT_PAGES or slot_pages * _NDB_PAGE > len(content):
        raise CorruptContentError(f"NDB slot page count {slot_pages} invalid", subject=path)
    for position in range(32, slot_pages * _NDB_PAGE, 16):
        magic = content[position : position + 4]
        index, block, _blocks = struct.unpack_from("<III", content, position + 4)
        if magic != _NDB_SLOT_MAGIC:
            raise CorruptContentError(f"NDB slot at {position}: bad magic", subject=path)
        if index == 0:
            continue
        start = block * 16
        if start + 16 > len(content) or content[start : start + 4] != _NDB_BLOB_MAGIC:
            raise CorruptContentError(f"NDB package {index}: bad blob offset", subject=path)
        blob_index, _checksum, length = struct.unpack_from("<III", content, start + 4)
        if blob_index != index:
            raise CorruptContentError(f"NDB package {index}: blob names {blob_index}", subject=path)
        if start + 16 + length > len(content):
            raise CorruptContentError(f"NDB package {index}: blob truncated", subject=path)
        yield content[start + 16 : start + 16 + length]


def header_blobs(path: str, content: bytes) -> Iterator[bytes]:
    """Dispatch on the file's magic (falling back to its name) to the right back end."""
    if content.startswith(SQLITE_MAGIC):
        return sqlite_blobs(path, content)
    if content.startswith(NDB_MAGIC):
        return ndb_blobs(path, content)
    if len(content) >= 16 and any(
        struct.unpack_from(f"{order}I", content, 12)[0] == BDB_HASH_MAGIC for order in "<>"
    ):
        return bdb_blobs(path, content)
    name = path.rsplit("/", 1)[-1]
    raise CorruptContentError(f"{name}: not a known rpm database format", subject=path)
