"""The per-layer analysis cache: warm results equal cold ones, shared layers are read once,
entries are written atomically, damaged ones are ignored, the size stays bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hullscan.catalog.run import ImageAnalysis, analyse_image
from hullscan.checks.files import Md5Visitor
from hullscan.checks.secrets.rules import RULES
from hullscan.checks.secrets.scanner import SecretVisitor
from hullscan.image.layer import LayerContents, LayerInfo, LayerVisitor
from hullscan.image.layer_cache import LayerCache, analysis_fingerprint
from hullscan.image.limits import ReadBudget, ReadLimits
from hullscan.image.reference import parse_image_reference
from hullscan.image.sources.interface import AcquireOptions
from hullscan.image.sources.oci_layout import OciLayoutSource
from hullscan.policy.content import ContentRegexVisitor
from tests.support.image_builder import File, ImageSpec, LayerSpec, Whiteout, write_oci_layout

GITHUB_TOKEN = ("ghp_" + "k8Jw" + "3NqL" + "x7Vc" + "2RtB" + "m9Ys" + "P4hD" + "f6Gz" + "Q1aE"
                + "u5Ti")  # assembled: the repository holds no secret
APK_DB = (b"P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\nF:lib\nR:ld-musl-x86_64.so.1\n\n"
          b"P:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\nF:bin\nR:busybox\n\n")

BASE = LayerSpec([File("/etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
                  File("/lib/apk/db/installed", APK_DB),
                  File("/bin/busybox", b"\x7fELF" + bytes(64), mode=0o755),
                  File("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")],
                 created_by="ADD rootfs / # base")
SECRET = LayerSpec([File("/app/.env", f"GITHUB_TOKEN={GITHUB_TOKEN}\n".encode()),
                    File("/app/main.py", b"print('hello world')\n")],
                   created_by="COPY app /app")
DELETE = LayerSpec([Whiteout("/app/.env"), File("/app/readme.txt", b"hello world\n")],
                   created_by="RUN rm /app/.env")
OTHER = LayerSpec([File("/srv/other.txt", b"another image's own layer\n")],
                  created_by="COPY other /srv")


class CountingSource(OciLayoutSource):
    """A real OCI-layout source that counts the layers it reads."""

    reads: list[str | None]

    def read_layer(self, layer: LayerInfo, *, visitor: LayerVisitor,
                   budget: ReadBudget) -> LayerContents:
        self.reads.append(layer.diff_id)
        return super().read_layer(layer, visitor=visitor, budget=budget)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three images sharing BASE: at index 0 in ``app`` and ``next``, at index 1 in ``moved``."""
    root = tmp_path_factory.mktemp("layer-cache") / "layout"
    write_oci_layout(root, {"app:1": ImageSpec([BASE, SECRET, DELETE]),
                            "next:1": ImageSpec([BASE, OTHER]),
                            "moved:1": ImageSpec([OTHER, BASE, SECRET])})
    return root


@contextmanager
def _open(layout: Path, ref: str, tmp_path: Path) -> Iterator[CountingSource]:
    workdir = tmp_path / f"work-{ref.replace(':', '-')}-{time.monotonic_ns()}"
    workdir.mkdir()
    source = CountingSource(parse_image_reference(f"oci-dir:{layout}:{ref}"), workdir,
                            AcquireOptions())
    source.reads = []
    try:
        yield source
    finally:
        source.close()


@dataclass(frozen=True)
class Result:
    """Everything an analysis with every cacheable visitor produced, and the reads it made."""

    analysis: ImageAnalysis
    secrets: SecretVisitor
    md5: Md5Visitor
    content: ContentRegexVisitor
    reads: list[str | None]

    def facts(self) -> dict[str, Any]:
        return {
            "packages": self.analysis.catalog.packages,
            "anomalies": self.analysis.catalog.anomalies,
            "layers": [(c.layer, c.entries, c.whiteouts, c.opaque_dirs, c.captured, c.anomalies,
                        c.compression, c.uncompressed_size) for c in self.analysis.layers],
            "files": list(self.analysis.filesystem),
            "secret_hits": self.secrets.hits, "writers": self.secrets.writers,
            "bytes_scanned": self.secrets.bytes_scanned,
            "digests": self.md5.digests, "content": self.content.hits,
        }


def _analyse(layout: Path, ref: str, tmp_path: Path, cache: LayerCache | None,
             rules: tuple[Any, ...] = RULES) -> Result:
    secrets, md5 = SecretVisitor(rules), Md5Visitor()
    content = ContentRegexVisitor([r"hello\s+world"])
    with _open(layout, ref, tmp_path) as source:
        analysis = analyse_image(source, visitors=[secrets, md5, content],
                                 keep=lambda path: path == "etc/passwd", keep_key="passwd",
                                 cache=cache)
        return Result(analysis, secrets, md5, content, list(source.reads))


def test_warm_analysis_equals_cold_and_reads_nothing(layout: Path, tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    uncached = _analyse(layout, "app:1", tmp_path, None)
    cold = _analyse(layout, "app:1", tmp_path, cache)
    warm = _analyse(layout, "app:1", tmp_path, cache)
    assert len(cold.reads) == 3 and warm.reads == []
    assert warm.facts() == cold.facts() == uncached.facts()
    assert warm.secrets.hits  # the deleted .env is still found
    assert warm.analysis.catalog.packages
    assert cache.status().entries == 3


def test_shared_base_layer_is_analysed_once_and_restamped(layout: Path, tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    app = _analyse(layout, "app:1", tmp_path, cache)
    base, secret = app.reads[0], app.reads[1]
    following = _analyse(layout, "next:1", tmp_path, cache)
    assert following.reads == [following.analysis.catalog.image.layers[1].diff_id]
    assert base not in following.reads
    # BASE and SECRET sit one index later in "moved": only OTHER is read, and what comes
    # from the cache carries the new indexes.
    moved = _analyse(layout, "moved:1", tmp_path, cache)
    assert base not in moved.reads and secret not in moved.reads and len(moved.reads) == 0
    assert moved.facts() == _analyse(layout, "moved:1", tmp_path, None).facts()
    assert {index for index, _ in moved.secrets.hits} == {2}
    assert {entry.layer_index for entry in moved.analysis.layers[1].entries} == {1}


def test_options_that_change_results_change_the_fingerprint(layout: Path,
                                                             tmp_path: Path) -> None:
    limits = ReadLimits()
    assert analysis_fingerprint(SecretVisitor(RULES), limits) != analysis_fingerprint(
        SecretVisitor(RULES[:-1]), limits)
    assert analysis_fingerprint(SecretVisitor(RULES), limits) != analysis_fingerprint(
        SecretVisitor(RULES, max_file_size=10), limits)
    assert analysis_fingerprint(ContentRegexVisitor(["a"]), limits) != analysis_fingerprint(
        ContentRegexVisitor(["b"]), limits)
    assert analysis_fingerprint(Md5Visitor(), limits) != analysis_fingerprint(
        Md5Visitor(), ReadLimits(max_captured_file_bytes=1024))
    assert analysis_fingerprint(Md5Visitor(owned=lambda _: True), limits) is None
    cache = LayerCache(tmp_path / "cache")
    _analyse(layout, "app:1", tmp_path, cache)
    fewer = tuple(rule for rule in RULES if rule.id != "HS-SEC-GITHUB-TOKEN") \
        if any(rule.id == "HS-SEC-GITHUB-TOKEN" for rule in RULES) else RULES[:-1]
    changed = _analyse(layout, "app:1", tmp_path, cache, rules=fewer)
    assert len(changed.reads) == 3  # no stale results under other rules


def _entry_paths(cache: LayerCache) -> list[Path]:
    return sorted(cache.directory.glob("??/*.layer"))


def test_corrupt_entry_is_ignored_and_rewritten(layout: Path, tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    cold = _analyse(layout, "app:1", tmp_path, cache)
    victim = _entry_paths(cache)[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    again = _analyse(layout, "app:1", tmp_path, cache)
    assert len(again.reads) == 1 and again.facts() == cold.facts()
    assert victim.read_bytes() != bytes(data)  # rewritten
    assert _analyse(layout, "app:1", tmp_path, cache).reads == []
    # Garbage that is valid zlib and JSON but not an entry of ours is refused as well.
    victim.write_bytes(b"HSLC1\n" + __import__("zlib").compress(b'{"format": 1}'))
    assert len(_analyse(layout, "app:1", tmp_path, cache).reads) == 1


_KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from hullscan.image.layer_cache import LayerCache
real = os.fdopen
class Slow:
    def __init__(self, handle): self.handle = handle
    def __enter__(self): return self
    def __exit__(self, *args): self.handle.close()
    def write(self, data):
        self.handle.write(data[: len(data) // 2]); self.handle.flush()
        print("half", flush=True); time.sleep(60)
os.fdopen = lambda fd, mode: Slow(real(fd, mode))
LayerCache(Path(sys.argv[1])).store("sha256:" + "ab" * 32, "fp", {"entries": [0] * 100000})
"""


def test_killed_writer_leaves_nothing_readable(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(cache.directory)],
                              stdout=subprocess.PIPE)
    assert writer.stdout is not None and writer.stdout.readline() == b"half\n"
    writer.kill()
    writer.wait()
    temporary = list((cache.directory / "tmp").iterdir())
    assert len(temporary) == 1 and temporary[0].stat().st_size > 0
    assert cache.load("sha256:" + "ab" * 32, "fp") is None
    assert cache.status().entries == 0 and _entry_paths(cache) == []
    old = time.time() - 7200
    os.utime(temporary[0], (old, old))
    cache.evict()
    assert list((cache.directory / "tmp").iterdir()) == []


def test_eviction_keeps_the_size_bounded_least_recently_used_first(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache", max_bytes=20_000)
    payload = {"noise": os.urandom(3000).hex()}  # incompressible: about 6 kB per entry
    diff_ids = [f"sha256:{i:064x}" for i in range(10)]
    for number, diff_id in enumerate(diff_ids):
        cache.store(diff_id, "fp", payload)
        path = cache.entry_path(diff_id, "fp")
        os.utime(path, (1_000_000 + number, 1_000_000 + number))
        if number == 1:
            assert cache.load(diff_ids[0], "fp") is not None  # used: now the newest
            first = cache.entry_path(diff_ids[0], "fp")
            os.utime(first, (1_000_000 + 1.5, 1_000_000 + 1.5))
        assert cache.status().bytes <= 20_000
    status = cache.status()
    assert 0 < status.entries < 10 and status.bytes <= 20_000
    assert cache.load(diff_ids[-1], "fp") is not None
    assert cache.load(diff_ids[1], "fp") is None  # oldest use went first
    assert cache.clean() == status.entries and cache.status().entries == 0


def test_cache_directory_is_private(layout: Path, tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    _analyse(layout, "app:1", tmp_path, cache)
    assert cache.directory.stat().st_mode & 0o077 == 0
    for path in _entry_paths(cache):
        assert path.parent.stat().st_mode & 0o077 == 0
        assert path.stat().st_mode & 0o077 == 0


def test_absurdly_nested_entry_is_a_miss(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    diff_id = "sha256:" + "cd" * 32
    cache.store(diff_id, "fp", {"entries": []})
    path = cache.entry_path(diff_id, "fp")
    path.write_bytes(b"HSLC1\n" + zlib.compress(b"[" * 100_000 + b"]" * 100_000))
    assert cache.load(diff_id, "fp") is None  # json's RecursionError is not a crash
    cache.store(diff_id, "fp", {"entries": []})
    assert cache.load(diff_id, "fp") == {"entries": []}
