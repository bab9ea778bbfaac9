"""Layer attribution: introduced by the first layer that has a package, deleted by the layer
that removes its file or rewrites its database without it."""

from __future__ import annotations

from hullscan.catalog.attribution import attribute_packages
from hullscan.catalog.catalogers import CATALOGERS
from hullscan.catalog.visitor import CatalogVisitor
from hullscan.image.layer import LayerContents
from tests.image.layer_helpers import Member, read

APK = "lib/apk/db/installed"


def _apk_db(*packages: tuple[str, str]) -> bytes:
    return b"".join(f"P:{name}\nV:{version}\nA:x86_64\no:{name}\n\n".encode()
                    for name, version in packages)


def _npm(name: str, version: str) -> bytes:
    return f'{{"name": "{name}", "version": "{version}"}}'.encode()


def _layers(*members: list[Member]) -> tuple[list[LayerContents], CatalogVisitor]:
    visitor = CatalogVisitor(CATALOGERS, lambda _: False)
    layers = [read(layer_members, index=index, visitor=visitor)
              for index, layer_members in enumerate(members)]
    return layers, visitor


def _summary(members: list[list[Member]]) -> dict[tuple[str, str], tuple[int, int | None]]:
    layers, visitor = _layers(*members)
    attributed, _ = attribute_packages(layers, visitor.found)
    return {(p.found.name, p.found.version): (p.introduced, p.deleted) for p in attributed}


def test_database_rewrites_keep_the_introducing_layer_and_record_upgrades() -> None:
    summary = _summary([
        [Member(APK, _apk_db(("musl", "1.2"), ("busybox", "1.36")))],
        [Member(APK, _apk_db(("musl", "1.2"), ("busybox", "1.36"), ("curl", "8.0")))],
        [Member(APK, _apk_db(("musl", "1.3"), ("busybox", "1.36"), ("curl", "8.0")))],
        [Member(APK, _apk_db(("musl", "1.3"), ("busybox", "1.36")))],
    ])
    assert summary == {
        ("musl", "1.2"): (0, 2),      # upgraded away in layer 2
        ("musl", "1.3"): (2, None),
        ("busybox", "1.36"): (0, None),
        ("curl", "8.0"): (1, 3),      # removed by layer 3's rewrite
    }


def test_whiteouts_and_opaque_directories_delete_packages() -> None:
    summary = _summary([
        [Member("app/node_modules/a/package.json", _npm("a", "1.0.0")),
         Member("app/node_modules/b/package.json", _npm("b", "2.0.0")),
         Member("opt/node_modules/c/package.json", _npm("c", "3.0.0"))],
        [Member("app/node_modules/.wh.a", b"")],
        [Member("opt/.wh..wh..opq", b"")],
    ])
    assert summary == {("a", "1.0.0"): (0, 1), ("b", "2.0.0"): (0, None),
                       ("c", "3.0.0"): (0, 2)}


def test_unparsable_rewrites_are_anomalies_and_keep_what_was_known() -> None:
    layers, visitor = _layers(
        [Member("app/node_modules/a/package.json", _npm("a", "1.0.0"))],
        [Member("app/node_modules/a/package.json", b"{broken")],
    )
    attributed, _ = attribute_packages(layers, visitor.found)
    assert [(p.found.name, p.introduced, p.deleted) for p in attributed] == [("a", 0, None)]
    assert len(visitor.anomalies) == 1
    assert "layer 1: /app/node_modules/a/package.json" in visitor.anomalies[0]
