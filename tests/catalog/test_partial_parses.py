"""Hostile parts of a file skip that part only: the packages found elsewhere are kept and the
reason reported (PartialParseError); no part can make a parser allocate without bound."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import pytest

from hullscan.catalog.catalogers import Cataloger
from hullscan.catalog.lang import java
from hullscan.catalog.model import FoundPackage, PartialParseError
from hullscan.catalog.os import rpm_header
from hullscan.catalog.os.rpm import parse_database
from hullscan.catalog.visitor import CatalogVisitor
from hullscan.errors import CorruptContentError, LimitExceededError
from hullscan.image.layer import FileEntry, FileKind
from tests.support.hostile import nested_jar, rpm_header_blob, rpmdb_sqlite


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _props(artifact: str) -> bytes:
    return f"groupId=g\nartifactId={artifact}\nversion=1\n".encode()


def test_too_deep_nesting_keeps_the_levels_above() -> None:
    with pytest.raises(PartialParseError, match="nested deeper than 16") as caught:
        java.parse_java_archive("app/level0.jar", nested_jar(20))
    assert [p.name for p in caught.value.packages] == [f"level{n}" for n in range(17)]


def test_a_bad_nested_archive_does_not_hide_its_siblings() -> None:
    outer = _zip({"META-INF/maven/g/outer/pom.properties": _props("outer"),
                  "lib/broken.jar": b"not a zip",
                  "lib/good.jar": _zip({"META-INF/maven/g/good/pom.properties": _props("good")})})
    with pytest.raises(PartialParseError, match="not a readable zip") as caught:
        java.parse_java_archive("outer.jar", outer)
    assert sorted(p.name for p in caught.value.packages) == ["good", "outer"]
    assert "2 packages read" in caught.value.reason


def test_nested_archives_held_at_once_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(java, "MAX_HELD_BYTES", 1 << 20)
    big = _zip({"META-INF/maven/g/big/pom.properties": _props("big"),
                "padding.bin": os.urandom(2 << 20)})  # incompressible: big.jar is 2 MiB
    outer = _zip({"META-INF/maven/g/outer/pom.properties": _props("outer"), "lib/big.jar": big})
    with pytest.raises(PartialParseError, match="hold more than 1048576 bytes") as caught:
        java.parse_java_archive("outer.jar", outer)
    assert [p.name for p in caught.value.packages] == ["outer"]


def _rpm(name: str) -> bytes:
    return rpm_header_blob([(1000, 6, name.encode() + b"\0", 1), (1001, 6, b"1\0", 1)])


def test_rpm_bad_header_skips_that_package_only(tmp_path: Path) -> None:
    database = rpmdb_sqlite([_rpm("a"), struct.pack(">II", 0x7FFFFFFF, 0x7FFFFFFF), _rpm("b")],
                            tmp_path)
    with pytest.raises(PartialParseError, match="header 2 skipped") as caught:
        parse_database("var/lib/rpm/rpmdb.sqlite", database)
    assert [p.name for p in caught.value.packages] == ["a", "b"]
    assert list(tmp_path.iterdir()) == []


def test_rpm_all_headers_bad_is_an_error(tmp_path: Path) -> None:
    database = rpmdb_sqlite([b"\0\0\0\0\0\0\0\0"], tmp_path)
    with pytest.raises(CorruptContentError, match="header 1 skipped"):
        parse_database("rpmdb.sqlite", database)


def test_rpm_packages_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(CorruptContentError, match="no Packages table"):
        parse_database("rpmdb.sqlite", rpmdb_sqlite([], tmp_path, view=True))


def test_rpm_array_counts_are_bounded() -> None:
    count = rpm_header.MAX_ARRAY_COUNT + 1
    blob = rpm_header_blob([(1000, 6, b"x\0", 1), (1117, 8, bytes(count), count)])
    with pytest.raises(CorruptContentError, match=f"count {count} out of range"):
        rpm_header.parse_header(blob)


def test_rpm_shared_directory_names_cannot_multiply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpm_header, "MAX_FILE_LIST_BYTES", 10_000)
    files = 100
    header = rpm_header.parse_header(rpm_header_blob([
        (1117, 8, b"f\0" * files, files),
        (1118, 8, b"/" + b"d" * 1000 + b"/\0", 1),
        (1116, 4, bytes(4 * files), files)]))
    with pytest.raises(CorruptContentError, match="file list longer than 10000"):
        header.files()


def test_visitor_keeps_partial_packages_and_reports_why() -> None:
    found = FoundPackage("kept", "1", "maven", "app.jar")

    def parse(path: str, content: bytes) -> list[FoundPackage]:
        raise PartialParseError("1 package read, but x: too deep", [found])

    def fail(path: str, content: bytes) -> list[FoundPackage]:
        raise LimitExceededError("too big", subject=path)

    visitor = CatalogVisitor([Cataloger("partial", lambda e: True, parse),
                              Cataloger("failing", lambda e: True, fail)], lambda p: False)
    entry = FileEntry("app.jar", FileKind.REGULAR, 1, 0o644, 0, 0, 0, None, 3)
    visitor.visit(entry, b"")
    assert visitor.found[3]["app.jar"] == [("partial", found)]
    assert visitor.anomalies == [
        "layer 3: /app.jar: partial read it only in part (1 package read, but x: too deep)",
        "layer 3: /app.jar: failing could not read it (too big)"]
