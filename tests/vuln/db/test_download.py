"""Updating from feeds served by a local HTTP server; export and import."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hullscan.errors import CorruptContentError, DigestMismatchError
from hullscan.vuln.db.download import (
    NVD_API,
    Feed,
    FeedDownloadError,
    default_feeds,
    export_database,
    import_database,
    update_database,
)
from hullscan.vuln.db.store import VulnerabilityDatabase
from tests.vuln.db.feed_server import FeedServer


@pytest.fixture
def server(vulndata: Path) -> Iterator[FeedServer]:
    files = {
        "/osv/PyPI/all.zip": (vulndata / "osv" / "crates.io.zip").read_bytes(),
        "/kev.json": (vulndata / "kev" / "known_exploited_vulnerabilities.json").read_bytes(),
        "/epss.csv.gz": (vulndata / "epss" / "epss_scores-2026-08-16.csv.gz").read_bytes(),
        "/nvd": (vulndata / "nvd" / "nvd-cve-api-2.0-page-vunnel.json").read_bytes(),
    }
    running = FeedServer(files)
    yield running
    running.close()


def _feeds(base: str) -> list[Feed]:
    return [
        Feed("osv-crates", f"{base}/osv/PyPI/all.zip"),
        Feed("kev", f"{base}/kev.json"),
        Feed("epss", f"{base}/epss.csv.gz"),
        Feed("nvd", f"{base}/nvd?startIndex=5", NVD_API),
    ]


def _no_sleep(seconds: float) -> None:
    pass


def test_update_then_not_modified(server: FeedServer, tmp_path: Path) -> None:
    destination = tmp_path / "db" / "vulnerability.db"
    first = update_database(
        destination,
        _feeds(server.url),
        tmp_path / "cache",
        nvd_api_key="secret-key",
        nvd_delay=0,
        sleep=_no_sleep,
    )
    assert first.build is not None
    assert first.build.sources == {"epss": 360142, "kev": 1404, "nvd": 38, "osv:crates.io": 1206}
    assert first.downloaded == ["osv-crates", "kev", "epss", "nvd"]
    assert any(
        "startIndex=0" in query and "resultsPerPage=2000" in query for query in server.queries
    )
    assert any(headers.get("apiKey") == "secret-key" for headers in server.headers_seen)
    with VulnerabilityDatabase.open(destination) as database:
        sources = {source.name: source for source in database.status().sources}
        assert sources["kev"].etag and sources["kev"].last_modified
        assert database.affected("crates.io", "openssl")

    second = update_database(
        destination, _feeds(server.url), tmp_path / "cache", nvd_delay=0, sleep=_no_sleep
    )
    assert second.not_modified == ["osv-crates", "kev", "epss"]
    assert server.full["/kev.json"] == 1 and server.full["/osv/PyPI/all.zip"] == 1
    assert second.build is not None and second.build.sources == first.build.sources


def test_retries_then_succeeds(server: FeedServer, tmp_path: Path) -> None:
    server.failures["/kev.json"] = 2
    slept: list[float] = []
    report = update_database(
        tmp_path / "v.db",
        [Feed("kev", f"{server.url}/kev.json")],
        tmp_path / "cache",
        backoff=0.5,
        sleep=slept.append,
    )
    assert report.build is not None and report.build.sources == {"kev": 1404}
    assert slept == [0.5, 1.0]


def test_failed_download_keeps_old_database(server: FeedServer, tmp_path: Path) -> None:
    destination = tmp_path / "v.db"
    update_database(destination, [Feed("kev", f"{server.url}/kev.json")], tmp_path / "cache")
    before = destination.read_bytes()
    server.failures["/kev.json"] = 10
    with pytest.raises(FeedDownloadError, match="HTTP 500"):
        update_database(
            destination,
            [Feed("kev", f"{server.url}/kev.json")],
            tmp_path / "cache",
            retries=2,
            sleep=_no_sleep,
        )
    with pytest.raises(FeedDownloadError, match="HTTP 404"):
        update_database(destination, [Feed("x", f"{server.url}/missing")], tmp_path / "cache")
    assert destination.read_bytes() == before
    with VulnerabilityDatabase.open(destination) as database:
        assert database.status().sources[0].records == 1404


def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(FeedDownloadError, match="after retries"):
        update_database(
            tmp_path / "v.db",
            [Feed("kev", "http://127.0.0.1:9/kev.json")],
            tmp_path / "cache",
            retries=1,
            sleep=_no_sleep,
        )
    assert not (tmp_path / "v.db").exists()


def test_default_feeds_are_overridable() -> None:
    feeds = default_feeds(
        ecosystems=["PyPI", "Rocky Linux"],
        alpine_branches=["v3.20"],
        overrides={"kev": "http://mirror.invalid/kev.json"},
        environ={"HULLSCAN_FEED_OSV_ROCKY_LINUX": "off", "HULLSCAN_FEED_EPSS": "file:///e"},
    )
    by_name = {feed.name: feed for feed in feeds}
    assert set(by_name) == {
        "osv-pypi",
        "alpine-v3.20-main",
        "alpine-v3.20-community",
        "debian-tracker",
        "kev",
        "epss",
        "nvd",
    }
    assert by_name["osv-pypi"].url.endswith("/PyPI/all.zip")
    assert by_name["alpine-v3.20-main"].url.endswith("/v3.20/main.json")
    assert by_name["kev"].url == "http://mirror.invalid/kev.json"
    assert by_name["epss"].url == "file:///e"
    assert by_name["nvd"].kind == NVD_API
    rocky = default_feeds(ecosystems=["Rocky Linux"], alpine_branches=[], environ={})[0]
    assert rocky.url.endswith("/Rocky%20Linux/all.zip")


def test_export_import_round_trip(server: FeedServer, tmp_path: Path) -> None:
    database = tmp_path / "v.db"
    update_database(database, [Feed("kev", f"{server.url}/kev.json")], tmp_path / "cache")
    exported = export_database(database, tmp_path / "out" / "db.export")
    assert (tmp_path / "out" / "db.export.sha256").is_file()
    installed = tmp_path / "elsewhere" / "vulnerability.db"
    status = import_database(exported, installed)
    assert status.location == installed
    assert installed.read_bytes() == database.read_bytes()


def test_tampered_export_is_refused(server: FeedServer, tmp_path: Path) -> None:
    database = tmp_path / "v.db"
    update_database(database, [Feed("kev", f"{server.url}/kev.json")], tmp_path / "cache")
    exported = export_database(database, tmp_path / "db.export")
    installed = tmp_path / "installed.db"
    installed.write_bytes(b"previous")

    data = bytearray(exported.read_bytes())
    data[-40] ^= 0xFF
    exported.write_bytes(bytes(data))
    with pytest.raises(DigestMismatchError):  # the .sha256 file no longer matches
        import_database(exported, installed)
    (tmp_path / "db.export.sha256").unlink()
    with pytest.raises((DigestMismatchError, CorruptContentError)):
        import_database(exported, installed)

    header, _, body = exported.read_bytes().partition(b"\n")
    forged = header[: header.index(b"sha256=") + 7] + b"0" * 64 + header[header.index(b" size") :]
    (tmp_path / "forged").write_bytes(forged + b"\n" + body)
    with pytest.raises((DigestMismatchError, CorruptContentError)):
        import_database(tmp_path / "forged", installed)
    (tmp_path / "junk").write_bytes(b"not an export")
    with pytest.raises(CorruptContentError):
        import_database(tmp_path / "junk", installed)
    assert installed.read_bytes() == b"previous"
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []


def test_file_url_reads_a_local_mirror(vulndata: Path, tmp_path: Path) -> None:
    mirror = (vulndata / "native").as_uri()
    report = update_database(tmp_path / "v.db", [Feed("native", mirror)], tmp_path / "cache")
    assert report.build is not None
    assert report.build.sources == {"friendsofphp": 1592, "nswg": 467, "rubysec": 1381}
    with pytest.raises(FeedDownloadError, match="no such file"):
        update_database(
            tmp_path / "v.db", [Feed("x", (tmp_path / "none").as_uri())], tmp_path / "cache"
        )
