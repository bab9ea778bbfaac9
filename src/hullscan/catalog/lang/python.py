"""Python packages: installed metadata (METADATA / PKG-INFO) and lock files.

* ``parse_metadata``: ``*.dist-info/METADATA`` and ``*.egg-info/PKG-INFO`` (RFC 822 headers).
  Licences: ``License-Expression`` if present, else a meaningful ``License`` field (not
  ``UNKNOWN``, one line), else the last segment of ``License :: ...`` classifiers.
  Supplier: ``Author`` (else ``Maintainer``, else the e-mail fields).
* ``parse_requirements``: only exact ``==``/``===`` pins become packages.
* ``parse_poetry_lock``, ``parse_pipfile_lock``, ``parse_uv_lock``.

Names are kept as written; :func:`normalise_name` gives the PEP 503 form.
"""

from __future__ import annotations

import re

from hullscan.catalog.lang import (
    as_dict,
    as_list,
    as_str,
    decode_text,
    load_json_object,
    load_toml,
    name_and_version,
)
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError

_ECOSYSTEM = "pypi"
_NORMALISE = re.compile(r"[-_.]+")


def normalise_name(name: str) -> str:
    """PEP 503 normalised project name: lower case, runs of ``-_.`` become ``-``."""
    return _NORMALISE.sub("-", name).lower()


_HEADER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):[ \t]?(.*)$")


class _Headers:
    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}

    def get(self, name: str) -> str | None:
        found = self.values.get(name.lower())
        return found[0] if found else None

    def get_all(self, name: str) -> list[str]:
        return self.values.get(name.lower(), [])


def _read_headers(text: str) -> _Headers:
    """Core-metadata headers, tolerant of old ``PKG-INFO`` files whose multi-line
    ``Description`` contains blank lines: after a blank line inside a continued value, reading
    goes on if the next line is indented or starts a known header; otherwise the body starts.
    """
    headers = _Headers()
    lines = text.splitlines()
    current: list[str] | None = None
    continued = False
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            following = next((candidate for candidate in lines[index:] if candidate.strip()), "")
            header = _HEADER.match(following)
            if continued and (
                following[:1] in (" ", "\t")
                or (header is not None and header.group(1).lower() in _KNOWN_FIELDS)
            ):
                if current is not None:
                    current[-1] += "\n"
                continue
            break
        if line[:1] in (" ", "\t") and current is not None:
            current[-1] += "\n" + line.strip()
            continued = True
            continue
        match = _HEADER.match(line)
        if match is None:
            break
        current = headers.values.setdefault(match.group(1).lower(), [])
        current.append(match.group(2).strip())
        continued = False
    return headers


_KNOWN_FIELDS = frozenset(
    field.lower()
    for field in [
        "Metadata-Version",
        "Name",
        "Version",
        "Dynamic",
        "Platform",
        "Supported-Platform",
        "Summary",
        "Description",
        "Description-Content-Type",
        "Keywords",
        "Home-page",
        "Download-URL",
        "Author",
        "Author-email",
        "Maintainer",
        "Maintainer-email",
        "License",
        "License-Expression",
        "License-File",
        "Classifier",
        "Requires-Dist",
        "Requires-Python",
        "Requires-External",
        "Project-URL",
        "Provides-Extra",
        "Provides-Dist",
        "Obsoletes-Dist",
        "Requires",
        "Provides",
        "Obsoletes",
    ]
)


def parse_metadata(path: str, content: bytes) -> list[FoundPackage]:
    """One package from a core-metadata file (``METADATA`` or ``PKG-INFO``)."""
    text = decode_text(path, content)
    headers = _read_headers(text)
    name = (headers.get("Name") or "").strip()
    version = (headers.get("Version") or "").strip()
    if not name or not version:
        raise CorruptContentError("core metadata without Name or Version", subject=path)
    licenses: tuple[str, ...] = ()
    expression = (headers.get("License-Expression") or "").strip()
    licence_field = (headers.get("License") or "").strip()
    if expression:
        licenses = (expression,)
    elif licence_field and licence_field.upper() != "UNKNOWN" and "\n" not in licence_field:
        licenses = (licence_field,)
    else:
        found = []
        for classifier in headers.get_all("Classifier"):
            parts = [part.strip() for part in str(classifier).split("::")]
            if len(parts) >= 2 and parts[0] == "License" and parts[-1] != "OSI Approved":
                found.append(parts[-1])
        licenses = tuple(dict.fromkeys(found))
    supplier = None
    for field in ("Author", "Maintainer", "Author-email", "Maintainer-email"):
        value = (headers.get(field) or "").strip()
        if value and value.upper() != "UNKNOWN":
            supplier = value
            break
    extra = {}
    metadata_version = (headers.get("Metadata-Version") or "").strip()
    if metadata_version:
        extra["metadata_version"] = metadata_version
    return [
        FoundPackage(
            name=name,
            version=version,
            ecosystem=_ECOSYSTEM,
            path=path,
            licenses=licenses,
            supplier=supplier,
            extra=extra,
        )
    ]


_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[(?P<extras>[^\]]*)\])?\s*"
    r"(?P<op>===?)\s*(?P<version>[^\s;,\\]+)\s*"
    r"(?:;.*)?$"
)
_HASH = re.compile(r"--hash[=\s]+(\S+)")


def parse_requirements(path: str, content: bytes) -> list[FoundPackage]:
    """Exactly pinned requirements (``name[extras]==version``) from a requirements file.

    Options (``-r``, ``-c``, ``-e``, ``--index-url``...), URLs, ranges and wildcard pins are
    ignored; ``--hash`` values go into ``extra["hashes"]`` (comma separated).
    """
    text = decode_text(path, content)
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw if not raw.lstrip().startswith("#") else ""
        line = re.sub(r"(^|\s)#.*$", "", line)
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    packages: list[FoundPackage] = []
    for entry in logical:
        line = entry.strip()
        if not line or line.startswith("-"):
            continue
        hashes = _HASH.findall(line)
        line = _HASH.sub("", line).strip()
        match = _REQUIREMENT.match(line)
        if match is None or "*" in match["version"]:
            continue
        extra = {"hashes": ",".join(hashes)} if hashes else {}
        if match["extras"]:
            extra["extras"] = ",".join(e.strip() for e in match["extras"].split(",") if e.strip())
        packages.append(
            FoundPackage(
                name=match["name"],
                version=match["version"],
                ecosystem=_ECOSYSTEM,
                path=path,
                extra=extra,
            )
        )
    return packages


def parse_poetry_lock(path: str, content: bytes) -> list[FoundPackage]:
    """``[[package]]`` entries of ``poetry.lock``; ``category = "dev"`` (Poetry < 1.2)
    marks development packages (newer lock files do not record groups)."""
    data = load_toml(path, content)
    packages: list[FoundPackage] = []
    for entry in as_list(data.get("package")):
        entry = as_dict(entry)
        name, version = name_and_version(entry, path, "poetry.lock")
        extra = {}
        source = as_dict(entry.get("source"))
        if as_str(source.get("type")):
            extra["source_type"] = str(source["type"])
        if as_str(source.get("url")):
            extra["source_url"] = str(source["url"])
        packages.append(
            FoundPackage(
                name=name,
                version=version,
                ecosystem=_ECOSYSTEM,
                path=path,
                dependencies=tuple(str(d) for d in as_dict(entry.get("dependencies"))),
                development=entry.get("category") == "dev",
                extra=extra,
            )
        )
    return packages


def parse_pipfile_lock(path: str, content: bytes) -> list[FoundPackage]:
    """``default`` and ``develop`` (development) sections of ``Pipfile.lock``; entries
    without a ``==`` version (VCS, editable, path) are skipped."""
    data = load_json_object(path, content)
    packages: list[FoundPackage] = []
    for section, development in (("default", False), ("develop", True)):
        for name, entry in as_dict(data.get(section)).items():
            version = as_str(as_dict(entry).get("version"))
            if version is None or not version.startswith("=="):
                continue
            hashes = [h for h in as_list(as_dict(entry).get("hashes")) if isinstance(h, str)]
            packages.append(
                FoundPackage(
                    name=name,
                    version=version.lstrip("="),
                    ecosystem=_ECOSYSTEM,
                    path=path,
                    development=development,
                    extra={"hashes": ",".join(hashes)} if hashes else {},
                )
            )
    return packages


def parse_uv_lock(path: str, content: bytes) -> list[FoundPackage]:
    """``[[package]]`` entries of ``uv.lock``.

    Workspace members (``source = { editable = ... }`` or ``{ virtual = ... }``) are the
    project itself, not dependencies, and are skipped, as are entries without a version.
    Development-only status would need a walk of the dependency graph and is not computed.
    """
    data = load_toml(path, content)
    packages: list[FoundPackage] = []
    for entry in as_list(data.get("package")):
        entry = as_dict(entry)
        name = as_str(entry.get("name"))
        if name is None:
            raise CorruptContentError("uv.lock package without a name", subject=path)
        source = as_dict(entry.get("source"))
        version = as_str(entry.get("version"))
        if version is None or "editable" in source or "virtual" in source:
            continue
        extra = {f"source_{key}": str(value) for key, value in source.items()}
        sdist = as_dict(entry.get("sdist"))
        if as_str(sdist.get("hash")):
            extra["sdist_hash"] = str(sdist["hash"])
        packages.append(
            FoundPackage(
                name=name,
                version=version,
                ecosystem=_ECOSYSTEM,
                path=path,
                dependencies=tuple(
                    str(as_dict(dep)["name"])
                    for dep in as_list(entry.get("dependencies"))
                    if as_str(as_dict(dep).get("name"))
                ),
                extra=extra,
            )
        )
    return packages
