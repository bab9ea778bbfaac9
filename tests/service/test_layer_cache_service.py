"""The service's per-layer cache: an analysis reuses the layers any earlier analysis read
(nothing pulled for them), and the inventory is the same as without the cache."""

from __future__ import annotations

import uuid
from pathlib import Path

from hullscan.image.layer_cache import LayerCache
from hullscan.image.sources.interface import AcquireOptions
from hullscan.service.inventory import Inventory, analyse_inventory
from hullscan.service.operations import Service
from tests.service.conftest import StagedImages, push
from tests.support.cache_entries import image_entries, layer_entries
from tests.support.fault_proxy import FaultProxy
from tests.support.image_builder import File, ImageSpec, LayerSpec, write_oci_layout


def _layer_gets(proxy: FaultProxy) -> set[str]:
    return {r.path.rpartition("/")[2] for r in proxy.requests
            if r.method == "GET" and "/blobs/" in r.path}


def _same(left: Inventory, right: Inventory) -> None:
    """The same analysis results (the image's name and reference may differ)."""
    assert left.catalog.packages == right.catalog.packages
    assert left.catalog.distro == right.catalog.distro
    assert left.catalog.anomalies == right.catalog.anomalies
    assert left.catalog.image.layers == right.catalog.image.layers
    assert left.checks == right.checks
    assert left.files == right.files
    assert left.file_contents == right.file_contents
    assert left.content_matches == right.content_matches


def test_service_reuses_cached_layers(service: Service, staged: StagedImages,
                                      fault_proxy: FaultProxy) -> None:
    cache = service.layer_cache
    assert cache is not None and cache.directory == service.data_dir / "layer-cache"
    upstream = staged.server.host
    vulnerable = staged.vulnerable.replace(upstream, fault_proxy.host)
    _, analysis, _ = service.add_image(vulnerable)
    assert service.run_analysis(analysis.digest, "worker-a")
    stored = cache.status().entries
    assert stored > 0 and cache.hits == 0
    first_blobs = _layer_gets(fault_proxy)

    # The same image under another name, digest-pinned: the whole image's entry answers.
    fault_proxy.clear_requests()
    again = vulnerable.replace("vulnerable:1", f"vulnerable@{analysis.digest}")
    direct = analyse_inventory(again, AcquireOptions(), cache=cache)
    assert cache.hits == 1 and len(image_entries(cache.directory)) == 1
    blobs = _layer_gets(fault_proxy)
    assert len(blobs) == 1 and blobs < first_blobs  # the config only
    _same(direct, service.inventory(analysis.digest))
    assert direct.catalog.image.reference == again  # the metadata is this pull's

    # Without that entry, the image is analysed again from its cached layers.
    for path in image_entries(cache.directory):
        path.unlink()
    fault_proxy.clear_requests()
    from_layers = analyse_inventory(again, AcquireOptions(), cache=cache)
    assert cache.hits == 1 + len(layer_entries(cache.directory)) == stored
    assert _layer_gets(fault_proxy) == blobs
    _same(from_layers, direct)



def test_shared_base_layer_is_pulled_once(service: Service, staged: StagedImages,
                                          fault_proxy: FaultProxy, tmp_path: Path) -> None:
    base = LayerSpec([File("/etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
                      File("/lib/apk/db/installed", b"P:musl\nV:1.2.4-r2\nA:x86_64\n\n")])
    layout = tmp_path / "layout"
    write_oci_layout(layout, {
        "one:1": ImageSpec([base, LayerSpec([File("/srv/one.txt", b"one\n")])]),
        "two:1": ImageSpec([base, LayerSpec([File("/srv/two.txt", b"two\n")])])})
    repository = f"shared{uuid.uuid4().hex[:8]}"
    one = push(staged.server, layout, "one:1", f"{repository}/one", "1")
    two = push(staged.server, layout, "two:1", f"{repository}/two", "1")
    cache = service.layer_cache
    assert cache is not None
    _, first, _ = service.add_image(one.replace(staged.server.host, fault_proxy.host))
    assert service.run_analysis(first.digest, "worker-a")
    first_blobs = _layer_gets(fault_proxy)
    assert len(first_blobs) == 3 and cache.hits == 0
    fault_proxy.clear_requests()
    _, second, _ = service.add_image(two.replace(staged.server.host, fault_proxy.host))
    assert service.run_analysis(second.digest, "worker-b")
    assert cache.hits == 1
    second_blobs = _layer_gets(fault_proxy)
    assert len(second_blobs) == 2 and not second_blobs & first_blobs  # config and own layer
    _same(service.inventory(second.digest), analyse_inventory(two, AcquireOptions()))


def test_cached_inventory_equals_uncached(staged: StagedImages, tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    uncached = analyse_inventory(staged.vulnerable, AcquireOptions())
    cold = analyse_inventory(staged.vulnerable, AcquireOptions(), cache=cache)
    warm = analyse_inventory(staged.vulnerable, AcquireOptions(), cache=cache)
    assert cache.hits == 1 and len(image_entries(cache.directory)) == 1
    assert len(layer_entries(cache.directory)) == len(uncached.catalog.image.layers)
    _same(uncached, cold)
    _same(uncached, warm)


def test_service_cache_can_be_turned_off(service: Service, staged: StagedImages) -> None:
    service.layer_cache = None
    _, analysis, _ = service.add_image(staged.clean)
    assert service.run_analysis(analysis.digest, "worker-a")
    assert not (service.data_dir / "layer-cache").exists()
