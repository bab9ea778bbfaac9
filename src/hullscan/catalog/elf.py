"""A minimal, bounds-checked ELF reader: section and program headers, nothing more.

Used by the binary catalogers (Go build info, Rust ``cargo auditable`` data). It reads
32- and 64-bit files of either byte order from bytes already in memory. Every offset and
size taken from the file is checked against the file's length; a malformed header raises
:class:`~hullscan.errors.CorruptContentError`. Nothing is copied until a caller asks for a
section's bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hullscan.errors import CorruptContentError

ELF_MAGIC = b"\x7fELF"
SHT_NOBITS = 8
PT_LOAD = 1
_SHN_XINDEX = 0xFFFF
#: More section or program headers than this is not a real binary (and costs time).
MAX_HEADERS = 65536
#: Section names longer than this are cut (names are NUL-terminated in the string table).
_MAX_NAME = 4096


@dataclass(frozen=True)
class ElfSection:
    """One section header."""

    name: str
    type: int
    addr: int
    offset: int
    size: int


@dataclass(frozen=True)
class ElfSegment:
    """One program header."""

    type: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int


@dataclass(frozen=True)
class ElfFile:
    """The headers of one ELF file, plus its bytes for bounded reads."""

    path: str
    content: bytes
    is64: bool
    little_endian: bool
    sections: tuple[ElfSection, ...]
    segments: tuple[ElfSegment, ...]

    def section(self, name: str) -> ElfSection | None:
        """The first section called ``name``, or ``None``."""
        for section in self.sections:
            if section.name == name:
                return section
        return None

    def section_data(self, section: ElfSection) -> bytes:
        """The bytes of ``section`` (empty for ``SHT_NOBITS``); out-of-file is corrupt."""
        if section.type == SHT_NOBITS:
            return b""
        return _slice(self.path, self.content, section.offset, section.size, section.name)

    def read_virtual(self, address: int, size: int) -> bytes | None:
        """``size`` bytes at virtual ``address`` from a loaded segment's file image, or None."""
        if size < 0:
            return None
        for segment in self.segments:
            if segment.type != PT_LOAD:
                continue
            start = address - segment.vaddr
            if start >= 0 and start + size <= segment.filesz:
                offset = segment.offset + start
                if offset + size <= len(self.content):
                    return self.content[offset : offset + size]
        return None


def is_elf(content: bytes) -> bool:
    """True if ``content`` starts with the ELF magic."""
    return content[:4] == ELF_MAGIC


_IDENT_AND_TABLE = {  # class -> where e_shoff is, its format, where e_shentsize starts
    1: (0x20, "I", 0x2E), 2: (0x28, "Q", 0x3A)}
_SECTION_PLACE = {1: (0x10, "II"), 2: (0x18, "QQ")}  # class -> where sh_offset, sh_size are


def section_names(content: bytes) -> bytes | None:
    """The section-name string table of an ELF file, found from its headers alone; None when
    ``content`` is not ELF or the table is not plainly there (no section headers, extended
    numbering, out of the file): callers then look through the whole file instead.

    Every section's name is in this table, so a name missing from it names no section: the
    binary catalogers settle most ELF files (every C binary) with it, without searching
    megabytes of code for their markers.
    """
    if len(content) < 64 or content[:4] != ELF_MAGIC or content[4] not in (1, 2) \
            or content[5] not in (1, 2):
        return None
    order = "<" if content[5] == 1 else ">"
    shoff_at, shoff_format, entry_at = _IDENT_AND_TABLE[content[4]]
    (shoff,) = struct.unpack_from(order + shoff_format, content, shoff_at)
    entsize, count, index = struct.unpack_from(order + "HHH", content, entry_at)
    if shoff == 0 or count == 0 or index == 0 or index >= min(count, _SHN_XINDEX):
        return None
    place, place_format = _SECTION_PLACE[content[4]]
    header = shoff + index * entsize + place
    if header + struct.calcsize(place_format) > len(content):
        return None
    offset, size = struct.unpack_from(order + place_format, content, header)
    if offset + size > len(content):
        return None
    return content[offset:offset + size]


def _slice(path: str, content: bytes, offset: int, size: int, what: str) -> bytes:
    if offset < 0 or size < 0 or offset + size > len(content):
        raise CorruptContentError(
            f"ELF {what} at offset {offset} size {size} lies outside the file "
            f"({len(content)} bytes)",
            subject=path,
        )
    return content[offset : offset + size]


def parse_elf(path: str, content: bytes) -> ElfFile:
    """Read the ELF header, program headers and section headers (with names)."""
    if not is_elf(content):
        raise CorruptContentError("not an ELF file", subject=path)
    ident = _slice(path, content, 0, 16, "identification")
    if ident[4] not in (1, 2) or ident[5] not in (1, 2):
        raise CorruptContentError(
            f"ELF class {ident[4]} / data encoding {ident[5]} unknown", subject=path
        )
    is64, little = ident[4] == 2, ident[5] == 1
    order = "<" if little else ">"
    header_format = order + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH")
    header_size = struct.calcsize(header_format)
    fields = struct.unpack(header_format, _slice(path, content, 16, header_size, "header"))
    phoff, shoff = fields[4], fields[5]
    phentsize, phnum, shentsize, shnum, shstrndx = fields[8:13]

    segments = _segments(path, content, order, is64, phoff, phentsize, phnum)
    sections = _sections(path, content, order, is64, shoff, shentsize, shnum, shstrndx)
    return ElfFile(path, content, is64, little, sections, segments)


def _segments(
    path: str, content: bytes, order: str, is64: bool, phoff: int, entsize: int, count: int
) -> tuple[ElfSegment, ...]:
    if phoff == 0 or count == 0:
        return ()
    # p_type, p_offset, p_vaddr, p_filesz, p_memsz (the layouts differ between classes).
    layout = order + ("IIQQQQQQ" if is64 else "IIIIIIII")
    if entsize < struct.calcsize(layout):
        raise CorruptContentError(f"ELF program header size {entsize} too small", subject=path)
    table = _slice(path, content, phoff, entsize * count, "program header table")
    segments = []
    for index in range(count):
        raw = struct.unpack_from(layout, table, index * entsize)
        if is64:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, _align = raw
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, _flags, _align = raw
        segments.append(ElfSegment(p_type, p_offset, p_vaddr, p_filesz, p_memsz))
    return tuple(segments)


def _sections(
    path: str,
    content: bytes,
    order: str,
    is64: bool,
    shoff: int,
    entsize: int,
    count: int,
    shstrndx: int,
) -> tuple[ElfSection, ...]:
    if shoff == 0:
        return ()
    # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link
    layout = order + ("IIQQQQI" if is64 else "IIIIIII")
    if entsize < struct.calcsize(layout):
        raise CorruptContentError(f"ELF section header size {entsize} too small", subject=path)
    first = struct.unpack(layout, _slice(path, content, shoff, struct.calcsize(layout), "section"))
    if count == 0:  # more than 0xff00 sections: the real count is in section 0's sh_size
        count = first[5]
    if shstrndx == _SHN_XINDEX:
        shstrndx = first[6]
    if count > MAX_HEADERS:
        raise CorruptContentError(f"ELF claims {count} sections", subject=path)
    table = _slice(path, content, shoff, entsize * count, "section header table")
    raw = [struct.unpack_from(layout, table, index * entsize) for index in range(count)]
    names = b""
    if 0 < shstrndx < count:
        strtab = raw[shstrndx]
        if strtab[1] != SHT_NOBITS:
            names = _slice(path, content, strtab[4], strtab[5], "section name table")
    sections = []
    for sh_name, sh_type, _flags, sh_addr, sh_offset, sh_size, _link in raw:
        end = names.find(b"\0", sh_name, sh_name + _MAX_NAME)
        name = names[sh_name : end if end >= 0 else sh_name + _MAX_NAME]
        sections.append(
            ElfSection(name.decode("utf-8", "replace"), sh_type, sh_addr, sh_offset, sh_size)
        )
    return tuple(sections)
