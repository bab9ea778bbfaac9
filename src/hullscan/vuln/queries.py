"""Which vulnerability namespace and package name to look a catalogued package up under."""

from __future__ import annotations

from dataclasses import dataclass

from hullscan.catalog.package import Package
from hullscan.image.distro import Distro
from hullscan.vuln.db.namespaces import distro_namespace, normalise_package

_LANGUAGE_NAMESPACES = {"pypi": "pypi", "npm": "npm", "golang": "go", "cargo": "crates.io",
                        "maven": "maven", "nuget": "nuget", "gem": "rubygems",
                        "composer": "packagist"}
_RPM_FAMILY = {"almalinux", "rocky", "rhel", "centos"}


@dataclass(frozen=True)
class MatchQuery:
    """One lookup: namespace, normalised name and the version to compare."""

    namespace: str
    name: str
    version: str


def queries_for(package: Package, distro: Distro | None) -> list[MatchQuery]:
    """The lookups for a package. OS packages are matched by their distro's data only (the
    distro's verdict is the one that applies to its builds), by source package first."""
    if package.type in _LANGUAGE_NAMESPACES:
        namespace = _LANGUAGE_NAMESPACES[package.type]
        name = _language_name(package)
        return [MatchQuery(namespace, normalise_package(namespace, name), package.version)]
    if distro is None or not distro.version_id:
        return []
    if package.type == "deb" and distro.id in ("debian", "ubuntu"):
        release = distro.version_id.split(".")[0] if distro.id == "debian" \
            else distro.version_id
        namespace = f"{distro.id}:{release}"
        # Debian data is keyed by source package and source version (binNMUs add +bN).
        version = package.source_version or package.version
        return _names(namespace, package, version)
    if package.type == "apk" and distro.id == "alpine":
        return _names(distro_namespace("alpine", distro.version_id), package, package.version)
    if package.type == "rpm" and (distro.id in _RPM_FAMILY
                                  or _RPM_FAMILY & set(distro.id_like)):
        family = distro.id if distro.id in _RPM_FAMILY else "rhel"
        version = f"{package.epoch}:{package.version}" if package.epoch else package.version
        return _names(distro_namespace(family, distro.version_id), package, version)
    return []


def _names(namespace: str, package: Package, version: str) -> list[MatchQuery]:
    names = [package.source_name, package.name] if package.source_name else [package.name]
    seen = dict.fromkeys(n for n in names if n)
    return [MatchQuery(namespace, name, version) for name in seen]


def _language_name(package: Package) -> str:
    if package.type == "maven" and package.namespace:
        return f"{package.namespace}:{package.name}"
    if package.type in ("golang", "composer") and package.namespace:
        return f"{package.namespace}/{package.name}"
    return package.name
