"""Package URLs (with distro qualifiers for OS packages) and CPE 2.3 candidates."""

from __future__ import annotations

import re

from packageurl import PackageURL

from hullscan.catalog.model import FoundPackage
from hullscan.image.distro import Distro

OS_ECOSYSTEMS = frozenset({"deb", "apk", "rpm"})


def purl_of(package: FoundPackage, distro: Distro | None) -> str:
    """The Package URL of a found package, as the purl spec and the anchors write it."""
    name, namespace = package.name, package.namespace
    qualifiers: dict[str, str] = {}
    if package.ecosystem in OS_ECOSYSTEMS:
        namespace = distro.id if distro else None
        if package.architecture:
            qualifiers["arch"] = package.architecture
        if package.epoch:
            qualifiers["epoch"] = str(package.epoch)
        if distro is not None and distro.version_id:
            qualifiers["distro"] = f"{distro.id}-{distro.version_id}"
        if package.source_name and package.source_name != package.name:
            upstream = package.source_name
            if package.source_version and package.source_version != package.version:
                upstream += f"@{package.source_version}"
            qualifiers["upstream"] = upstream
    elif package.ecosystem == "pypi":
        name = re.sub(r"[-_.]+", "-", name).lower()
    elif package.ecosystem == "npm" and name.startswith("@") and "/" in name:
        namespace, _, name = name.partition("/")
    subpath = package.extra.get("subpath") if package.ecosystem == "golang" else None
    return str(PackageURL(type=package.ecosystem, namespace=namespace, name=name,
                          version=package.version or None, qualifiers=qualifiers or None,
                          subpath=subpath or None))


_CPE_UNSAFE = re.compile(r"([^A-Za-z0-9._-])")


def _cpe_part(text: str) -> str:
    return _CPE_UNSAFE.sub(r"\\\1", text.lower().replace(" ", "_")) or "*"


def cpe_candidates(package: FoundPackage) -> tuple[str, ...]:
    """CPE 2.3 candidates for optional NVD matching (never used by default)."""
    if not package.version:
        return ()
    product = _cpe_part(package.name.rpartition("/")[2].lstrip("@"))
    vendors = [product]
    if package.ecosystem == "maven" and package.namespace:
        vendors.insert(0, _cpe_part(package.namespace.rpartition(".")[2]))
    elif package.ecosystem in OS_ECOSYSTEMS and package.source_name:
        vendors.append(_cpe_part(package.source_name))
    version = package.version.split(":", 1)[-1]
    if package.ecosystem in OS_ECOSYSTEMS:
        version = version.rsplit("-", 1)[0]  # upstream part, without the distro revision
    seen: dict[str, None] = {}
    for vendor in vendors:
        seen[f"cpe:2.3:a:{vendor}:{product}:{_cpe_part(version)}:*:*:*:*:*:*:*"] = None
    return tuple(seen)
