"""The whole-image entries of the cache: one entry answers a rescan of the same image from
any source with that source's metadata; anything that changes the result misses; a damaged
entry is ignored; the distribution's support status is worked out for the day of the scan."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from hullscan.analysis_cache import load_analysis
from hullscan.catalog.package import Scope
from hullscan.checks.finding import Category
from hullscan.checks.run import CheckOptions, CheckRun
from hullscan.image.acquire import open_image
from hullscan.image.layer_cache import LayerCache
from hullscan.image.sources.interface import AcquireOptions
from hullscan.pipeline import analyse, image_cache_fingerprint
from tests.cli.run_cli import CliRun, run_hullscan
from tests.support.cache_entries import image_entries, layer_entries
from tests.support.image_builder import File, ImageSpec, LayerSpec, Whiteout, write_oci_layout
from tests.support.vulnerable_image import VulnerableImage

CHECKS = ("--scanners", "secret,config,file,license", "--no-policy", "--format", "json")


def _spec() -> ImageSpec:
    return ImageSpec([
        LayerSpec([File("/etc/os-release",
                        b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"),
                   File("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")],
                  created_by="ADD rootfs /"),
        LayerSpec([File("/app/.env", b"AWS_ACCESS_KEY_ID=AKIA" + b"Q3EGRKSXQJ7HMZ4T" + b"\n"),
                   File("/app/run.sh", b"#!/bin/sh\n", mode=0o4755)],
                  created_by="COPY app /app"),
        LayerSpec([Whiteout("/app/.env")], created_by="RUN rm /app/.env"),
    ])


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    layout = tmp_path_factory.mktemp("analysis-cache") / "layout"
    write_oci_layout(layout, {"app:1": _spec()})
    return f"oci-dir:{layout}:app:1"


def _scan(*args: str, cache: Path, cwd: Path) -> CliRun:
    return run_hullscan("scan", *args, "--cache-dir", str(cache), cwd=cwd, tmpdir=None)


def _ok(run: CliRun) -> str:
    assert run.code in (0, 1), run.stderr
    return run.stdout


def test_same_image_from_another_source_keeps_that_sources_metadata(
        vulnerable_image: VulnerableImage, tmp_path: Path) -> None:
    archive = f"docker-archive:{vulnerable_image.docker_archive}"
    uncached = _ok(run_hullscan("scan", archive, *CHECKS, "--no-cache", cwd=tmp_path))
    cache = tmp_path / "cache"
    from_layout = _ok(_scan(vulnerable_image.target, *CHECKS, cache=cache, cwd=tmp_path))
    assert json.loads(from_layout)["image"]["image_id"] == json.loads(uncached)["image"]["image_id"]
    entries = sorted(cache.glob("??/*.layer"))
    from_archive = _ok(_scan(archive, *CHECKS, cache=cache, cwd=tmp_path))
    assert sorted(cache.glob("??/*.layer")) == entries  # answered by the one image entry
    assert from_archive == uncached  # byte for byte: the archive's reference, name, blobs
    assert json.loads(from_archive)["image"] != json.loads(from_layout)["image"]


def test_damaged_image_entry_is_ignored_and_rewritten(image: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = _ok(_scan(image, *CHECKS, cache=cache, cwd=tmp_path))
    [entry] = image_entries(cache)
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(bytes(data))
    assert _ok(_scan(image, *CHECKS, cache=cache, cwd=tmp_path)) == cold
    assert image_entries(cache) == [entry]  # rewritten: readable again
    assert _ok(_scan(image, *CHECKS, cache=cache, cwd=tmp_path)) == cold


def _rule_ids(output: str) -> set[str]:
    return {check["rule_id"] for check in json.loads(output)["checks"]}


def test_changed_dockerfile_is_not_answered_from_the_cache(image: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\nADD https://example.invalid/app.tgz /app\n")
    remote = _ok(_scan(image, *CHECKS, "--dockerfile", str(dockerfile), cache=cache,
                       cwd=tmp_path))
    assert "HS-CFG-005" in _rule_ids(remote)  # ADD of a remote URL
    dockerfile.write_text("FROM debian:12\nCOPY app.tgz /app\n")
    local = _ok(_scan(image, *CHECKS, "--dockerfile", str(dockerfile), cache=cache,
                      cwd=tmp_path))
    assert "HS-CFG-005" not in _rule_ids(local)
    assert len(image_entries(cache)) == 2 and len(layer_entries(cache)) == 3


def test_lower_limit_refuses_an_image_answered_before(image: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _ok(_scan(image, *CHECKS, cache=cache, cwd=tmp_path))
    refused = _scan(image, *CHECKS, "--max-files", "2", cache=cache, cwd=tmp_path)
    assert refused.code == 2, refused.stdout
    assert refused.stdout == "" and "files" in refused.stderr


def test_warm_analysis_equals_cold_and_reads_one_entry(image: str, tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    run = CheckRun(CheckOptions(frozenset(Category)))
    uncached = analyse(image, AcquireOptions(), Scope.SQUASHED, run, ("root:x",))
    cold = analyse(image, AcquireOptions(), Scope.SQUASHED, run, ("root:x",), cache=cache)
    assert cache.hits == 0
    warm = analyse(image, AcquireOptions(), Scope.SQUASHED, run, ("root:x",), cache=cache)
    assert cache.hits == 1
    assert uncached == cold == warm
    assert warm.content_matches == {"root:x": ("etc/passwd",)}
    assert "etc/passwd" in warm.file_contents and warm.files
    assert any(c.path == "app/.env" and c.deleted_by is not None for c in warm.checks)


def test_support_status_is_worked_out_for_the_day_of_the_scan(image: str,
                                                              tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    run = CheckRun(CheckOptions(frozenset()))
    options = AcquireOptions()
    analysed = analyse(image, options, Scope.SQUASHED, run, cache=cache)
    assert analysed.catalog.distro is not None and analysed.catalog.distro.support_ends
    fingerprint = image_cache_fingerprint(options, Scope.SQUASHED, run)
    with open_image(image, options) as source:
        metadata = source.metadata
    for today, ended in ((datetime.date(2020, 1, 1), False), (datetime.date(2099, 1, 1), True)):
        loaded = load_analysis(cache, metadata, fingerprint, today)
        assert loaded is not None and loaded.catalog.distro is not None
        assert loaded.catalog.distro.end_of_life is ended
        assert loaded.catalog.distro.support_ends == analysed.catalog.distro.support_ends
