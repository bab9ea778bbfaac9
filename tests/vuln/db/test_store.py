"""Opening databases: bad files give one clear error; default location."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from hullscan.errors import CorruptContentError, HullscanError
from hullscan.vuln.db.build import build_database
from hullscan.vuln.db.lock import folder_lock
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


def _small(tmp_path: Path) -> Path:
    source = tmp_path / "in.json"
    source.write_text('{"id": "PYSEC-1", "modified": "2020-01-01T00:00:00Z", "affected": []}')
    path = tmp_path / "v.db"
    build_database([source], path)
    return path


def test_empty_file_and_folder_are_named_as_such(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(CorruptContentError, match=r"is an empty file \(0 bytes\)"):
        VulnerabilityDatabase.open(empty)
    with pytest.raises(HullscanError, match="is a folder"):
        VulnerabilityDatabase.open(tmp_path)


def test_truncation_is_seen_in_the_header(tmp_path: Path) -> None:
    path = _small(tmp_path)
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size - 1024])
    with pytest.raises(CorruptContentError, match=rf"truncated \({size - 1024:,} of {size:,}"):
        VulnerabilityDatabase.open(path)


def test_other_sqlite_file_missing_table_and_bad_meta(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(CorruptContentError, match="not a vulnerability database"):
        VulnerabilityDatabase.open(other)
    path = _small(tmp_path)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE meta SET value = 'soon' WHERE key = 'built_at'")
    connection.commit()
    with pytest.raises(CorruptContentError, match=r"bad built_at in its meta table \('soon'\)"):
        VulnerabilityDatabase.open(path)
    connection.execute("DROP TABLE kev")
    connection.commit()
    connection.close()
    with pytest.raises(CorruptContentError, match="lacks tables: kev"):
        VulnerabilityDatabase.open(path)


def test_build_removes_what_a_killed_build_left_and_waits_for_a_running_one(
        tmp_path: Path) -> None:
    path = _small(tmp_path)
    stray = [tmp_path / ".v.db.abc.building", tmp_path / ".v.db.def.importing"]
    for file in stray:
        file.write_bytes(b"half")
    source = tmp_path / "in.json"
    done = threading.Event()
    with folder_lock(tmp_path):  # another writer at work: the build waits for it
        worker = threading.Thread(target=lambda: (build_database([source], path), done.set()))
        worker.start()
        assert not done.wait(0.5)
        assert all(file.exists() for file in stray)
    worker.join(30)
    assert done.is_set()
    assert sorted(item.name for item in tmp_path.iterdir()) == ["in.json", "v.db"]
