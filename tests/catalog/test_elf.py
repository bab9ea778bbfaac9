from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from hullscan.catalog.elf import PT_LOAD, SHT_NOBITS, is_elf, parse_elf, section_names
from hullscan.errors import CorruptContentError

BASE = 0x400000
_SHT_PROGBITS, _SHT_STRTAB = 1, 3


def build_elf(
    sections: list[tuple[str, bytes]], *, is64: bool = True, little: bool = True
) -> tuple[bytes, dict[str, int]]:
    """A minimal ELF: header, one PT_LOAD mapping the whole file at ``BASE``, the given
    sections (PROGBITS, virtual address ``BASE + offset``), ``.shstrtab``, section headers.

    Returns the bytes and each section's file offset.
    """
    order = "<" if little else ">"
    ehdr_size, phdr_size, shdr_size = (64, 56, 64) if is64 else (52, 32, 40)
    body = bytearray()
    offsets: dict[str, int] = {}
    start = ehdr_size + phdr_size
    for name, data in sections:
        body += b"\0" * (-(start + len(body)) % 16)
        offsets[name] = start + len(body)
        body += data
    names = bytearray(b"\0")
    name_index = {}
    for name in [n for n, _ in sections] + [".shstrtab"]:
        name_index[name] = len(names)
        names += name.encode() + b"\0"
    strtab_offset = start + len(body)
    body += names
    body += b"\0" * (-(start + len(body)) % 8)
    shoff = start + len(body)
    total = shoff + shdr_size * (len(sections) + 2)

    def shdr(name: int, kind: int, addr: int, offset: int, size: int) -> bytes:
        if is64:
            return struct.pack(order + "IIQQQQIIQQ", name, kind, 2, addr, offset, size, 0, 0, 1, 0)
        return struct.pack(order + "IIIIIIIIII", name, kind, 2, addr, offset, size, 0, 0, 1, 0)

    headers = shdr(0, 0, 0, 0, 0)
    for name, data in sections:
        headers += shdr(name_index[name], _SHT_PROGBITS, BASE + offsets[name], offsets[name],
                        len(data))
    headers += shdr(name_index[".shstrtab"], _SHT_STRTAB, 0, strtab_offset, len(names))
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1 if little else 2, 1]) + b"\0" * 9
    shnum, shstrndx = len(sections) + 2, len(sections) + 1
    if is64:
        ehdr = struct.pack(order + "HHIQQQIHHHHHH", 2, 62, 1, BASE, ehdr_size, shoff, 0,
                           ehdr_size, phdr_size, 1, shdr_size, shnum, shstrndx)
        phdr = struct.pack(order + "IIQQQQQQ", PT_LOAD, 5, 0, BASE, BASE, total, total, 0x1000)
    else:
        ehdr = struct.pack(order + "HHIIIIIHHHHHH", 2, 8, 1, BASE, ehdr_size, shoff, 0,
                           ehdr_size, phdr_size, 1, shdr_size, shnum, shstrndx)
        phdr = struct.pack(order + "IIIIIIII", PT_LOAD, 0, BASE, BASE, total, total, 5, 0x1000)
    content = ident + ehdr + phdr + bytes(body) + headers
    assert len(content) == total
    return content, offsets


@pytest.mark.parametrize("is64", [True, False])
@pytest.mark.parametrize("little", [True, False])
def test_sections_and_segments_in_every_class_and_byte_order(is64: bool, little: bool) -> None:
    content, offsets = build_elf([(".one", b"first"), (".two", b"second!")], is64=is64,
                                 little=little)
    elf = parse_elf("a.out", content)
    assert (elf.is64, elf.little_endian) == (is64, little)
    assert [s.name for s in elf.sections] == ["", ".one", ".two", ".shstrtab"]
    two = elf.section(".two")
    assert two is not None
    assert (two.offset, two.size, two.addr) == (offsets[".two"], 7, BASE + offsets[".two"])
    assert elf.section_data(two) == b"second!"
    assert elf.section(".missing") is None
    assert len(elf.segments) == 1
    assert elf.read_virtual(BASE + offsets[".one"], 5) == b"first"
    assert elf.read_virtual(BASE - 1, 2) is None
    assert elf.read_virtual(BASE + len(content), 1) is None


def test_real_binary_matches_readelf() -> None:
    binary = Path("/bin/ls").resolve()
    if shutil.which("readelf") is None or not binary.is_file():
        pytest.skip("readelf or /bin/ls absent")
    listing = subprocess.run(
        ["readelf", "-SW", str(binary)], capture_output=True, text=True, check=True
    ).stdout
    expected = {}
    for line in listing.splitlines():
        line = line.strip()
        if line.startswith("[") and "]" in line and not line.startswith("[Nr]"):
            fields = line.split("]", 1)[1].split()
            if fields and fields[0] != "NULL":
                expected[fields[0]] = (int(fields[3], 16), int(fields[4], 16))
    elf = parse_elf(str(binary), binary.read_bytes())
    ours = {s.name: (s.offset, s.size) for s in elf.sections if s.name}
    assert ours == expected
    assert len(ours) > 20
    text = elf.section(".text")
    assert text is not None and len(elf.section_data(text)) == text.size
    bss = elf.section(".bss")
    assert bss is not None and bss.type == SHT_NOBITS and elf.section_data(bss) == b""


def test_not_elf() -> None:
    assert not is_elf(b"MZ\x90\0")
    with pytest.raises(CorruptContentError, match="not an ELF"):
        parse_elf("x", b"#!/bin/sh\n")


@pytest.mark.parametrize("cut", [4, 16, 40, 70, 100, 200])
def test_truncated_elf_is_corrupt(cut: int) -> None:
    content, _ = build_elf([(".one", b"x" * 64)])
    with pytest.raises(CorruptContentError):
        parse_elf("cut", content[:cut])


def test_bad_class_is_corrupt() -> None:
    content, _ = build_elf([(".one", b"x")])
    with pytest.raises(CorruptContentError, match="class"):
        parse_elf("x", content[:4] + b"\x07" + content[5:])


def _patch_section_size(content: bytes, index: int, size: int) -> bytes:
    shoff = struct.unpack_from("<Q", content, 0x28)[0]
    at = shoff + index * 64 + 32
    return content[:at] + struct.pack("<Q", size) + content[at + 8 :]


def test_huge_section_size_is_refused_on_read() -> None:
    content, _ = build_elf([(".one", b"payload")])
    hostile = _patch_section_size(content, 1, 1 << 62)
    elf = parse_elf("huge", hostile)
    one = elf.section(".one")
    assert one is not None and one.size == 1 << 62
    with pytest.raises(CorruptContentError, match="outside the file"):
        elf.section_data(one)


def test_huge_name_table_is_corrupt() -> None:
    content, _ = build_elf([(".one", b"payload")])
    with pytest.raises(CorruptContentError, match="section name table"):
        parse_elf("huge", _patch_section_size(content, 2, 1 << 40))


def test_section_table_beyond_file_is_corrupt() -> None:
    content, _ = build_elf([(".one", b"payload")])
    hostile = content[:0x3C] + struct.pack("<H", 0xFFF0) + content[0x3E:]  # e_shnum
    with pytest.raises(CorruptContentError, match="section header table"):
        parse_elf("many", hostile)


@pytest.mark.parametrize(("is64", "little"), [(True, True), (True, False), (False, True),
                                              (False, False)])
def test_section_names_come_from_the_headers_alone(is64: bool, little: bool) -> None:
    content, _ = build_elf([(".one", b"x" * 100), (".go.buildinfo", b"y" * 32)], is64=is64,
                           little=little)
    table = section_names(content)
    assert table is not None
    elf = parse_elf("x", content)
    assert all(f"{s.name}\0".encode() in table for s in elf.sections if s.name)
    assert b"x" * 100 not in table  # the table, not the file


def test_section_names_of_a_real_binary_hold_every_section_name() -> None:
    binary = Path("/bin/ls").resolve()
    if not binary.is_file():
        pytest.skip("/bin/ls absent")
    content = binary.read_bytes()
    table = section_names(content)
    assert table is not None and len(table) < 4096 < len(content)
    names = [s.name for s in parse_elf("ls", content).sections if s.name]
    assert len(names) > 20 and all(f"{name}\0".encode() in table for name in names)


def _with_header_field(content: bytes, at: int, value: int) -> bytes:
    return content[:at] + struct.pack("<H", value) + content[at + 2:]


def test_section_names_are_none_where_the_table_is_not_plainly_there() -> None:
    content, _ = build_elf([(".one", b"payload")])
    assert section_names(b"MZ" + content[2:]) is None  # not ELF
    assert section_names(content[:40]) is None  # too short for the header
    assert section_names(content[:0x28] + bytes(8) + content[0x30:]) is None  # no headers
    assert section_names(_with_header_field(content, 0x3E, 0)) is None  # no name table
    assert section_names(_with_header_field(content, 0x3E, 0xFFFF)) is None  # extended index
    assert section_names(_with_header_field(content, 0x3C, 0)) is None  # extended count
    assert section_names(_patch_section_size(content, 2, 1 << 40)) is None  # out of the file
    assert section_names(content[:len(content) - 70]) is None  # headers cut off
