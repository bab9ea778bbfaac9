"""Which layer introduced each package, and which layer (if any) deleted it.

Layers are applied in order to a growing squashed view. Each time a layer writes a package
file (a database, a manifest, a lock file, a binary), the packages parsed from it replace the
ones previously known at that path: new ones are introduced by this layer, vanished ones are
deleted by it. A package whose file a later layer deletes (whiteout, opaque directory,
replacement) is deleted by that layer. A package keeps the layer that first introduced it for
as long as it stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hullscan.catalog.model import FoundPackage
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import LayerContents

FoundByPath = Mapping[int, Mapping[str, Sequence[tuple[str, FoundPackage]]]]
"""Per layer index, per file path: ``(cataloger name, package)`` pairs parsed from it."""


@dataclass(frozen=True)
class AttributedPackage:
    """A found package with the layers that introduced and deleted it."""

    cataloger: str
    found: FoundPackage
    file: str
    """The image file it was parsed from (its database, manifest or binary)."""
    introduced: int
    deleted: int | None = None


_Key = tuple[str, str, str | None, str, str, str]


def _key(cataloger: str, package: FoundPackage) -> _Key:
    return (cataloger, package.ecosystem, package.namespace, package.name, package.version,
            package.path)


def attribute_packages(layers: Sequence[LayerContents], found: FoundByPath, *,
                       max_link_hops: int = 40
                       ) -> tuple[list[AttributedPackage], SquashedFilesystem]:
    """Replay the layers; return every package ever seen, and the final squashed view."""
    filesystem = SquashedFilesystem([], max_link_hops=max_link_hops)
    live: dict[str, dict[_Key, AttributedPackage]] = {}
    gone: list[AttributedPackage] = []

    def delete(packages: Mapping[_Key, AttributedPackage], layer: int) -> None:
        gone.extend(AttributedPackage(p.cataloger, p.found, p.file, p.introduced, layer)
                    for p in packages.values())

    for contents in layers:
        index = contents.layer.index
        filesystem.apply(contents)
        for path in [p for p in live if filesystem.entry(p) is None]:
            delete(live.pop(path), index)
        for path, pairs in found.get(index, {}).items():
            before = live.pop(path, {})
            now: dict[_Key, AttributedPackage] = {}
            for cataloger, package in pairs:
                key = _key(cataloger, package)
                earlier = before.pop(key, None) or now.get(key)
                introduced = earlier.introduced if earlier else index
                now[key] = AttributedPackage(cataloger, package, path, introduced)
            delete(before, index)
            live[path] = now
    present = [package for packages in live.values() for package in packages.values()]
    return present + gone, filesystem
