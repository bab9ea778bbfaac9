"""Opening databases: bad files give one clear error; default location."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hullscan.errors import CorruptContentError, HullscanError
from hullscan.vuln.db.build import build_database
from hullscan.vuln.db.store import VulnerabilityDatabase, default_database_path


def test_garbage_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CorruptContentError, match="run hullscan db update") as caught:
        VulnerabilityDatabase.open(path)
    assert caught.value.subject == str(path)


def test_truncated_database_is_corrupt(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text('{"id": "PYSEC-1", "modified": "2020-01-01T00:00:00Z", "affected": []}')
    path = tmp_path / "v.db"
    build_database([source], path)
    path.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(CorruptContentError, match="run hullscan db update"):
        VulnerabilityDatabase.open(path)


def test_wrong_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (x)")
    connection.execute("PRAGMA user_version = 99")
    connection.commit()
    connection.close()
    with pytest.raises(CorruptContentError, match=r"schema 99.*run hullscan db update"):
        VulnerabilityDatabase.open(path)


def test_missing_database(tmp_path: Path) -> None:
    with pytest.raises(HullscanError, match="run hullscan db update"):
        VulnerabilityDatabase.open(tmp_path / "absent.db")


def test_open_is_read_only(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text('{"id": "PYSEC-1", "modified": "2020-01-01T00:00:00Z", "affected": []}')
    path = tmp_path / "v.db"
    build_database([source], path)
    with VulnerabilityDatabase.open(path) as database:
        with pytest.raises(sqlite3.OperationalError):
            database._connection.execute("DELETE FROM vulnerability")
        assert database.status().sources[0].name == "osv:PYSEC"


def test_failed_build_leaves_destination(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    path.write_bytes(b"old")
    with pytest.raises(HullscanError):
        build_database([tmp_path / "missing"], path)
    assert path.read_bytes() == b"old"
    assert sorted(item.name for item in tmp_path.iterdir()) == ["v.db"]


def test_default_location() -> None:
    assert default_database_path({"HULLSCAN_DB": "/x/y.db"}) == Path("/x/y.db")
    assert default_database_path({"XDG_CACHE_HOME": "/c"}) == Path("/c/hullscan/vulnerability.db")
    assert default_database_path({}) == Path.home() / ".cache" / "hullscan" / "vulnerability.db"
