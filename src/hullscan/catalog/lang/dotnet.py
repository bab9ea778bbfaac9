""".NET packages: ``*.deps.json`` written by the SDK next to an application.

Only ``libraries`` of ``type: package`` (NuGet packages) are reported; ``project`` (the
application and its project references) and ``runtimepack`` entries are skipped.
"""

from __future__ import annotations

from hullscan.catalog.lang import as_dict, as_str, load_json_object
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError

_ECOSYSTEM = "nuget"


def parse_deps_json(path: str, content: bytes) -> list[FoundPackage]:
    """NuGet packages of a ``*.deps.json``; ``sha512`` and the package path go to ``extra``."""
    data = load_json_object(path, content)
    libraries = data.get("libraries")
    if not isinstance(libraries, dict):
        raise CorruptContentError("deps.json without a libraries object", subject=path)
    packages: list[FoundPackage] = []
    for key, raw in libraries.items():
        entry = as_dict(raw)
        if entry.get("type") != "package":
            continue
        name, _, version = key.partition("/")
        if not name or not version:
            raise CorruptContentError(f"library key {key!r} is not Name/Version", subject=path)
        extra = {
            field: str(entry[field]) for field in ("sha512", "path") if as_str(entry.get(field))
        }
        packages.append(
            FoundPackage(name=name, version=version, ecosystem=_ECOSYSTEM, path=path, extra=extra)
        )
    return packages
