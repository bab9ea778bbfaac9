"""Go binaries: the build information the linker embeds (what ``go version -m`` prints).

The blob starts with the 14-byte magic ``\\xff Go buildinf:`` at a 16-byte aligned file
offset, followed by the pointer size and a flags byte, 32 bytes in all:

* Go >= 1.18 (flags bit ``0x2``): the Go version and the module info follow the header
  inline, each as a uvarint length and the bytes.
* Older binaries: two pointers (size and byte order from the header) at offset 16 point to
  Go string headers ``(data pointer, length)``; those virtual addresses are resolved through
  the ELF ``PT_LOAD`` program headers or the PE section table. Mach-O binaries in the old
  format are not read (they give ``[]``); the inline format works for every container.

The module info is wrapped in two 16-byte sentinels; inside it holds tab-separated lines:
``path`` (the main package), ``mod`` (main module, version ``(devel)`` if untagged), ``dep``
(module, version, ``h1:`` sum) and ``=>`` (replacement of the preceding ``dep``), and
``build`` settings (``GOOS``, ``GOARCH``, ``vcs.revision``, ...).

Reported, ecosystem ``golang``, as syft 1.18.1 reports it (its purls, compared by type,
namespace/name and version):

* the main module with every build setting in ``extra["build.<key>"]`` and
  ``extra["main"] = "true"``. Without a ``mod`` line (GOPATH build) the main module is the one
  dependency whose version is ``(devel)`` if there is exactly one, else it is made from the
  ``path`` line: its first three ``/`` elements are the module path (as syft's purl splits
  any Go name: namespace = two elements, name = the third) and the rest goes to
  ``extra["subpath"]`` (``#cmd/registry`` in syft's purl); ``extra["package_path"]`` keeps the
  ``path`` line. A ``(devel)`` main version is replaced, in this order, by a version from the
  ``-ldflags`` ``-X`` settings, by the first NUL-delimited semver in the file, or by a
  ``v0.0.0-<vcs.time>-<vcs.revision>`` pseudo-version (``extra["version_source"]`` says which);
* each dependency. A replacement by another module reports the replacement (the original
  goes to ``extra["replaces"]``); a replacement by a local directory keeps the original
  path and version with ``extra["replaced_by"]`` naming the directory, since that code is
  linked in (unlike ``go.mod``, where local replacements are dropped);
* the toolchain as ``stdlib``, version without the ``go`` prefix (``1.21.5``, as syft's purl
  and the Go vulnerability database write it); ``extra["toolchain"]`` keeps ``go1.21.5``.

Module paths are split purl-style at the last ``/`` (namespace ``github.com/gorilla``, name
``mux``) as :mod:`hullscan.catalog.lang.golang` does; ``extra["module"]`` keeps the full
path. (syft cuts every purl after the third element instead, dependencies too:
``github.com/cespare/xxhash@v2.3.0#v2``; only the GOPATH main module follows that here.)
``GOARCH`` becomes the ``architecture`` of the modules (as syft sets it).
"""

from __future__ import annotations

import json
import re
import struct
from datetime import UTC, datetime

from hullscan.catalog.elf import is_elf, parse_elf, section_names
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError

_ECOSYSTEM = "golang"
MAGIC = b"\xff Go buildinf:"
_BUILDINFO_SECTION = b".go.buildinfo\x00"
_HEADER_SIZE = 32
_FLAG_BIG_ENDIAN = 0x1
_FLAG_INLINE = 0x2
#: Longest version or module-info string accepted (real ones are a few KiB to ~100 KiB).
MAX_STRING = 4 << 20


def parse_go_binary(path: str, content: bytes) -> list[FoundPackage]:
    """Modules linked into a Go binary; ``[]`` when ``content`` is not one."""
    names = section_names(content)
    if names is not None and _BUILDINFO_SECTION not in names:
        # Go's linker writes the build information into section .go.buildinfo of every ELF
        # binary (since Go 1.13, which introduced it): an ELF file whose section names lack
        # it is no Go binary, and the search of all its bytes for the magic (megabytes for
        # a C library) is spared. Files without readable section headers are searched.
        return []
    found = _build_info(path, content)
    if found is None:
        return []
    raw_version, modinfo = found
    go_version = raw_version.decode("utf-8", "replace")
    if not go_version.startswith("go"):
        return []
    return _packages(path, go_version, _strip_sentinels(modinfo), content)


def _find_header(content: bytes) -> int | None:
    start = content.find(MAGIC)
    while start >= 0:
        if start % 16 == 0 and start + _HEADER_SIZE <= len(content):
            return start
        start = content.find(MAGIC, start + 1)
    return None


def _build_info(path: str, content: bytes) -> tuple[bytes, bytes] | None:
    start = _find_header(content)
    if start is None:
        return None
    pointer_size, flags = content[start + 14], content[start + 15]
    if flags & _FLAG_INLINE:
        version, after = _varint_string(path, content, start + _HEADER_SIZE)
        modinfo, _ = _varint_string(path, content, after)
        return version, modinfo
    if pointer_size not in (4, 8):
        raise CorruptContentError(f"Go build info pointer size {pointer_size}", subject=path)
    reader = _VirtualReader.of(path, content)
    if reader is None:
        return None
    order = ">" if flags & _FLAG_BIG_ENDIAN else "<"
    code = order + ("Q" if pointer_size == 8 else "I")
    version_at, modinfo_at = (
        struct.unpack_from(code, content, start + 16 + index * pointer_size)[0]
        for index in (0, 1)
    )
    return (
        reader.go_string(version_at, code, pointer_size),
        reader.go_string(modinfo_at, code, pointer_size),
    )


def _varint_string(path: str, content: bytes, offset: int) -> tuple[bytes, int]:
    length, shift = 0, 0
    while True:
        if offset >= len(content) or shift > 63:
            raise CorruptContentError("truncated Go build info", subject=path)
        byte = content[offset]
        offset += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if length > MAX_STRING or offset + length > len(content):
        raise CorruptContentError(f"Go build info string of {length} bytes", subject=path)
    return content[offset : offset + length], offset + length


class _VirtualReader:
    """Reads bytes at virtual addresses of an ELF or PE file (old build-info format)."""

    def __init__(self, path: str, content: bytes, ranges: list[tuple[int, int, int]]) -> None:
        self.path = path
        self.content = content
        self.ranges = ranges  # (virtual address, file offset, size in file)

    @classmethod
    def of(cls, path: str, content: bytes) -> _VirtualReader | None:
        if is_elf(content):
            elf = parse_elf(path, content)
            loads = [(s.vaddr, s.offset, s.filesz) for s in elf.segments if s.type == 1]
            return cls(path, content, loads)
        if content[:2] == b"MZ":
            return cls(path, content, _pe_sections(path, content))
        return None

    def read(self, address: int, size: int) -> bytes:
        for vaddr, offset, filesz in self.ranges:
            start = address - vaddr
            if start >= 0 and start + size <= filesz and offset + start + size <= len(
                self.content
            ):
                return self.content[offset + start : offset + start + size]
        raise CorruptContentError(
            f"Go build info points to unmapped address {address:#x}", subject=self.path
        )

    def go_string(self, address: int, code: str, pointer_size: int) -> bytes:
        header = self.read(address, 2 * pointer_size)
        data, length = struct.unpack(code[0] + code[1] * 2, header)
        if length > MAX_STRING:
            raise CorruptContentError(f"Go string of {length} bytes", subject=self.path)
        return self.read(data, length)


def _pe_sections(path: str, content: bytes) -> list[tuple[int, int, int]]:
    def unpack(code: str, offset: int) -> tuple[int, ...]:
        if offset < 0 or offset + struct.calcsize(code) > len(content):
            raise CorruptContentError("truncated PE header", subject=path)
        return struct.unpack_from(code, content, offset)

    (pe_offset,) = unpack("<I", 0x3C)
    if content[pe_offset : pe_offset + 4] != b"PE\0\0":
        raise CorruptContentError("MZ file without PE signature", subject=path)
    _machine, count, _t, _s, _n, optional_size, _c = unpack("<HHIIIHH", pe_offset + 4)
    optional = pe_offset + 24
    (magic,) = unpack("<H", optional)
    if magic == 0x20B:
        (image_base,) = unpack("<Q", optional + 24)
    elif magic == 0x10B:
        (image_base,) = unpack("<I", optional + 28)
    else:
        raise CorruptContentError(f"PE optional header magic {magic:#x}", subject=path)
    table = optional + optional_size
    ranges = []
    for index in range(count):
        _vsize, vaddr, raw_size, raw_offset = unpack("<IIII", table + index * 40 + 8)
        ranges.append((image_base + vaddr, raw_offset, raw_size))
    return ranges


def _strip_sentinels(modinfo: bytes) -> str:
    # Same rule as Go's debug/buildinfo: 16 bytes each side, the last line ending "\n".
    if len(modinfo) >= 33 and modinfo[-17:-16] == b"\n":
        return modinfo[16:-16].decode("utf-8", "replace")
    return ""


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            unquoted = json.loads(value)
        except ValueError:
            return value
        return unquoted if isinstance(unquoted, str) else value
    return value


DEVEL = "(devel)"
#: Main-module path of ``go build file.go`` (syft treats such a main module as missing).
_COMMAND_LINE_ARGUMENTS = "command-line-arguments"

# Go regular expressions are ASCII-only for \d, \w and \s: spelled out so Python agrees.
_NOT_SPACE = r"[^\t\n\f\r ]"
#: syft's ``knownBuildFlagPatterns``; each follows ``main`` or ``<main module>/<package>``.
_LDFLAGS_VERSION_PATTERNS = (
    r"\.[a-zA-Z0-9]*([rR]elease)?([gG]it)?([bB]uild)?[vV]er(sion)?=",
    r"\.[a-zA-Z0-9]*([tT]ag)=",
)
_LDFLAGS_VERSION_VALUE = rf"({_NOT_SPACE}+/)*(?P<version>v?[0-9]+.[0-9]+.[0-9]+[-0-9A-Za-z_]*)"

# One UTF-8 encoded rune of two to four bytes, as Go's decoder accepts it.
_MULTIBYTE_RUNE = (
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_MULTIBYTE_RUNE_AT = re.compile(_MULTIBYTE_RUNE)
#: syft's ``semverPattern`` (``(\x00|\x{FFFD})(.L)?(?P<version>v?...)\x00``) on raw bytes.
#: Go runs it over the file decoded as UTF-8, so ``\x{FFFD}`` also matches any byte that is
#: not valid UTF-8 and ``.`` takes a whole rune; the leading alternatives here admit every
#: byte >= 0x80 and :func:`_is_go_match_start` keeps the starts Go would see.
_CONTENTS_VERSION = re.compile(
    rb"(?>\x00|\xef\xbf\xbd|[\x80-\xff])(?:(?>" + _MULTIBYTE_RUNE + rb"|[^\n])L)?"
    rb"(v?[0-9]+\.[0-9]+\.[0-9]+[-0-9A-Za-z_]*[+0-9A-Za-z_]*)\x00"
)
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


class _Module:
    def __init__(self, module: str, version: str, checksum: str) -> None:
        self.module, self.version, self.checksum = module, version, checksum
        # As the dep line wrote them (a replacement changes the three above).
        self.original_module, self.original_version = module, version
        self.replaced = False
        self.extra: dict[str, str] = {}


def _packages(path: str, go_version: str, modinfo: str, content: bytes) -> list[FoundPackage]:
    main_path: str | None = None
    main: _Module | None = None
    deps: list[_Module] = []
    build: dict[str, str] = {}
    for line in modinfo.splitlines():
        fields = line.split("\t")
        kind = fields[0]
        if kind == "path" and len(fields) >= 2:
            main_path = fields[1]
        elif kind in ("mod", "dep") and len(fields) >= 3:
            module = _Module(fields[1], fields[2], fields[3] if len(fields) > 3 else "")
            if kind == "mod":
                main = module
            else:
                deps.append(module)
        elif kind == "=>" and len(fields) >= 2:
            target = deps[-1] if deps else main
            if target is None:
                continue
            target.replaced = True
            version = fields[2] if len(fields) > 2 else ""
            if version:
                target.extra["replaces"] = f"{target.module} {target.version}"
                target.module, target.version = fields[1], version
                target.checksum = fields[3] if len(fields) > 3 else ""
            else:
                target.extra["replaced_by"] = fields[1]
        elif kind == "build" and len(fields) >= 2:
            key, _, value = fields[1].partition("=")
            build[_unquote(key)] = _unquote(value)
    if _main_is_missing(main, main_path):
        main = _main_from_path(main_path or (main.module if main else ""), deps)
    architecture = build.get("GOARCH")
    toolchain = go_version.split(" ", 1)[0]  # "go1.22.1 X:boringcrypto": experiments follow
    packages: list[FoundPackage] = []
    if main is not None:
        main.extra["main"] = "true"
        if main_path:
            main.extra["package_path"] = main_path
        main.extra.update({f"build.{key}": value for key, value in build.items()})
        if main.version == DEVEL:
            _resolve_main_version(main, build, content)
        packages.append(_found(path, main, toolchain, architecture))
    packages.extend(_found(path, dep, toolchain, architecture) for dep in deps)
    packages.append(
        FoundPackage(
            name="stdlib",
            version=toolchain.removeprefix("go"),
            ecosystem=_ECOSYSTEM,
            path=path,
            extra={"go_version": toolchain, "toolchain": go_version},
        )
    )
    return packages


def _main_is_missing(main: _Module | None, main_path: str | None) -> bool:
    if main is None:
        return bool(main_path)
    # ``go build file.go``: "command-line-arguments" is no module (syft's missingMainModule).
    return (main.module, main.version, main.checksum, main.replaced) == (
        _COMMAND_LINE_ARGUMENTS, "", "", False)


def _main_from_path(package_path: str, deps: list[_Module]) -> _Module:
    """syft's createMainModuleFromPath: the single ``(devel)`` dependency, else the path."""
    candidates = [dep for dep in deps if dep.original_version == DEVEL]
    if len(candidates) == 1:
        deps.remove(candidates[0])
        candidates[0].extra["no_mod_line"] = "true"
        return candidates[0]
    module_path, subpath = split_package_path(package_path)
    main = _Module(module_path, DEVEL, "")
    main.original_module = package_path  # what syft matches the -ldflags against
    main.extra["no_mod_line"] = "true"
    if subpath:
        main.extra["subpath"] = subpath
    return main


def split_package_path(package_path: str) -> tuple[str, str]:
    """Module path and purl subpath of a Go package path, as syft 1.18.1's purls split it.

    syft names the package by the whole path and builds its purl from the first two ``/``
    elements (namespace), the third (name) and the rest (subpath), whatever the host:
    ``github.com/docker/distribution/cmd/registry`` gives ``github.com/docker/distribution``
    and ``cmd/registry``; paths of up to three elements have no subpath.
    """
    elements = package_path.split("/")
    return "/".join(elements[:3]), "/".join(elements[3:])


def _resolve_main_version(main: _Module, build: dict[str, str], content: bytes) -> None:
    """syft's findMainModuleVersion, all three sources on (its defaults)."""
    found = version_from_ldflags(build.get("-ldflags", ""), main.original_module)
    source = "ldflags"
    if found is None:
        found, source = version_from_contents(content), "contents"
    if found is None and "vcs.revision" in build and "vcs.time" in build:
        found = pseudo_version(build["vcs.revision"], build["vcs.time"])
        source = "build-settings"
    if found is not None:
        main.version = found if found.startswith("v") else f"v{found}"
        main.extra["version_source"] = source


def version_from_ldflags(ldflags: str, main_module: str) -> str | None:
    """The version an ``-X main.version=1.2.3``-style linker flag sets, ``v``-prefixed.

    The variable must be in package ``main`` or in a package of ``main_module`` (syft puts the
    module path into its pattern unescaped but for ``/``, so ``.`` matches any character).
    Its name is ``[letters/digits][Release][Git][Build]Ver[sion]`` or ``...Tag``; the value
    may carry a ``path/`` prefix and must start with ``[v]N.N.N``.
    """
    if not ldflags:
        return None
    owner = "(main|" + main_module.replace("/", r"\/") + r"\/" + _NOT_SPACE + "*)"
    for variable in _LDFLAGS_VERSION_PATTERNS:
        try:
            pattern = re.compile(owner + variable + _LDFLAGS_VERSION_VALUE)
        except re.error:  # a path Go's regexp would reject as well
            return None
        match = pattern.search(ldflags)
        if match is not None:
            version = match["version"]
            return version if version.startswith("v") else f"v{version}"
    return None


_CONTENTS_CORE = re.compile(rb"[0-9]+\.[0-9]+\.[0-9]+[-0-9A-Za-z_]*[+0-9A-Za-z_]*\x00")
"""The version part of :data:`_CONTENTS_VERSION` without its lead-in. Starting with a
character class lets ``re`` skip ahead quickly; the full pattern, whose alternatives come
first, is tried at every byte and scans a 20 MB binary in 0.8 s instead of a few hundredths."""
_LEAD_IN = 6
"""Longest lead-in before a version: a NUL-like byte, a rune of up to 4 bytes and ``L``."""


def version_from_contents(content: bytes) -> str | None:
    """The first ``[v]N.N.N[-pre][+build]`` between NULs (or after an invalid UTF-8 byte).

    A guess, as syft makes it: Debian's GOPATH-built docker-registry gives ``v2.8.2+ds1``.
    """
    for core in _CONTENTS_CORE.finditer(content):
        start = core.start() - 1 if core.start() and content[core.start() - 1] == 0x76 \
            else core.start()  # 0x76: an optional "v" belongs to the version
        for lead in range(max(start - _LEAD_IN, 0), start):
            match = _CONTENTS_VERSION.match(content, lead)
            if match is not None and match.start(1) == start \
                    and _is_go_match_start(content, lead):
                return match.group(1).decode("ascii")
    return None


def _is_go_match_start(content: bytes, offset: int) -> bool:
    # Where Go, decoding the file rune by rune, sees NUL or U+FFFD starting at ``offset``.
    if content[offset] == 0 or content.startswith(b"\xef\xbf\xbd", offset):
        return True
    if _MULTIBYTE_RUNE_AT.match(content, offset):
        return False  # a valid rune, not U+FFFD
    # An invalid byte is U+FFFD unless it continues a valid rune that starts before it
    # (lead bytes never occur inside a rune, so those starts are rune boundaries).
    for back in (1, 2, 3):
        if offset >= back:
            rune = _MULTIBYTE_RUNE_AT.match(content, offset - back)
            if rune is not None and rune.end() > offset:
                return False
    return True


def pseudo_version(revision: str, vcs_time: str) -> str:
    """Go's ``v0.0.0-<yyyymmddhhmmss>-<12-char revision>`` pseudo-version.

    A time that is not RFC 3339 gives ``00010101000000``, as Go's zero time does.
    """
    stamp = "00010101000000"
    match = _RFC3339.fullmatch(vcs_time)
    if match is not None:
        zone = "+00:00" if match[2] == "Z" else match[2]
        try:
            moment = datetime.fromisoformat(match[1] + zone).astimezone(UTC)
            stamp = moment.strftime("%Y%m%d%H%M%S")
        except (ValueError, OverflowError):
            pass
    return f"v0.0.0-{stamp}-{revision[:12]}"


def _found(path: str, module: _Module, go_version: str, architecture: str | None) -> FoundPackage:
    extra = {"module": module.module, "go_version": go_version, **module.extra}
    if module.checksum:
        extra["h1"] = module.checksum
    namespace, _, name = module.module.rpartition("/")
    return FoundPackage(
        name=name,
        version=module.version,
        ecosystem=_ECOSYSTEM,
        path=path,
        namespace=namespace or None,
        architecture=architecture,
        extra=extra,
    )
