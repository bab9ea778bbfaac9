"""``hullscan db update`` and ``hullscan db import`` killed (SIGKILL) mid-way: the previous
database still answers a scan exactly as before, and the next update succeeds and leaves no
temporary file behind."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hullscan.vuln.db.download import default_feeds, export_database, feed_variable
from hullscan.vuln.db.store import VulnerabilityDatabase
from tests.integrity.processes import findings, finish, kill_when, size_of, start
from tests.support.vulnerable_image import VulnerableImage
from tests.vuln.conftest import vulndata  # noqa: F401
from tests.vuln.db.feed_server import FeedServer

SOURCES = {"alpine-secdb", "epss", "nswg", "osv:PyPI"}


@pytest.fixture(scope="module")
def server(vulndata: Path) -> Iterator[FeedServer]:  # noqa: F811
    """The feeds the vulnerable image is matched against; EPSS (360,142 rows) makes the
    build take seconds."""
    running = FeedServer({
        "/osv/PyPI/all.zip": (vulndata / "osv" / "PyPI.zip").read_bytes(),
        "/nswg.zip": (vulndata / "native" / "npm-nodejs-security-wg.zip").read_bytes(),
        "/alpine.zip": (vulndata / "alpine" / "alpine-secdb-legacy-v3.3-v3.11.zip").read_bytes(),
        "/epss.csv.gz": (vulndata / "epss" / "epss_scores-2026-08-16.csv.gz").read_bytes(),
    })
    yield running
    running.close()


def _feed_env(url: str) -> dict[str, str]:
    """Every default feed off but four, served locally."""
    env = {feed_variable(feed.name): "off" for feed in default_feeds(environ={})}
    env.update({
        feed_variable("osv-pypi"): f"{url}/osv/PyPI/all.zip",
        feed_variable("osv-npm"): f"{url}/nswg.zip",
        feed_variable("alpine-v3.18-main"): f"{url}/alpine.zip",
        feed_variable("epss"): f"{url}/epss.csv.gz",
    })
    return env


@dataclass(frozen=True)
class Installed:
    """A database installed by ``db update`` and the scan it gave."""

    db: Path
    cache: Path
    digest: str
    scan: dict[str, object]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scan(image: VulnerableImage, db: Path, cwd: Path) -> dict[str, object]:
    code, out, err = finish(start("scan", image.target, "--db", str(db), "--format", "json",
                                  "--no-policy", "--no-cache", cwd=cwd))
    assert code == 0, err
    return findings(out)


def _update(server: FeedServer, installed: Installed, cwd: Path) -> tuple[int, str, str]:
    return finish(start("db", "update", "--no-nvd", "--db", str(installed.db), "--cache-dir",
                        str(installed.cache), cwd=cwd, env=_feed_env(server.url)))


@pytest.fixture(scope="module")
def first(server: FeedServer, vulnerable_image: VulnerableImage,
          tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """One successful ``db update`` and the scan of the vulnerable image against it."""
    root = tmp_path_factory.mktemp("interrupted")
    installed = Installed(root / "db" / "vulnerability.db", root / "feeds", "", {})
    code, _, err = _update(server, installed, root)
    assert code == 0, err
    scan = _scan(vulnerable_image, installed.db, root)
    assert scan["findings"], "the vulnerable image must match something"
    return Installed(installed.db, installed.cache, _digest(installed.db), scan)


@pytest.fixture
def installed(first: Installed, tmp_path: Path) -> Installed:
    """A private copy of the first update's database and feed cache."""
    db = tmp_path / "db" / "vulnerability.db"
    db.parent.mkdir()
    shutil.copy2(first.db, db)
    shutil.copytree(first.cache, tmp_path / "feeds")
    return Installed(db, tmp_path / "feeds", first.digest, first.scan)


def _leftovers(installed: Installed) -> list[str]:
    return sorted(path.name for path in installed.db.parent.iterdir()
                  if path.name != installed.db.name)


def _assert_unchanged(installed: Installed, image: VulnerableImage, cwd: Path) -> None:
    assert _digest(installed.db) == installed.digest
    with VulnerabilityDatabase.open(installed.db) as database:
        assert {source.name for source in database.status().sources} == SOURCES
    assert _scan(image, installed.db, cwd) == installed.scan


def test_update_killed_while_downloading_and_while_building(
        server: FeedServer, installed: Installed, vulnerable_image: VulnerableImage,
        tmp_path: Path) -> None:
    server.generation += 1  # new upstream data: every feed is downloaded again
    server.delays["/epss.csv.gz"] = 0.02
    partial = installed.cache / "epss" / "epss.csv.gz.partial"
    try:
        downloading = start("db", "update", "--no-nvd", "--db", str(installed.db),
                            "--cache-dir", str(installed.cache), cwd=tmp_path,
                            env=_feed_env(server.url))
        assert kill_when(downloading, lambda: size_of(partial) > 128 * 1024)
    finally:
        server.delays.clear()
    assert partial.is_file()  # the half download is still there
    assert _leftovers(installed) == []
    _assert_unchanged(installed, vulnerable_image, tmp_path)

    def building() -> bool:
        return any(name.endswith(".building") and size_of(installed.db.parent / name) > 4096
                   for name in _leftovers(installed))

    server.generation += 1
    builder = start("db", "update", "--no-nvd", "--db", str(installed.db), "--cache-dir",
                    str(installed.cache), cwd=tmp_path, env=_feed_env(server.url))
    assert kill_when(builder, building)
    assert [name for name in _leftovers(installed) if name.endswith(".building")]
    _assert_unchanged(installed, vulnerable_image, tmp_path)

    # The next update succeeds, clears what the killed ones left and scans the same.
    code, _, err = _update(server, installed, tmp_path)
    assert code == 0, err
    assert _leftovers(installed) == []
    assert not partial.exists()
    assert _scan(vulnerable_image, installed.db, tmp_path) == installed.scan


def test_import_killed_mid_write(first: Installed, installed: Installed, server: FeedServer,
                                 vulnerable_image: VulnerableImage, tmp_path: Path) -> None:
    other = tmp_path / "other.db"  # another database of the same size: its export is 32 MB
    shutil.copy2(first.db, other)
    connection = sqlite3.connect(other)
    connection.execute("UPDATE meta SET value = '2000-01-01T00:00:00Z' WHERE key = 'built_at'")
    connection.commit()
    connection.close()
    export = export_database(other, tmp_path / "other.export")

    def importing() -> bool:
        return any(name.endswith(".importing") and size_of(installed.db.parent / name) > 4096
                   for name in _leftovers(installed))

    for _ in range(3):  # the import takes half a second: retried if it won the race
        process = start("db", "import", str(export), "--db", str(installed.db), cwd=tmp_path)
        if kill_when(process, importing):
            break
        shutil.copy2(first.db, installed.db)  # put the previous database back
    else:
        pytest.fail("db import always finished before it could be killed")
    assert [name for name in _leftovers(installed) if name.endswith(".importing")]
    _assert_unchanged(installed, vulnerable_image, tmp_path)

    code, _, err = _update(server, installed, tmp_path)  # the next update succeeds and
    assert code == 0, err  # clears what the killed import left
    assert _leftovers(installed) == []
