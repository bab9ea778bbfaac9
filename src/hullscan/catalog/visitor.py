"""The cataloguing side of the one pass over each layer: hand wanted files to their parsers."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from hullscan.catalog.catalogers import Cataloger
from hullscan.catalog.model import FoundPackage, PartialParseError
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
        self._dispatch = _Dispatch(self._catalogers)
        self._keep = keep
        self._keep_key = keep_key
        self.found: dict[int, dict[str, list[tuple[str, FoundPackage]]]] = defaultdict(dict)
        self.anomalies: list[str] = []
        self._layer_anomalies: dict[int, list[str]] = defaultdict(list)

    def _interested(self, entry: FileEntry) -> list[Cataloger]:
        candidates = self._dispatch.candidates(entry)
        return [cataloger for cataloger in self._catalogers
                if cataloger in candidates and cataloger.wants(entry)]

    def wants(self, entry: FileEntry) -> bool:
        """Files some cataloger reads, and the files kept for later enrichment."""
        return self._keep(entry.path) or any(
            c.wants(entry) for c in self._dispatch.candidates(entry))

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        """Parse the file with each interested cataloger; keep it if enrichment needs it."""
        for cataloger in self._interested(entry):
            try:
                packages = cataloger.parse(entry.path, content)
            except PartialParseError as error:
                self._anomaly(entry.layer_index, f"/{entry.path}: {cataloger.name} read it "
                                                 f"only in part ({error.reason})")
                packages = list(error.packages)
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


class _Dispatch:
    """The catalogers whose :class:`~hullscan.catalog.catalogers.Hint` admits a file, found
    by a dictionary lookup and a few ``str`` tests instead of asking every predicate."""

    def __init__(self, catalogers: Sequence[Cataloger]) -> None:
        self._always = tuple(c for c in catalogers if c.hint is None)
        hinted = [(c, c.hint) for c in catalogers if c.hint is not None]
        self._by_name: dict[str, tuple[Cataloger, ...]] = defaultdict(tuple)
        for cataloger, hint in hinted:
            for name in hint.names:
                self._by_name[name] += (cataloger,)
        self._by_name = dict(self._by_name)
        self._suffixes = tuple((s, c) for c, h in hinted for s in h.suffixes)
        self._any_suffix = tuple(s for s, _ in self._suffixes)
        self._name_prefixes = tuple((p, c) for c, h in hinted for p in h.name_prefixes)
        self._any_name_prefix = tuple(p for p, _ in self._name_prefixes)
        self._path_prefixes = tuple((p, c) for c, h in hinted for p in h.path_prefixes)
        self._any_path_prefix = tuple(p for p, _ in self._path_prefixes)
        self._executables = tuple(c for c, h in hinted if h.executables)

    def candidates(self, entry: FileEntry) -> tuple[Cataloger, ...]:
        """Catalogers that could want ``entry`` (a superset of those whose predicate does)."""
        name = entry.path.rpartition("/")[2]
        found = self._always + self._by_name.get(name, ())
        if name.endswith(self._any_suffix):
            found += tuple(c for s, c in self._suffixes if name.endswith(s))
        if name.startswith(self._any_name_prefix):
            found += tuple(c for p, c in self._name_prefixes if name.startswith(p))
        if entry.path.startswith(self._any_path_prefix):
            found += tuple(c for p, c in self._path_prefixes if entry.path.startswith(p))
        if self._executables and entry.mode & 0o111 and entry.size > 0:
            found += self._executables
        return found


def _package_document(package: FoundPackage) -> dict[str, Any]:
    return {f.name: list(value) if isinstance(value := getattr(package, f.name), tuple)
            else value for f in dataclasses.fields(package)}


def _package_from(document: dict[str, Any]) -> FoundPackage:
    values: dict[str, Any] = {name: tuple(value) if name in _TUPLE_FIELDS else value
                              for name, value in document.items()}
    extra: dict[str, Any] = document.get("extra") or {}
    values["extra"] = {str(k): str(v) for k, v in extra.items()}
    return FoundPackage(**values)
