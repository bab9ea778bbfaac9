"""Download vulnerability feeds, build the database from them, export and import it.

Downloads are conditional: the ETag/Last-Modified of each cached file is sent back and a
``304 Not Modified`` reuses the cached copy. Transient failures (connection errors, 429, 5xx)
are retried with exponential backoff. A failed download raises :class:`FeedDownloadError`
before anything is built, so the existing database stays in place.

This product uses data from the NVD API but is not endorsed or certified by the NVD.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import zstandard

from hullscan.errors import CorruptContentError, DigestMismatchError, HullscanError
from hullscan.vuln.db.build import BuildReport, Provenance, build_database
from hullscan.vuln.db.lock import (
    CACHE_LOCK_NAME,
    IMPORTING_SUFFIX,
    file_lock,
    folder_lock,
    remove_leftovers,
)
from hullscan.vuln.db.store import DatabaseStatus, VulnerabilityDatabase

OSV_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com"
ALPINE_SECDB_URL = "https://secdb.alpinelinux.org"
DEBIAN_TRACKER_URL = "https://security-tracker.debian.org/tracker/data/json"
KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
EPSS_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
NVD_API_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"

DEFAULT_OSV_ECOSYSTEMS: tuple[str, ...] = (
    "PyPI",
    "npm",
    "Go",
    "Maven",
    "crates.io",
    "RubyGems",
    "NuGet",
    "Packagist",
    "Debian",
    "Ubuntu",
    "Alpine",
    "AlmaLinux",
    "Rocky Linux",
    "Red Hat",
)
DEFAULT_ALPINE_BRANCHES: tuple[str, ...] = ("v3.18", "v3.19", "v3.20", "v3.21", "v3.22")

FILE = "file"
NVD_API = "nvd-api"

NVD_PAGE_SIZE = 2000
# Seconds between NVD API requests: 5 per 30 s without a key, 50 per 30 s with one.
NVD_DELAY_WITHOUT_KEY = 6.0
NVD_DELAY_WITH_KEY = 0.6

_EXPORT_MAGIC = "HULLSCAN-DB-EXPORT"
_EXPORT_VERSION = 1
_CHUNK = 1 << 20


class FeedDownloadError(HullscanError):
    """A feed could not be downloaded; the existing database is left unchanged."""


@dataclass(frozen=True)
class Feed:
    """One download: ``kind`` ``file`` (one document or archive) or ``nvd-api`` (paged)."""

    name: str
    url: str
    kind: str = FILE


@dataclass
class UpdateReport:
    """What an update fetched and built."""

    downloaded: list[str] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)
    build: BuildReport | None = None


def feed_variable(feed: str) -> str:
    """The environment variable overriding ``feed``'s URL (``HULLSCAN_FEED_OSV_PYPI``)."""
    return "HULLSCAN_FEED_" + re.sub(r"[^A-Za-z0-9]+", "_", feed).strip("_").upper()


def default_feeds(
    *,
    ecosystems: Sequence[str] = DEFAULT_OSV_ECOSYSTEMS,
    alpine_branches: Sequence[str] = DEFAULT_ALPINE_BRANCHES,
    include_nvd: bool = True,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Feed]:
    """The upstream feeds, each URL overridable by ``overrides[name]`` or the environment.

    The variable for feed ``osv-rocky-linux`` is ``HULLSCAN_FEED_OSV_ROCKY_LINUX``; an override
    of ``""`` or ``off`` drops the feed; a ``file://`` URL reads a local file or folder (a
    mirror) instead of downloading.
    """
    feeds = [
        Feed(
            "osv-" + re.sub(r"[^a-z0-9.]+", "-", ecosystem.lower()),
            f"{OSV_BASE_URL}/{quote(ecosystem)}/all.zip",
        )
        for ecosystem in ecosystems
    ]
    for branch in alpine_branches:
        for repository in ("main", "community"):
            feeds.append(
                Feed(
                    f"alpine-{branch}-{repository}",
                    f"{ALPINE_SECDB_URL}/{branch}/{repository}.json",
                )
            )
    feeds += [
        Feed("debian-tracker", DEBIAN_TRACKER_URL),
        Feed("kev", KEV_URL),
        Feed("epss", EPSS_URL),
    ]
    if include_nvd:
        feeds.append(Feed("nvd", NVD_API_URL, NVD_API))
    env = os.environ if environ is None else environ
    chosen: list[Feed] = []
    for feed in feeds:
        url = (overrides or {}).get(feed.name, env.get(feed_variable(feed.name), feed.url))
        if url.strip().lower() in ("", "off"):
            continue
        chosen.append(Feed(feed.name, url.strip(), feed.kind))
    return chosen


class _Fetcher:
    def __init__(
        self,
        client: httpx.Client,
        *,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.client = client
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep

    def request(
        self, feed: Feed, url: httpx.URL | str, headers: dict[str, str], target: Path
    ) -> httpx.Headers | None:
        """GET ``url`` into ``target`` (overwritten); ``None`` on 304. Retries transient
        failures. The caller makes the result visible atomically."""
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                with self.client.stream("GET", url, headers=headers) as response:
                    if response.status_code == 304:
                        return None
                    if response.status_code == 429 or response.status_code >= 500:
                        last = f"HTTP {response.status_code}"
                        retry_after = response.headers.get("Retry-After", "")
                        if retry_after.isdigit() and attempt < self.retries:
                            self.sleep(min(float(retry_after), 60.0))
                        continue
                    if response.status_code != 200:
                        raise FeedDownloadError(
                            f"HTTP {response.status_code} from {url}", subject=feed.name
                        )
                    with target.open("wb") as handle:
                        for chunk in response.iter_bytes(_CHUNK):
                            handle.write(chunk)
                    return response.headers
            except httpx.HTTPError as error:
                last = f"{type(error).__name__}: {error}"
        raise FeedDownloadError(f"download failed after retries ({last})", subject=feed.name)


def _file_name(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "data"


def _fetch_file(fetcher: _Fetcher, feed: Feed, cache: Path) -> tuple[Path, Provenance, bool]:
    folder = cache / feed.name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _file_name(feed.url)
    state_file = folder / "validators.json"
    state: dict[str, Any] = {}
    if state_file.is_file():
        try:
            state = json.loads(state_file.read_text())
        except ValueError:
            state = {}
    headers: dict[str, str] = {}
    if state.get("url") == feed.url and target.is_file():
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
    partial = target.with_name(target.name + ".partial")
    answer = fetcher.request(feed, feed.url, headers, partial)
    if answer is None:
        partial.unlink(missing_ok=True)  # a killed update's half download
        if not target.is_file():
            raise FeedDownloadError("304 Not Modified but no cached copy", subject=feed.name)
        return target, Provenance(state.get("etag"), state.get("last_modified")), False
    provenance = Provenance(answer.get("ETag"), answer.get("Last-Modified"))
    # Validators go first and come back last: killed in between, the next run downloads
    # unconditionally instead of pairing old validators with new data.
    state_file.unlink(missing_ok=True)
    partial.replace(target)
    state = {"url": feed.url, "etag": provenance.etag, "last_modified": provenance.last_modified}
    state_partial = state_file.with_name(state_file.name + ".partial")
    state_partial.write_text(json.dumps(state))
    state_partial.replace(state_file)
    return target, provenance, True


def _fetch_nvd(
    fetcher: _Fetcher, feed: Feed, cache: Path, api_key: str | None, delay: float
) -> Path:
    folder = cache / feed.name
    partial = cache / f"{feed.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    headers = {"apiKey": api_key} if api_key else {}
    start = 0
    page_number = 0
    while True:
        url = (
            httpx.URL(feed.url)
            .copy_set_param("startIndex", str(start))
            .copy_set_param("resultsPerPage", str(NVD_PAGE_SIZE))
        )
        if page_number:
            fetcher.sleep(delay)
        target = partial / f"page-{page_number:05d}.json"
        if fetcher.request(feed, url, headers, target) is None:
            raise FeedDownloadError("unexpected 304 from the NVD API", subject=feed.name)
        try:
            page = json.loads(target.read_bytes())
            total = int(page["totalResults"])
            count = int(page["resultsPerPage"])
        except (ValueError, KeyError, TypeError) as error:
            raise FeedDownloadError(f"bad NVD API page: {error}", subject=feed.name) from None
        start += count
        page_number += 1
        if count <= 0 or start >= total:
            break
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def update_database(
    destination: Path,
    feeds: Sequence[Feed],
    cache_dir: Path,
    *,
    client: httpx.Client | None = None,
    nvd_api_key: str | None = None,
    nvd_delay: float | None = None,
    retries: int = 3,
    backoff: float = 2.0,
    timeout: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
) -> UpdateReport:
    """Download ``feeds`` into ``cache_dir`` and rebuild ``destination`` from them atomically.

    Updates sharing ``cache_dir`` take turns (a lock file in it), so the ``.partial`` files
    found there were left by a killed update and are simply overwritten. ``nvd_api_key``
    defaults to ``$NVD_API_KEY``; ``nvd_delay`` to the pause the NVD's rate limit asks for
    (6 s without a key, 0.6 s with one).
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    with file_lock(cache / CACHE_LOCK_NAME):
        return _update_locked(destination, feeds, cache, client=client, nvd_api_key=nvd_api_key,
                              nvd_delay=nvd_delay, retries=retries, backoff=backoff,
                              timeout=timeout, sleep=sleep)


def _update_locked(
    destination: Path,
    feeds: Sequence[Feed],
    cache: Path,
    *,
    client: httpx.Client | None,
    nvd_api_key: str | None,
    nvd_delay: float | None,
    retries: int,
    backoff: float,
    timeout: float,
    sleep: Callable[[float], None],
) -> UpdateReport:
    key = nvd_api_key if nvd_api_key is not None else os.environ.get("NVD_API_KEY") or None
    delay = nvd_delay
    if delay is None:
        delay = NVD_DELAY_WITH_KEY if key else NVD_DELAY_WITHOUT_KEY
    own_client = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=True)
    report = UpdateReport()
    paths: list[Path] = []
    provenance: dict[Path, Provenance] = {}
    try:
        fetcher = _Fetcher(http, retries=retries, backoff=backoff, sleep=sleep)
        for feed in feeds:
            if feed.kind == NVD_API:
                paths.append(_fetch_nvd(fetcher, feed, cache, key, delay))
                report.downloaded.append(feed.name)
                continue
            if feed.url.startswith("file://"):
                local = Path(unquote(urlsplit(feed.url).path))
                if not local.exists():
                    raise FeedDownloadError(f"no such file: {local}", subject=feed.name)
                paths.append(local)
                report.not_modified.append(feed.name)
                continue
            path, validators, fresh = _fetch_file(fetcher, feed, cache)
            paths.append(path)
            provenance[path] = validators
            (report.downloaded if fresh else report.not_modified).append(feed.name)
    finally:
        if own_client:
            http.close()
    report.build = build_database(paths, Path(destination), provenance=provenance)
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def export_database(db: Path, file: Path) -> Path:
    """Write a zstd-compressed copy of ``db`` to ``file``.

    The file starts with one text line, ``HULLSCAN-DB-EXPORT 1 sha256=<hex> size=<bytes>``,
    naming the uncompressed database; ``<file>.sha256`` holds the checksum of the export itself
    in ``sha256sum`` format. Returns ``file``.
    """
    source = Path(db)
    VulnerabilityDatabase.open(source).close()
    target = Path(file)
    target.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"{_EXPORT_MAGIC} {_EXPORT_VERSION} sha256={_sha256(source)} size={source.stat().st_size}\n"
    )
    handle, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    temporary = Path(temporary_name)
    try:
        with os.fdopen(handle, "wb") as output, source.open("rb") as data:
            output.write(header.encode("ascii"))
            zstandard.ZstdCompressor(level=10).copy_stream(data, output)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    target.with_name(target.name + ".sha256").write_text(f"{_sha256(target)}  {target.name}\n")
    return target


_HEADER = re.compile(
    rf"^{_EXPORT_MAGIC} (\d+) sha256=([0-9a-f]{{64}}) size=(\d+)\n$".encode("ascii")
)


def import_database(file: Path, destination: Path) -> DatabaseStatus:
    """Install an export made by :func:`export_database` at ``destination``, atomically.

    The checksum (and ``<file>.sha256`` when present) must match, and the result must open as
    a database of this schema; otherwise nothing changes. Waits while another process writes
    a database into the same folder.
    """
    source = Path(file)
    sidecar = source.with_name(source.name + ".sha256")
    if sidecar.is_file():
        expected = sidecar.read_text().split()[:1]
        if expected != [_sha256(source)]:
            raise DigestMismatchError("export does not match its .sha256 file", subject=str(source))
    target = Path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(target.parent):
        remove_leftovers(target)
        return _import_locked(source, target)


def _import_locked(source: Path, target: Path) -> DatabaseStatus:
    handle, temporary_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=IMPORTING_SUFFIX, dir=target.parent
    )
    temporary = Path(temporary_name)
    try:
        with source.open("rb") as data, os.fdopen(handle, "wb") as output:
            match = _HEADER.match(data.readline(200))
            if match is None or int(match.group(1)) != _EXPORT_VERSION:
                raise CorruptContentError("not a hullscan database export", subject=str(source))
            expected_digest = match.group(2).decode("ascii")
            expected_size = int(match.group(3))
            digest = hashlib.sha256()
            size = 0
            try:
                reader = zstandard.ZstdDecompressor().stream_reader(data)
                while chunk := reader.read(_CHUNK):
                    size += len(chunk)
                    if size > expected_size:
                        raise DigestMismatchError(
                            "export is larger than its header says", subject=str(source)
                        )
                    digest.update(chunk)
                    output.write(chunk)
            except zstandard.ZstdError as error:
                raise CorruptContentError(
                    f"export cannot be decompressed: {error}", subject=str(source)
                ) from None
        if size != expected_size or digest.hexdigest() != expected_digest:
            raise DigestMismatchError("export checksum does not match", subject=str(source))
        with VulnerabilityDatabase.open(temporary) as database:
            status = database.status()
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return DatabaseStatus(target, status.schema_version, status.built_at, status.sources)
