"""Scans running at once on one cache directory, of the same and of different images, print
what cold scans print; so they do when the cache is too small and each evicts what the others
are about to read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integrity.images import CHECKS, BigImages, cold_scan
from tests.integrity.processes import finish, start
from tests.support.cache_entries import image_entries, layer_entries


def _together(names: list[str], images: BigImages, cache: Path, cwd: Path,
              *extra: str) -> list[str]:
    """Run one scan per name at once; their outputs, in order."""
    processes = [start("scan", getattr(images, name), *CHECKS, "--cache-dir", str(cache), *extra,
                       cwd=cwd) for name in names]
    results = [finish(process) for process in processes]
    assert all(code in (0, 1) for code, _, _ in results), [err for _, _, err in results]
    return [out for _, out, _ in results]


@pytest.mark.parametrize("max_size", ["5GiB", "52000"], ids=["roomy", "evicting"])
def test_concurrent_scans_of_same_and_different_images(max_size: str, big_images: BigImages,
                                                       tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    names = ["a", "b", "a"]
    # A roomy cache: the three fill it at once. A small one: twice, each store evicting
    # entries the other scans are about to read.
    for _ in range(1 if max_size == "5GiB" else 2):
        outputs = _together(names, big_images, cache, tmp_path, "--cache-max-size", max_size)
        assert outputs == [cold_scan(big_images, name) for name in names]
    assert list((cache / "tmp").iterdir()) == []
    entries = sorted(cache.glob("??/*.layer"))
    if max_size == "5GiB":
        # The shared base layer once, each image's own layer, and each whole image.
        assert len(layer_entries(cache)) == 3 and len(image_entries(cache)) == 2
    else:
        assert sum(path.stat().st_size for path in entries) <= 52000
