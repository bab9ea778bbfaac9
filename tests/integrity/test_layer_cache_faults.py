"""The layer cache across killed writers and damaged entries: a scan with the cache always
succeeds and prints what a cold scan prints; a damaged entry is a miss and is replaced."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hullscan.image.layer_cache import LayerCache
from tests.integrity.images import CHECKS, BigImages, cold_scan
from tests.integrity.processes import finish, kill_when, size_of, start
from tests.support.cache_entries import image_entries, layer_entries

HALF_WRITER = Path(__file__).with_name("half_writer.py")


def _scan(image: str, cache: Path, cwd: Path, *extra: str) -> str:
    code, out, err = finish(start("scan", image, *CHECKS, "--cache-dir", str(cache), *extra,
                                  cwd=cwd))
    assert code in (0, 1), err
    return out


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("??/*.layer"))


def _temporaries(cache: Path) -> list[Path]:
    return sorted((cache / "tmp").glob("*")) if (cache / "tmp").is_dir() else []


def test_writer_killed_mid_entry(big_images: BigImages, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    writer = start("scan", big_images.a, *CHECKS, "--cache-dir", str(cache), cwd=tmp_path,
                   command=[sys.executable, str(HALF_WRITER)])
    assert kill_when(writer, lambda: any(size_of(path) > 0 for path in _temporaries(cache)))
    [half] = _temporaries(cache)
    assert half.stat().st_size > 10_000  # half of the base layer's entry
    assert _entries(cache) == []  # nothing under an entry's name
    warm = _scan(big_images.a, cache, tmp_path)
    assert warm == cold_scan(big_images, "a")
    assert len(layer_entries(cache)) == 2 and len(image_entries(cache)) == 1
    assert _scan(big_images.a, cache, tmp_path) == warm  # now read from the entries


@pytest.mark.parametrize("moment", ["temporary-file", "first-entry"])
def test_scan_killed_while_storing(moment: str, big_images: BigImages, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    scan = start("scan", big_images.a, *CHECKS, "--cache-dir", str(cache), cwd=tmp_path)

    def ready() -> bool:
        return bool(_temporaries(cache) if moment == "temporary-file" else _entries(cache))

    kill_when(scan, ready)  # a real scan, killed wherever it stands at that moment
    assert _scan(big_images.a, cache, tmp_path) == cold_scan(big_images, "a")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:6])


@pytest.mark.parametrize("kind", ["layer", "image"])
def test_damaged_entries_are_misses_and_replaced(kind: str, big_images: BigImages,
                                                 tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = _scan(big_images.a, cache, tmp_path)
    assert cold == cold_scan(big_images, "a")
    [whole] = image_entries(cache)
    big = max(layer_entries(cache), key=lambda path: path.stat().st_size) \
        if kind == "layer" else whole
    good = big.read_bytes()
    for damage in (_truncate, _garbage, _empty, _header_only):
        if kind == "layer":
            whole.unlink()  # else the whole image's entry answers and no layer entry is read
        damage(big)
        damaged = big.read_bytes()
        assert _scan(big_images.a, cache, tmp_path) == cold, damage.__name__
        assert big.read_bytes() != damaged, damage.__name__  # replaced by a good entry
        assert len(big.read_bytes()) == len(good), damage.__name__
    assert LayerCache(cache).status().entries == 3
