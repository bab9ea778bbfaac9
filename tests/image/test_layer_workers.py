"""Layers read by forked workers: the results equal one process's, from every local source,
with the cache and the checks; errors and dead workers give one clear error, never a hang."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import hullscan.image.acquire as acquire
from hullscan.catalog.package import Scope
from hullscan.catalog.run import analyse_image
from hullscan.checks.finding import Category
from hullscan.checks.run import CheckOptions, CheckRun
from hullscan.errors import HullscanError
from hullscan.image.acquire import open_image
from hullscan.image.layer import CompositeVisitor, FileEntry, LayerContents, LayerInfo
from hullscan.image.layer_cache import LayerCache
from hullscan.image.layer_workers import LayerPool
from hullscan.image.sources.interface import AcquireOptions
from hullscan.pipeline import Analysed, analyse
from tests.cli.run_cli import run_hullscan
from tests.support.catalog_image import CatalogImage
from tests.support.image_builder import (
    File,
    ImageSpec,
    LayerSpec,
    Whiteout,
    write_docker_archive,
    write_oci_layout,
)
from tests.support.vulnerable_image import VulnerableImage

TOKEN = "ghp_" + "Z8kq2" * 7 + "x"  # assembled: the repository holds no secret


class ReaderPids:
    """A cacheable visitor noting which process read each layer (it wants every file)."""

    def __init__(self) -> None:
        self.pids: dict[int, set[int]] = {}

    def wants(self, entry: FileEntry) -> bool:
        return True

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        self.pids.setdefault(entry.layer_index, set()).add(os.getpid())
        return False

    def cache_key(self) -> str:
        return "reader-pids"

    def export_layer(self, index: int) -> Any:
        return sorted(self.pids.get(index, ()))

    def import_layer(self, contents: LayerContents, state: Any) -> Any:
        def commit() -> None:
            self.pids[contents.layer.index] = set(state)
        return commit


def _spec() -> ImageSpec:
    return ImageSpec([
        LayerSpec([File("/etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
                   File("/lib/apk/db/installed",
                        b"P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\nF:lib\nR:ld-musl-x86_64.so.1\n\n"),
                   File("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")],
                  created_by="ADD rootfs /"),
        LayerSpec([File("/app/.env", f"GITHUB_TOKEN={TOKEN}\n".encode()),
                   File("/app/package.json", b'{"name": "app", "version": "1.0.0"}'),
                   File("/app/node_modules/left-pad/package.json",
                        b'{"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}')],
                  created_by="COPY app /app"),
        LayerSpec([Whiteout("/app/.env"), File("/app/run.sh", b"#!/bin/sh\n", mode=0o4755)],
                  created_by="RUN rm /app/.env"),
        LayerSpec([File("/srv/notes.txt", b"root:x appears here too\n")],
                  created_by="COPY notes /srv"),
    ])


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One four-layer image as an OCI layout, an OCI archive and a docker archive."""
    root = tmp_path_factory.mktemp("workers")
    write_oci_layout(root / "layout", {"app:1": _spec()})
    write_docker_archive(root / "app.docker.tar", {"app:1": _spec()})
    return {"oci-dir": f"oci-dir:{root / 'layout'}:app:1",
            "docker-archive": f"docker-archive:{root / 'app.docker.tar'}"}


class Forks:
    """Counts the pools started and their workers (the real ones run)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.workers: list[int] = []
        forks = self

        class Counted(LayerPool):
            def __init__(self, source: Any, layers: Sequence[LayerInfo], visitor: Any,
                         workers: int) -> None:
                forks.workers.append(workers)
                super().__init__(source, layers, visitor, workers)

        monkeypatch.setattr(acquire, "LayerPool", Counted)


def _options(workers: int) -> AcquireOptions:
    return AcquireOptions(layer_workers=workers, parallel_min_bytes=1)


def _analyse(image: str, workers: int, cache: LayerCache | None = None) -> Analysed:
    run = CheckRun(CheckOptions(frozenset(Category)))
    return analyse(image, _options(workers), Scope.ALL_LAYERS, run, ("root:x",), cache=cache)


@pytest.mark.parametrize("kind", ["oci-dir", "docker-archive"])
@pytest.mark.parametrize("workers", [2, 3, 4])
def test_workers_find_what_one_process_finds(kind: str, workers: int, small: dict[str, str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _analyse(small[kind], 1)
    forks = Forks(monkeypatch)
    together = _analyse(small[kind], workers)
    assert forks.workers == [workers]  # four layers to read: one worker each at most
    assert together == alone
    assert any(check.path == "app/.env" for check in together.checks)
    assert together.content_matches["root:x"] == ("etc/passwd", "srv/notes.txt")


def test_workers_on_real_images(catalog_image: CatalogImage, vulnerable_image: VulnerableImage,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    forks = Forks(monkeypatch)
    for image in (f"oci-dir:{catalog_image.layout}:{catalog_image.ref}",
                  f"docker-archive:{vulnerable_image.docker_archive}"):
        with open_image(image) as source:
            layers = len(source.metadata.layers)
        assert layers >= 2
        alone = _analyse(image, 1)
        together = _analyse(image, 2)
        assert together == alone and len(alone.catalog.packages) > 10
    # The docker archive's plain base layer holds most of its bytes: one process, hashing
    # ahead, reads it (see the next test); the layout's gzip layers go to workers.
    assert forks.workers == [2]


def _sized(sizes: Sequence[int], compression: Any) -> ImageSpec:
    return ImageSpec([LayerSpec([File(f"/data/{n}.bin", bytes([n]) * size)],
                                compression=compression) for n, size in enumerate(sizes)])


@pytest.mark.parametrize(("sizes", "kind", "pooled"), [
    ((3_000_000, 500_000, 500_000), "docker-archive", False),  # one plain layer dominates
    ((1_000_000, 1_000_000, 1_000_000), "docker-archive", True),
    ((3_000_000, 500_000, 500_000), "oci-gzip", True),  # compressed: workers inflate too
    ((3_000_000, 500_000, 500_000), "oci-plain", False),
])
def test_workers_are_left_out_when_one_plain_layer_holds_most_bytes(
        sizes: tuple[int, ...], kind: str, pooled: bool, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if kind == "docker-archive":
        write_docker_archive(tmp_path / "image.tar", {"app:1": _sized(sizes, "none")})
        image = f"docker-archive:{tmp_path / 'image.tar'}"
    else:
        compression = "gzip" if kind == "oci-gzip" else "none"
        write_oci_layout(tmp_path / "layout", {"app:1": _sized(sizes, compression)})
        image = f"oci-dir:{tmp_path / 'layout'}:app:1"
    forks = Forks(monkeypatch)
    readers = ReaderPids()
    with open_image(image, _options(2)) as source:
        analyse_image(source, visitors=[readers])
    assert forks.workers == ([2] if pooled else [])
    used = set().union(*readers.pids.values())
    assert (os.getpid() not in used) is pooled


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_each_layer_is_read_once_by_some_process(workers: int, small: dict[str, str]) -> None:
    readers = ReaderPids()
    with open_image(small["oci-dir"], _options(workers)) as source:
        analyse_image(source, visitors=[readers])
        layers = len(source.metadata.layers)
    assert sorted(readers.pids) == list(range(layers))
    assert all(len(pids) == 1 for pids in readers.pids.values())
    used = set().union(*readers.pids.values())
    assert os.getpid() not in used  # this process records; the workers read
    assert 1 <= len(used) <= min(workers, layers)


def test_worker_results_fill_the_cache(small: dict[str, str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cache = LayerCache(tmp_path / "cache")
    run = CheckRun(CheckOptions(frozenset(Category)))
    forks = Forks(monkeypatch)
    with open_image(small["oci-dir"], _options(2)) as source:
        cold = analyse_image(source, visitors=run.visitors, cache=cache)
    assert forks.workers == [2] and cache.status().entries == 4
    with open_image(small["oci-dir"], _options(1)) as source:
        warm = analyse_image(source, visitors=run.visitors, cache=cache)
    assert cache.hits == 4
    assert warm.catalog == cold.catalog and warm.layers == cold.layers


def test_layers_in_the_cache_are_not_given_to_workers(small: dict[str, str], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cache = LayerCache(tmp_path / "cache")
    with open_image(small["oci-dir"], _options(1)) as source:
        first = analyse_image(source, cache=cache)
    entries = sorted(cache.directory.glob("??/*.layer"))
    entries[1].unlink()  # one layer to read again, in the middle
    entries[3].unlink()
    forks = Forks(monkeypatch)
    with open_image(small["oci-dir"], _options(4)) as source:
        again = analyse_image(source, cache=cache)
    assert forks.workers == [2] and again.catalog == first.catalog  # two layers to read


def _truncated_last_layer(root: Path) -> str:
    spec = _spec()
    written = write_oci_layout(root / "layout", {"app:1": spec})
    blob = root / "layout" / "blobs" / "sha256" / written["app:1"].layers[-1].blob.digest[7:]
    blob.write_bytes(blob.read_bytes()[:-20])
    return f"oci-dir:{root / 'layout'}:app:1"


def test_error_in_a_worker_is_the_error_one_process_gives(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    image = _truncated_last_layer(tmp_path)
    with pytest.raises(HullscanError) as alone:
        _analyse(image, 1)
    forks = Forks(monkeypatch)
    with pytest.raises(HullscanError) as together:
        _analyse(image, 2)
    assert forks.workers == [2]
    assert str(together.value) == str(alone.value)
    assert "layer 3" in str(together.value)


class _KillsWorkers:
    """A cacheable visitor that kills any worker as soon as it reads a file."""

    def __init__(self) -> None:
        self.parent = os.getpid()

    def wants(self, entry: FileEntry) -> bool:
        return True

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        if os.getpid() != self.parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return False

    def cache_key(self) -> str:
        return "kills-workers"

    def export_layer(self, index: int) -> Any:
        return None

    def import_layer(self, contents: LayerContents, state: Any) -> Any:
        return lambda: None


def test_a_killed_worker_is_an_error_not_a_hang(small: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    forks = Forks(monkeypatch)
    with open_image(small["oci-dir"], _options(2)) as source, \
            pytest.raises(HullscanError, match="ended without a result for layer 0 "
                                               r"\(killed by signal 9\)"):
        analyse_image(source, visitors=[_KillsWorkers()])
    assert forks.workers == [2]
    with open_image(small["oci-dir"], _options(1)) as source:
        assert analyse_image(source, visitors=[CompositeVisitor([_KillsWorkers()])]).catalog


def test_command_line_workers(small: dict[str, str], tmp_path: Path) -> None:
    args = ("scan", small["docker-archive"], "--format", "json", "--no-cache",
            "--scanners", "secret,config,file,license")
    alone = run_hullscan(*args, cwd=tmp_path, env={"HULLSCAN_LAYER_WORKERS": "1"})
    together = run_hullscan(*args, cwd=tmp_path, env={"HULLSCAN_LAYER_WORKERS": "3",
                                                      "HULLSCAN_PARALLEL_MIN_BYTES": "1"})
    assert alone.code == together.code == 1, alone.stderr + together.stderr
    drop = '"evaluated_at"'
    assert [line for line in together.stdout.splitlines() if drop not in line] == \
        [line for line in alone.stdout.splitlines() if drop not in line]
    assert json.loads(together.stdout)["checks"]
    bad = run_hullscan(*args, cwd=tmp_path, env={"HULLSCAN_LAYER_WORKERS": "none"})
    assert bad.code == 2 and bad.stdout == ""
    assert bad.stderr.strip() == \
        "hullscan: error: HULLSCAN_LAYER_WORKERS=none: not a whole number of 1 or more"
