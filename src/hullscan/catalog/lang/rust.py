"""Rust crates: ``Cargo.lock`` (format versions 1 to 4).

Every ``[[package]]`` entry is reported, as syft does, including workspace members and path
dependencies that have no ``source`` (their ``extra`` then has no ``source`` key, so a
consumer can drop them). ``checksum`` comes from the entry (v2+) or from the v1
``[metadata]`` table.
"""

from __future__ import annotations

from hullscan.catalog.lang import as_dict, as_list, as_str, load_toml, name_and_version
from hullscan.catalog.model import FoundPackage

_ECOSYSTEM = "cargo"


def parse_cargo_lock(path: str, content: bytes) -> list[FoundPackage]:
    """Crates listed in a ``Cargo.lock``."""
    data = load_toml(path, content)
    v1_checksums: dict[str, str] = {}
    for key, value in as_dict(data.get("metadata")).items():
        # "checksum name version (source)" = "hash"
        if key.startswith("checksum ") and isinstance(value, str):
            parts = key.split(" ")
            if len(parts) >= 3:
                v1_checksums[f"{parts[1]} {parts[2]}"] = value
    packages: list[FoundPackage] = []
    for raw in as_list(data.get("package")):
        entry = as_dict(raw)
        name, version = name_and_version(entry, path, "Cargo.lock")
        extra = {}
        source = as_str(entry.get("source"))
        if source:
            extra["source"] = source
        checksum = as_str(entry.get("checksum")) or v1_checksums.get(f"{name} {version}")
        if checksum:
            extra["checksum"] = checksum
        packages.append(
            FoundPackage(
                name=name,
                version=version,
                ecosystem=_ECOSYSTEM,
                path=path,
                dependencies=tuple(
                    str(dep).split(" ", 1)[0]
                    for dep in as_list(entry.get("dependencies"))
                    if isinstance(dep, str)
                ),
                extra=extra,
            )
        )
    return packages
