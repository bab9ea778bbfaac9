"""PHP packages: Composer ``vendor/composer/installed.json`` (v1 and v2) and ``composer.lock``.

Composer names are ``vendor/package``; following the Package URL convention the vendor
becomes ``namespace`` and the rest ``name``.
"""

from __future__ import annotations

from typing import Any

from hullscan.catalog.lang import as_dict, as_list, as_str, load_json, name_and_version
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError

_ECOSYSTEM = "composer"


def _package(path: str, entry: object, development: bool) -> FoundPackage:
    data = as_dict(entry)
    full_name, version = name_and_version(data, path, "Composer")
    vendor, _, name = full_name.rpartition("/")
    licence = data.get("license")
    licences = [licence] if isinstance(licence, str) else as_list(licence)
    authors = [as_str(as_dict(a).get("name")) for a in as_list(data.get("authors"))]
    extra: dict[str, str] = {}
    for key in ("source", "dist"):
        section: dict[str, Any] = as_dict(data.get(key))
        for field in ("url", "reference", "shasum"):
            if as_str(section.get(field)):
                extra[f"{key}_{field}"] = str(section[field])
    return FoundPackage(
        name=name,
        version=version,
        ecosystem=_ECOSYSTEM,
        path=path,
        namespace=vendor or None,
        licenses=tuple(str(item) for item in licences if isinstance(item, str) and item),
        supplier=next((author for author in authors if author), None),
        dependencies=tuple(str(d) for d in as_dict(data.get("require"))),
        development=development,
        extra=extra,
    )


def parse_installed_json(path: str, content: bytes) -> list[FoundPackage]:
    """``installed.json``: Composer 1 (a top-level array) or 2 (``{"packages": [...]}``,
    with ``dev-package-names`` marking development packages)."""
    data = load_json(path, content)
    dev_names: set[str] = set()
    if isinstance(data, dict):
        if not isinstance(data.get("packages"), list):
            raise CorruptContentError("installed.json without a packages list", subject=path)
        dev_names = {n for n in as_list(data.get("dev-package-names")) if isinstance(n, str)}
        entries = data["packages"]
    elif isinstance(data, list):
        entries = data
    else:
        raise CorruptContentError("installed.json is neither an array nor an object", subject=path)
    return [_package(path, entry, as_str(as_dict(entry).get("name")) in dev_names)
            for entry in entries]


def parse_composer_lock(path: str, content: bytes) -> list[FoundPackage]:
    """``composer.lock``: ``packages`` plus ``packages-dev`` (development)."""
    data = load_json(path, content)
    if not isinstance(data, dict) or not isinstance(data.get("packages", []), list):
        raise CorruptContentError("composer.lock without a packages list", subject=path)
    return [_package(path, entry, False) for entry in as_list(data.get("packages"))] + [
        _package(path, entry, True) for entry in as_list(data.get("packages-dev"))
    ]
