"""The cataloguing side of the one pass over each layer: hand wanted files to their parsers."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from hullscan.catalog.catalogers import Cataloger
from hullscan.catalog.model import FoundPackage
from hullscan.errors import HullscanError
from hullscan.image.layer import Commit, FileEntry, LayerContents

CATALOG_VISITOR_VERSION = 1
"""Bump when what the visitor records per layer changes meaning (its code is fingerprinted
by the cache too)."""

_TUPLE_FIELDS = frozenset(f.name for f in dataclasses.fields(FoundPackage)
                          if isinstance(f.default, tuple))


class CatalogVisitor:
    """Runs every interested cataloger on each wanted file, layer by layer.

    Results stay per layer and per path (``found[layer][path]``), so that merging can tell
    which layer introduced a package and which layer deleted it. Files that fail to parse are
    recorded as anomalies, never dropped silently, and never stop the scan.

    ``keep_key`` names what ``keep`` accepts (it must change when that does); without one
    the visitor's layers are not cached.
    """

    def __init__(self, catalogers: Sequence[Cataloger], keep: Callable[[str], bool],
                 keep_key: str | None = None) -> None:
        self._catalogers = tuple(catalogers)
        self._keep = keep
        self._keep_key = keep_key
        self.found: dict[int, dict[str, list[tuple[str, FoundPackage]]]] = defaultdict(dict)
        self.anomalies: list[str] = []
        self._layer_anomalies: dict[int, list[str]] = defaultdict(list)

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
                self._anomaly(entry.layer_index, f"/{entry.path}: {cataloger.name} could not "
                                                 f"read it ({error.reason})")
                continue
            found = self.found[entry.layer_index].setdefault(entry.path, [])
            found.extend((cataloger.name, package) for package in packages)
        return self._keep(entry.path)

    def _anomaly(self, index: int, text: str) -> None:
        self._layer_anomalies[index].append(text)
        self.anomalies.append(f"layer {index}: {text}")

    def cache_key(self) -> str | None:
        """The catalogers (by name, in order) and what is kept; None without ``keep_key``."""
        if self._keep_key is None:
            return None
        names = ",".join(cataloger.name for cataloger in self._catalogers)
        return f"catalog/{CATALOG_VISITOR_VERSION}:{names};keep={self._keep_key}"

    def export_layer(self, index: int) -> Any:
        """Packages found per path, and anomalies, of layer ``index``."""
        found = {path: [[name, _package_document(package)] for name, package in finds]
                 for path, finds in self.found.get(index, {}).items()}
        return {"found": found, "anomalies": list(self._layer_anomalies.get(index, ()))}

    def import_layer(self, contents: LayerContents, state: Any) -> Commit:
        """Record an exported layer's packages and anomalies at ``contents.layer.index``."""
        index = contents.layer.index
        found = {str(path): [(str(name), _package_from(document)) for name, document in finds]
                 for path, finds in state["found"].items()}
        anomalies = [str(text) for text in state["anomalies"]]

        def commit() -> None:
            if found:
                self.found[index].update(found)
            for text in anomalies:
                self._anomaly(index, text)
        return commit


def _package_document(package: FoundPackage) -> dict[str, Any]:
    return {f.name: list(value) if isinstance(value := getattr(package, f.name), tuple)
            else value for f in dataclasses.fields(package)}


def _package_from(document: dict[str, Any]) -> FoundPackage:
    values: dict[str, Any] = {name: tuple(value) if name in _TUPLE_FIELDS else value
                              for name, value in document.items()}
    extra: dict[str, Any] = document.get("extra") or {}
    values["extra"] = {str(k): str(v) for k, v in extra.items()}
    return FoundPackage(**values)
