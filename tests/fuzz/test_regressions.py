"""Inputs the fuzzers found that broke the parser contract, each fixed; see fuzz/README.md."""

from __future__ import annotations

import io
import json
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest

from hullscan.catalog.lang.java import parse_java_archive
from hullscan.catalog.lang.php import parse_installed_json
from hullscan.catalog.os.rpm import parse_database
from hullscan.errors import CorruptContentError, HullscanError
from hullscan.versions import compare
from hullscan.versions.ranges import composer_constraint_satisfies


def test_jar_member_with_empty_name_is_ignored() -> None:
    # atheris (java): zipfile's ZipInfo.is_dir() raised IndexError on a member named "".
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(""), b"x")
        archive.writestr("META-INF/maven/g/a/pom.properties",
                         b"groupId=g\nartifactId=a\nversion=1\n")
    (package,) = parse_java_archive("a.jar", buffer.getvalue())
    assert (package.namespace, package.name, package.version) == ("g", "a", "1")


def test_composer_installed_package_named_by_an_object() -> None:
    # atheris (composer): a non-string "name" was looked up in a set (TypeError: unhashable).
    content = json.dumps({"packages": [{"name": {"url": "/0.8.1"}, "version": "1"}],
                          "dev-package-names": ["x"]}).encode()
    with pytest.raises(HullscanError):
        parse_installed_json("vendor/composer/installed.json", content)
    legacy = json.dumps([{"name": {"url": "/0.8.1"}}]).encode()
    with pytest.raises(HullscanError):
        parse_installed_json("vendor/composer/installed.json", legacy)


@pytest.mark.parametrize("version", [
    "1.0.0-rc." + "7" + "0" * 40 + "-a.0.0",
    "1.0.0-beta" + "1" * 60 + "x",
    "20240101-p" + "1" * 60 + "!",
])
def test_composer_version_with_long_digit_runs_is_rejected_quickly(version: str) -> None:
    # atheris (versions): the stability-number pattern backtracked exponentially on a long run
    # of digits followed by something that does not match (seconds per input, then hours).
    started = time.perf_counter()
    with pytest.raises(HullscanError):
        compare("composer", version, "1.0.0")
    with pytest.raises(HullscanError):
        composer_constraint_satisfies(version, "*")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("1.0.0-rc.1", "1.0.0-rc.2", -1), ("1.0.0-beta2", "1.0.0-beta.2", 0),
    ("1.0.0-p1.2", "1.0.0-p1.1", 1), ("1.0.0-rc1-dev", "1.0.0-rc1", -1),
    ("1.0.0-rc-1", "1.0.0-rc.1", 0), ("1.0.0-rc12", "1.0.0-rc.1.2", 1),
])
def test_composer_stability_numbers_still_order(a: str, b: str, expected: int) -> None:
    result = compare("composer", a, b)
    assert (result > 0) - (result < 0) == expected


def test_rpm_sqlite_schema_error_quoting_non_utf8_bytes(tmp_path: Path) -> None:
    # atheris (rpm, 60 s run): SQLite's "malformed database schema (<name>)" message named an
    # index whose name is not UTF-8; Python's sqlite3 raised UnicodeDecodeError decoding it.
    database = tmp_path / "rpmdb.sqlite"
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)")
    connection.execute("CREATE TABLE other (a)")
    connection.execute('CREATE INDEX "ix_\u00e9" ON other(a)')
    connection.commit()
    connection.close()
    # Same lengths, so the records stay well formed: the index now names a missing table,
    # and its name is invalid UTF-8.
    content = database.read_bytes().replace(b"ON other(a)", b"ON othex(a)")
    content = content.replace("ix_\u00e9".encode(), b"ix_\xfd\xa9")
    with pytest.raises(CorruptContentError, match="cannot read Packages table"):
        parse_database("var/lib/rpm/rpmdb.sqlite", content)
