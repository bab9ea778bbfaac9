"""What hullscan's CycloneDX components and dependency graph hold, for both CycloneDX writers.

The metadata component is the image (type ``container``, version = its digest, a ``pkg:oci``
purl where the manifest digest is known); the distribution is an ``operating-system``
component; every package is a ``library`` component with its purl, first CPE (the others as
Syft's ``syft:cpe23`` properties), licences, supplier and hullscan's facts as ``hullscan:``
properties. Syft's ``syft:package:foundBy`` and ``syft:location:N:path`` / ``layerID`` are
written as well so that tools reading Syft's properties find them.

The image depends on every package; a package depends on the packages its dependency names
resolve to (same type, one package of that name) and on the packages it owns. The library
writer (:mod:`.cyclonedx`) and the direct JSON writer (:mod:`.cyclonedx_json`) both take these
decisions from here; neither module is imported by this one.
"""

from __future__ import annotations

from packageurl import PackageURL

from hullscan.catalog.package import Package
from hullscan.image.distro import Distro
from hullscan.image.model import ImageMetadata
from hullscan.report.sbom.facts import (
    PREFIX,
    image_purl,
    package_facts,
    package_ref,
    parse_purl,
    split_image_name,
)

IMAGE_REF = "image"
"""The image component's bom-ref."""
TOOL_NAME = "hullscan"
GROUPED_TYPES = frozenset({"maven", "golang", "composer"})
"""Package types whose namespace is the CycloneDX ``group``."""


def package_bom_ref(position: int, package: Package) -> str:
    """The bom-ref of the package at ``position`` in the catalog."""
    return f"pkg:{package_ref(position, package)}"


def os_bom_ref(distro: Distro) -> str:
    """The bom-ref of the operating-system component."""
    return f"os:{distro.id}"


def package_group(package: Package) -> str | None:
    """The component's ``group``: the namespace for Maven, Go and Composer packages."""
    return package.namespace if package.type in GROUPED_TYPES else None


def package_properties(package: Package, purl: PackageURL | None) -> list[tuple[str, str]]:
    """Every property of a package component, ``purl`` being :func:`parse_purl`'s answer (a
    purl that does not parse is kept as ``hullscan:purl``). Unordered: CycloneDX writers sort."""
    properties = package_facts(package)
    if package.purl and purl is None:
        properties.append((PREFIX + "purl", package.purl))
    if package.found_by:
        properties.append(("syft:package:foundBy", package.found_by))
    properties += [("syft:cpe23", cpe) for cpe in package.cpes[1:]]
    layer_id = package.layer.diff_id if package.layer is not None else None
    for index, location in enumerate(package.locations):
        properties.append((f"syft:location:{index}:path", "/" + location))
        if layer_id:
            properties.append((f"syft:location:{index}:layerID", layer_id))
    return properties


def image_name(image: ImageMetadata) -> str:
    """The image component's name: the repository, without tag or digest."""
    return split_image_name(image.name or image.reference)[0]


def image_version(image: ImageMetadata) -> str | None:
    """The image component's version: the manifest digest, else the image ID."""
    return image.manifest_digest or image.image_id


def image_component_purl(image: ImageMetadata) -> PackageURL | None:
    """The image component's purl (see :func:`~.facts.image_purl`)."""
    purl = image_purl(image)
    return PackageURL.from_string(purl) if purl else None


def dependency_targets(packages: tuple[Package, ...]) -> list[list[int]]:
    """For each package (by position), the positions of the packages it depends on or owns.

    A dependency name resolves when exactly one other package of the same type has that name;
    an owner is the first package with the owner's purl. Repeats are possible (writers drop
    them); a package never depends on itself.
    """
    by_purl: dict[str, int] = {}
    by_name: dict[tuple[str, str], list[int]] = {}
    for position, package in enumerate(packages):
        by_purl.setdefault(package.purl, position)
        by_name.setdefault((package.type, package.name), []).append(position)
    targets: list[list[int]] = [[] for _ in packages]
    for position, package in enumerate(packages):
        for name in package.dependencies:
            candidates = by_name.get((package.type, name), [])
            if len(candidates) == 1 and candidates[0] != position:
                targets[position].append(candidates[0])
    for position, package in enumerate(packages):
        owner = by_purl.get(package.owner) if package.owner else None
        if owner is not None and owner != position:
            targets[owner].append(position)
    return targets


__all__ = ["IMAGE_REF", "TOOL_NAME", "dependency_targets", "image_component_purl", "image_name",
           "image_version", "os_bom_ref", "package_bom_ref", "package_group",
           "package_properties", "parse_purl"]
