"""Java archives (``.jar``, ``.war``, ``.ear``, ``.jpi``, ``.hpi``): Maven metadata inside.

Per archive, the first source that exists wins:

1. every ``META-INF/maven/<group>/<artifact>/pom.properties`` (``groupId``, ``artifactId``,
   ``version``) -> ecosystem ``maven``, namespace = group id, name = artifact id; licences
   from the ``pom.xml`` next to it, if any;
2. else every ``META-INF/maven/**/pom.xml`` (``groupId``/``version`` inherited from
   ``<parent>`` when absent);
3. else ``META-INF/MANIFEST.MF`` (main section, continuation lines joined): name from
   ``Implementation-Title``, ``Bundle-SymbolicName``, ``Specification-Title``; version from
   ``Implementation-Version``, ``Bundle-Version``, ``Specification-Version``; namespace from
   ``Implementation-Vendor-Id``; supplier from the vendor fields. Missing parts come from
   the file name;
4. else the file name ``name-1.2.3.jar``. An archive with no version anywhere is not reported.

Shaded ("uber") jars hold several ``pom.properties``. Like syft, each is reported; the one
describing the archive itself is marked ``extra["primary"] = "true"``: the one whose
artifact id the file name starts with (``jackson-core-2.14.1.jar``, ``jackson-core.jar``),
or the only one. The others are the bundled libraries (no ``primary`` key). Consumers that
want one package per file keep the primary one.

Archives inside archives (``WEB-INF/lib/*.jar``, ``BOOT-INF/lib/*.jar``, anything with an
archive suffix) are read to any depth up to :data:`MAX_DEPTH`; their packages carry
``path`` like ``app.war:WEB-INF/lib/inner.jar``.

Hostile-input bounds, each a :class:`~hullscan.errors.LimitExceededError`: nesting
deeper than :data:`MAX_DEPTH`; more than :data:`MAX_TOTAL_BYTES` decompressed in all for one
top-level archive; nested archives open at once (the chain from the top-level archive down)
holding more than :data:`MAX_HELD_BYTES` in memory; one member expanding more than
:data:`MAX_RATIO` times its compressed size (above :data:`RATIO_FLOOR` bytes). A damaged zip
is a :class:`~hullscan.errors.CorruptContentError`, as is a ``pom.xml`` with a DOCTYPE
(refused outright, so no entity expansion can happen).

A nested archive that breaks a bound or cannot be read is skipped, not the archive holding
it: the packages found elsewhere are kept and reported with the reason
(:class:`~hullscan.catalog.model.PartialParseError`), so that wrapping a jar in a hostile
one cannot hide it. Only when nothing was found is the first problem raised as such.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field

from hullscan.catalog.model import FoundPackage, partial_result
from hullscan.errors import CorruptContentError, HullscanError, LimitExceededError

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".jpi", ".hpi")
MAX_DEPTH = 16
MAX_TOTAL_BYTES = 512 << 20
#: Bytes of nested archives held in memory at once (each level's bytes while it is read).
MAX_HELD_BYTES = 128 << 20
MAX_RATIO = 200
RATIO_FLOOR = 1 << 20
#: Metadata files (pom.properties, pom.xml, MANIFEST.MF) larger than this are not read.
MAX_METADATA_BYTES = 4 << 20
_CHUNK = 1 << 16
_ECOSYSTEM = "maven"
_POM_PROPERTIES = re.compile(r"^META-INF/maven/(?:[^/]+/)+pom\.properties$")
_POM_XML = re.compile(r"^META-INF/maven/(?:[^/]+/)+pom\.xml$")
_PROPERTY = re.compile(r"\s*[=:]\s*|\s+")
_FILE_NAME = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*(?:-.+)?)$")
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
)


@dataclass
class _Budget:
    remaining: int
    """Bytes still allowed to be decompressed from the top-level archive."""
    held: int = 0
    """Bytes of the nested archives currently open (the chain being read)."""
    problems: list[HullscanError] = field(default_factory=list)
    """Nested archives skipped, and why."""


@dataclass
class _Coordinates:
    group: str | None
    artifact: str | None
    version: str | None
    licenses: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


def parse_java_archive(path: str, content: bytes) -> list[FoundPackage]:
    """Packages described inside a Java archive and the archives nested in it."""
    budget = _Budget(MAX_TOTAL_BYTES)
    packages = _archive(path, io.BytesIO(content), 0, budget)
    return partial_result(packages, budget.problems)


def _archive(path: str, content: io.BytesIO, depth: int, budget: _Budget) -> list[FoundPackage]:
    if depth > MAX_DEPTH:
        raise LimitExceededError(f"archives nested deeper than {MAX_DEPTH}", subject=path)
    try:
        with zipfile.ZipFile(content) as archive:
            return _read_archive(path, archive, depth, budget)
    except _ZIP_ERRORS as exc:
        raise CorruptContentError(f"not a readable zip archive: {exc}", subject=path) from None


def _read_archive(
    path: str, archive: zipfile.ZipFile, depth: int, budget: _Budget
) -> list[FoundPackage]:
    # A member with an empty name cannot be read by name (and breaks ZipInfo.is_dir).
    members = {info.filename: info for info in archive.infolist()
               if info.filename and not info.is_dir()}
    file_name = re.split(r"[/:]", path)[-1]
    packages: list[FoundPackage] = []
    properties = sorted(name for name in members if _POM_PROPERTIES.match(name))
    poms = sorted(name for name in members if _POM_XML.match(name))
    found: list[_Coordinates] = []
    if properties:
        for name in properties:
            coordinates = _pom_properties(_read(path, archive, members[name], budget, True))
            sibling = name.rsplit("/", 1)[0] + "/pom.xml"
            if sibling in members:
                pom = _pom_xml(f"{path}:{sibling}", _read(path, archive, members[sibling],
                                                          budget, True))
                coordinates.licenses = pom.licenses
            found.append(coordinates)
    elif poms:
        for name in poms:
            data = _read(path, archive, members[name], budget, True)
            found.append(_pom_xml(f"{path}:{name}", data))
    found = [c for c in found if c.artifact and c.version]
    if found:
        primary = _primary(file_name, found)
        for coordinates in found:
            if coordinates is primary:
                coordinates.extra["primary"] = "true"
            packages.append(_package(path, coordinates))
    else:
        manifest = members.get("META-INF/MANIFEST.MF")
        fields = _manifest(_read(path, archive, manifest, budget, True)) if manifest else {}
        fallback = _from_manifest(fields, file_name)
        if fallback is not None:
            fallback.extra["primary"] = "true"
            packages.append(_package(path, fallback))
    for name, info in members.items():
        if name.lower().endswith(ARCHIVE_SUFFIXES):
            packages.extend(_nested(path, archive, info, depth + 1, budget))
    return packages


def _nested(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, depth: int,
            budget: _Budget) -> list[FoundPackage]:
    """Packages of one nested archive; a problem skips it (recorded), not its parent."""
    inner = io.BytesIO()
    try:
        _read(path, archive, info, budget, False, inner)
        size = inner.tell()
        budget.held += size
        try:
            return _archive(f"{path}:{info.filename}", inner, depth, budget)
        finally:
            budget.held -= size
    except HullscanError as error:
        budget.problems.append(error)
        return []
    finally:
        inner.close()


def _read(
    path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, metadata: bool,
    out: io.BytesIO | None = None,
) -> bytes:
    """A member's bytes, counted against the budget and the ratio guard as they arrive.

    With ``out`` (nested archives) the bytes go there instead, with no copy at the end, and
    count against :data:`MAX_HELD_BYTES` together with the enclosing archives.
    """
    where = f"{path}:{info.filename}"
    if metadata and info.file_size > MAX_METADATA_BYTES:
        raise LimitExceededError(f"metadata file of {info.file_size} bytes", subject=where)
    ratio_limit = max(RATIO_FLOOR, info.compress_size * MAX_RATIO)
    sink = io.BytesIO() if out is None else out
    size = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            size += len(chunk)
            budget.remaining -= len(chunk)
            if budget.remaining < 0:
                raise LimitExceededError(
                    f"more than {MAX_TOTAL_BYTES} bytes decompressed from one archive",
                    subject=where,
                )
            if size > ratio_limit:
                raise LimitExceededError(
                    f"member expands more than {MAX_RATIO} times its compressed size",
                    subject=where,
                )
            if metadata and size > MAX_METADATA_BYTES:
                raise LimitExceededError("metadata file too large", subject=where)
            if not metadata and budget.held + size > MAX_HELD_BYTES:
                raise LimitExceededError(
                    f"nested archives hold more than {MAX_HELD_BYTES} bytes at once",
                    subject=where,
                )
            sink.write(chunk)
        return sink.getvalue() if out is None else b""


def _text(data: bytes) -> str:
    return data.decode("utf-8-sig", "replace")


def _pom_properties(data: bytes) -> _Coordinates:
    values: dict[str, str] = {}
    for raw in _text(data).splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        parts = _PROPERTY.split(line, maxsplit=1)
        values[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return _Coordinates(
        values.get("groupId") or None, values.get("artifactId") or None, values.get("version")
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: ET.Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            text = (child.text or "").strip()
            return text or None
    return None


def _pom_xml(where: str, data: bytes) -> _Coordinates:
    if re.search(rb"<!DOCTYPE|<!ENTITY", data, re.IGNORECASE):
        raise CorruptContentError("pom.xml with a DOCTYPE refused", subject=where)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise CorruptContentError(f"invalid pom.xml: {exc}", subject=where) from None
    parent = next((child for child in root if _local(child.tag) == "parent"), None)
    group = _child_text(root, "groupId")
    version = _child_text(root, "version")
    if parent is not None:
        group = group or _child_text(parent, "groupId")
        version = version or _child_text(parent, "version")
    licenses: list[str] = []
    for child in root:
        if _local(child.tag) != "licenses":
            continue
        for licence in child:
            if _local(licence.tag) == "license":
                name = _child_text(licence, "name") or _child_text(licence, "url")
                if name:
                    licenses.append(name)
    return _Coordinates(group, _child_text(root, "artifactId"), version, tuple(licenses))


def _primary(file_name: str, found: list[_Coordinates]) -> _Coordinates | None:
    if len(found) == 1:
        return found[0]
    stem = file_name.rsplit(".", 1)[0]
    matches = [
        c
        for c in found
        if c.artifact and (stem == c.artifact or stem.startswith(c.artifact + "-"))
    ]
    return max(matches, key=lambda c: len(c.artifact or "")) if matches else None


def _manifest(data: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    key: str | None = None
    for line in _text(data).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            if fields:
                break  # end of the main section
            continue
        if line.startswith(" ") and key is not None:
            fields[key] += line[1:]
            continue
        name, separator, value = line.partition(":")
        if separator:
            key = name.strip()
            fields[key] = value.strip()
    return fields


def _from_manifest(fields: dict[str, str], file_name: str) -> _Coordinates | None:
    stem = file_name.rsplit(".", 1)[0]
    match = _FILE_NAME.match(stem)
    symbolic = fields.get("Bundle-SymbolicName", "").split(";")[0].strip()
    name = (
        fields.get("Implementation-Title")
        or symbolic
        or fields.get("Specification-Title")
        or (match.group("name") if match else None)
    )
    version = (
        fields.get("Implementation-Version")
        or fields.get("Bundle-Version")
        or fields.get("Specification-Version")
        or (match.group("version") if match else None)
    )
    if not name or not version:
        return None
    extra = {"source": "manifest" if fields else "file-name"}
    vendor = (
        fields.get("Implementation-Vendor")
        or fields.get("Bundle-Vendor")
        or fields.get("Specification-Vendor")
    )
    if vendor:
        extra["vendor"] = vendor
    return _Coordinates(fields.get("Implementation-Vendor-Id") or None, name, version, (), extra)


def _package(path: str, coordinates: _Coordinates) -> FoundPackage:
    assert coordinates.artifact is not None and coordinates.version is not None
    return FoundPackage(
        name=coordinates.artifact,
        version=coordinates.version,
        ecosystem=_ECOSYSTEM,
        path=path,
        namespace=coordinates.group,
        licenses=coordinates.licenses,
        supplier=coordinates.extra.pop("vendor", None),
        extra=coordinates.extra,
    )
