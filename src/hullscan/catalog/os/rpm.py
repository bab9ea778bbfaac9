"""rpm: packages from an rpm database (SQLite, BerkeleyDB hash or NDB).

``gpg-pubkey`` entries are imported signing keys, not software; they are skipped, as syft and
trivy do.
"""

from __future__ import annotations

import re

from hullscan.catalog.model import FoundPackage, partial_result
from hullscan.catalog.os import rpm_header as tags
from hullscan.catalog.os.rpm_db import header_blobs
from hullscan.catalog.os.rpm_header import Header, parse_header
from hullscan.errors import CorruptContentError, HullscanError

_SOURCE_RPM = re.compile(r"^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$")


def split_source_rpm(value: str) -> tuple[str, str, str] | None:
    """``name-version-release.src.rpm`` -> ``(name, version, release)``, or ``None``."""
    match = _SOURCE_RPM.match(value)
    if match is None:
        return None
    return match.group(1), match.group(2), match.group(3)


def package_from_header(path: str, header: Header) -> FoundPackage | None:
    """One package from a parsed header; ``None`` for ``gpg-pubkey`` or a nameless header."""
    name = header.string(tags.TAG_NAME)
    if not name or name == "gpg-pubkey":
        return None
    version = header.string(tags.TAG_VERSION) or ""
    release = header.string(tags.TAG_RELEASE) or None
    epochs = header.ints(tags.TAG_EPOCH)
    source_name: str | None = None
    source_version: str | None = None
    source_rpm = header.string(tags.TAG_SOURCERPM)
    extra: dict[str, str] = {}
    if source_rpm:
        extra["sourcerpm"] = source_rpm
        parts = split_source_rpm(source_rpm)
        if parts:
            source_name, source_version = parts[0], f"{parts[1]}-{parts[2]}"
    sizes = header.ints(tags.TAG_SIZE)
    if sizes:
        extra["size"] = str(sizes[0])
    licence = header.string(tags.TAG_LICENSE)
    return FoundPackage(
        name=name,
        version=f"{version}-{release}" if release else version,
        ecosystem="rpm",
        path=path,
        source_name=source_name,
        source_version=source_version,
        architecture=header.string(tags.TAG_ARCH) or None,
        epoch=epochs[0] if epochs else None,
        release=release,
        licenses=(licence,) if licence else (),
        supplier=header.string(tags.TAG_VENDOR) or None,
        files=header.files(),
        extra=extra,
    )


def parse_database(path: str, content: bytes) -> list[FoundPackage]:
    """All packages in an rpm database file (``rpmdb.sqlite``, ``Packages``, ``Packages.db``).

    A malformed header skips its package only; the others are kept and the problems reported
    (:class:`~hullscan.catalog.model.PartialParseError`). A database whose storage itself is
    damaged stops at the damage.
    """
    packages: list[FoundPackage] = []
    problems: list[HullscanError] = []
    blobs = header_blobs(path, content)
    try:
        for number, blob in enumerate(blobs, start=1):
            try:
                package = package_from_header(path, parse_header(blob, subject=path))
            except CorruptContentError as error:
                problems.append(CorruptContentError(f"header {number} skipped: {error.reason}",
                                                    subject=path))
                continue
            if package is not None:
                packages.append(package)
    except CorruptContentError as error:
        problems.append(error)
    return partial_result(packages, problems)
