"""A damaged vulnerability database file: ``hullscan scan`` (and ``db status``) print one line
naming the file and the reason, with the hint to run ``hullscan db update``, and exit 2."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from hullscan.vuln.db.build import build_database
from tests.cli.run_cli import run_hullscan
from tests.support.image_builder import File, ImageSpec, LayerSpec, write_oci_layout
from tests.vuln.conftest import vulndata  # noqa: F401


@pytest.fixture(scope="module")
def good(vulndata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """A small, valid database (the KEV catalogue)."""
    path = tmp_path_factory.mktemp("corrupt") / "good.db"
    build_database([vulndata / "kev"], path)
    return path


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    layout = tmp_path_factory.mktemp("corrupt-image") / "layout"
    write_oci_layout(layout, {"tiny:1": ImageSpec([LayerSpec(
        [File("/etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n")])])})
    return f"oci-dir:{layout}:tiny:1"


def _sql(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _other_sqlite(path: Path) -> None:
    path.unlink()
    _sql(path, "CREATE TABLE settings (key TEXT, value TEXT)")


def _newer_schema(path: Path) -> None:
    _sql(path, "PRAGMA user_version = 2")


def _missing_table(path: Path) -> None:
    _sql(path, "DROP TABLE epss")


def _incomplete(path: Path) -> None:
    _sql(path, "DELETE FROM meta WHERE key = 'complete'")


def _bad_meta(path: Path) -> None:
    _sql(path, "UPDATE meta SET value = 'yesterday' WHERE key = 'built_at'")


def _pages_zeroed(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[4096:] = bytes(len(data) - 4096)  # header and first page intact, the rest zeros
    path.write_bytes(bytes(data))


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (_truncated, r"is truncated \([\d,]+ of [\d,]+ bytes\)"),
    "random-bytes": (_random, r"is not an SQLite database file"),
    "zero-length": (_empty, r"is an empty file \(0 bytes\)"),
    "other-sqlite-file": (_other_sqlite, r"is an SQLite file but not a vulnerability database"),
    "newer-schema": (_newer_schema, r"has schema 2, this hullscan reads schema 1"),
    "missing-table": (_missing_table, r"lacks tables: epss"),
    "incomplete-build": (_incomplete, r"is incomplete"),
    "bad-meta": (_bad_meta, r"has a bad built_at in its meta table \('yesterday'\)"),
    "pages-zeroed": (_pages_zeroed, r"\(database disk image is malformed\)"),
    "folder": (_folder, r"is a folder, not a vulnerability database"),
}

STATUS_TOO = {"truncated", "other-sqlite-file", "zero-length"}
"""Cases checked with ``db status`` as well (the same open, so a few suffice)."""


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_database_is_one_line_and_exit_2(case: str, good: Path, image: str,
                                                 tmp_path: Path) -> None:
    damage, reason = CASES[case]
    path = tmp_path / "vulnerability.db"
    shutil.copy2(good, path)
    damage(path)
    commands = [("scan", image, "--db", str(path), "--format", "json", "--no-cache")]
    if case in STATUS_TOO:
        commands.append(("db", "status", "--db", str(path)))
    for args in commands:
        run = run_hullscan(*args, cwd=tmp_path)
        assert run.code == 2, (args, run.stderr)
        assert run.stdout == ""
        lines = run.stderr.splitlines()
        assert len(lines) == 1, run.stderr
        assert lines[0].startswith(f"hullscan: error: {path}: "), lines[0]
        assert lines[0].endswith("; run hullscan db update"), lines[0]
        assert re.search(reason, lines[0]), lines[0]
