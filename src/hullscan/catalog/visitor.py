"""The cataloguing side of the one pass over each layer: hand wanted files to their parsers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from hullscan.catalog.catalogers import Cataloger
from hullscan.catalog.model import FoundPackage
from hullscan.errors import HullscanError
from hullscan.image.layer import FileEntry


class CatalogVisitor:
    """Runs every interested cataloger on each wanted file, layer by layer.

    Results stay per layer and per path (``found[layer][path]``), so that merging can tell
    which layer introduced a package and which layer deleted it. Files that fail to parse are
    recorded as anomalies, never dropped silently, and never stop the scan.
    """

    def __init__(self, catalogers: Sequence[Cataloger], keep: Callable[[str], bool]) -> None:
        self._catalogers = tuple(catalogers)
        self._keep = keep
        self.found: dict[int, dict[str, list[tuple[str, FoundPackage]]]] = defaultdict(dict)
        self.anomalies: list[str] = []

    def _interested(self, entry: FileEntry) -> list[Cataloger]:
        return [cataloger for cataloger in self._catalogers if cataloger.wants(entry)]

    def wants(self, entry: FileEntry) -> bool:
        """Files some cataloger reads, and the files kept for later enrichment."""
        return self._keep(entry.path) or any(c.wants(entry) for c in self._catalogers)

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        """Parse the file with each interested cataloger; keep it if enrichment needs it."""
        for cataloger in self._interested(entry):
            try:
                packages = cataloger.parse(entry.path, content)
            except HullscanError as error:
                self.anomalies.append(f"layer {entry.layer_index}: /{entry.path}: "
                                      f"{cataloger.name} could not read it ({error.reason})")
                continue
            found = self.found[entry.layer_index].setdefault(entry.path, [])
            found.extend((cataloger.name, package) for package in packages)
        return self._keep(entry.path)
