"""CycloneDX 1.6 (JSON and XML) through ``cyclonedx-python-lib``.

The metadata component is the image (type ``container``, version = its digest, a ``pkg:oci``
purl where the manifest digest is known); the distribution is an ``operating-system``
component; every package is a ``library`` component with its purl, first CPE (the others as
Syft's ``syft:cpe23`` properties), licences, supplier and hullscan's facts as ``hullscan:``
properties. Syft's ``syft:package:foundBy`` and ``syft:location:N:path`` / ``layerID`` are
written as well so that tools reading Syft's properties find them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import DisjunctiveLicense, License
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.spdx import fixup_id
from packageurl import PackageURL

from hullscan import __version__
from hullscan.catalog.package import Catalog, LayerRef, Package
from hullscan.image.model import ImageMetadata

SCHEMA_VERSION = SchemaVersion.V1_6
JSON_MEDIA_TYPE = "application/vnd.cyclonedx+json; version=1.6"
XML_MEDIA_TYPE = "application/vnd.cyclonedx+xml; version=1.6"
PREFIX = "hullscan:"


def render_json(catalog: Catalog) -> str:
    """CycloneDX 1.6 JSON text."""
    text = make_outputter(build_bom(catalog), OutputFormat.JSON, SCHEMA_VERSION).output_as_string(
        indent=2)
    return text + "\n"


def render_xml(catalog: Catalog) -> str:
    """CycloneDX 1.6 XML text."""
    return make_outputter(build_bom(catalog), OutputFormat.XML, SCHEMA_VERSION).output_as_string(
        indent=2) + "\n"


def split_image_name(name: str) -> tuple[str, str | None]:
    """``registry/repo:tag`` -> (``registry/repo``, ``tag``); a digest suffix is dropped."""
    name = name.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:]
    return name, None


def image_purl(image: ImageMetadata) -> str | None:
    """``pkg:oci/NAME@DIGEST?repository_url=...&tag=...`` when the manifest digest is known."""
    if image.manifest_digest is None:
        return None
    repository, tag = split_image_name(image.name or image.reference)
    last = repository.rsplit("/", 1)[-1].lower() or "image"
    qualifiers: dict[str, str] = {}
    if "/" in repository:
        qualifiers["repository_url"] = repository
    if image.platform is not None:
        qualifiers["arch"] = image.platform.architecture
    if tag:
        qualifiers["tag"] = tag
    return PackageURL(type="oci", name=last, version=image.manifest_digest,
                      qualifiers=qualifiers).to_string()


def layer_text(image: ImageMetadata, index: int) -> str:
    """One image layer as compact JSON (the value of ``hullscan:image:layer``)."""
    layer = image.layers[index]
    return json.dumps({"index": layer.index, "diff_id": layer.diff_id, "digest": layer.digest,
                       "created_by": layer.created_by}, separators=(",", ":"))


def image_facts(catalog: Catalog) -> list[tuple[str, str]]:
    """``hullscan:`` facts about the image, scope and anomalies, in order."""
    image = catalog.image
    facts = [("scope", catalog.scope.value), ("image:reference", image.reference),
             ("image:source", image.source.value)]
    optional = [("image:name", image.name), ("image:manifest_digest", image.manifest_digest),
                ("image:index_digest", image.index_digest),
                ("image:manifest_media_type", image.manifest_media_type),
                ("image:image_id", image.image_id)]
    facts += [(key, value) for key, value in optional if value is not None]
    if image.platform is not None:
        platform = image.platform
        facts.append(("image:platform", "/".join(
            filter(None, (platform.os, platform.architecture, platform.variant)))))
    facts += [("image:layer", layer_text(image, index)) for index in range(len(image.layers))]
    facts += [(f"anomaly:{index}", anomaly) for index, anomaly in enumerate(catalog.anomalies)]
    if catalog.distro is not None:
        distro = catalog.distro
        facts.append(("distro:id", distro.id))
        facts += [(key, value) for key, value in (
            ("distro:version_id", distro.version_id), ("distro:pretty_name", distro.pretty_name),
            ("distro:codename", distro.codename), ("distro:support_ends", distro.support_ends),
            ("distro:end_of_life", None if distro.end_of_life is None
             else str(distro.end_of_life).lower())) if value is not None]
        if distro.id_like:
            facts.append(("distro:id_like", " ".join(distro.id_like)))
    return [(PREFIX + key, value) for key, value in facts]


def _layer_facts(prefix: str, ref: LayerRef | None) -> list[tuple[str, str]]:
    if ref is None:
        return []
    facts = [(f"{prefix}:index", str(ref.index))]
    if ref.diff_id is not None:
        facts.append((f"{prefix}:diff_id", ref.diff_id))
    if ref.created_by is not None:
        facts.append((f"{prefix}:created_by", ref.created_by))
    return facts


def package_facts(package: Package) -> list[tuple[str, str]]:
    """``hullscan:`` facts about one package that CycloneDX and SPDX have no field for.

    Multi-valued facts whose order matters carry their position in the key
    (``hullscan:license:0``); ``hullscan:location:path`` is repeated, one per location (the order
    is kept by Syft's ``syft:location:N:path`` in CycloneDX).
    """
    facts: list[tuple[str, str]] = [("type", package.type)]
    optional = [("namespace", package.namespace), ("source:name", package.source_name),
                ("source:version", package.source_version),
                ("architecture", package.architecture),
                ("epoch", None if package.epoch is None else str(package.epoch)),
                ("release", package.release), ("owner", package.owner)]
    facts += [(key, value) for key, value in optional if value is not None]
    if package.found_by:
        facts.append(("found_by", package.found_by))
    facts += _layer_facts("layer", package.layer)
    facts += _layer_facts("deleted_by", package.deleted_by)
    facts += [("location:path", location) for location in package.locations]
    facts += [(f"license:{index}", text) for index, text in enumerate(package.licenses)]
    facts += [(f"dependency:{index}", name) for index, name in enumerate(package.dependencies)]
    if package.development:
        facts.append(("development", "true"))
    return [(PREFIX + key, value) for key, value in facts]


def package_ref(position: int, package: Package) -> str:
    """A document-unique, stable reference for a package (bom-ref, SPDX ID suffix)."""
    key = "\0".join((str(position), package.purl, package.name, package.version,
                     *package.locations))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _licenses(package: Package) -> list[License]:
    factory = LicenseFactory()
    if len(package.licenses) == 1:
        return [factory.make_from_string(package.licenses[0])]
    licences: list[License] = []
    for text in package.licenses:
        licences.append(DisjunctiveLicense(id=spdx_id) if (spdx_id := fixup_id(text))
                        else DisjunctiveLicense(name=text))
    return licences


def _syft_properties(package: Package) -> list[Property]:
    properties: list[Property] = []
    if package.found_by:
        properties.append(Property(name="syft:package:foundBy", value=package.found_by))
    properties += [Property(name="syft:cpe23", value=cpe) for cpe in package.cpes[1:]]
    for index, location in enumerate(package.locations):
        properties.append(Property(name=f"syft:location:{index}:path", value="/" + location))
        if package.layer is not None and package.layer.diff_id:
            properties.append(Property(name=f"syft:location:{index}:layerID",
                                       value=package.layer.diff_id))
    return properties


def _purl(text: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _package_component(position: int, package: Package) -> Component:
    purl = _purl(package.purl) if package.purl else None
    properties = [Property(name=name, value=value) for name, value in package_facts(package)]
    if package.purl and purl is None:
        properties.append(Property(name=PREFIX + "purl", value=package.purl))
    group = package.namespace if package.type in ("maven", "golang", "composer") else None
    return Component(
        type=ComponentType.LIBRARY,
        bom_ref=f"pkg:{package_ref(position, package)}",
        name=package.name,
        group=group,
        version=package.version,
        purl=purl,
        cpe=package.cpes[0] if package.cpes else None,
        licenses=_licenses(package),
        supplier=OrganizationalEntity(name=package.supplier) if package.supplier else None,
        properties=properties + _syft_properties(package),
    )


def _image_component(catalog: Catalog) -> Component:
    image = catalog.image
    repository, _ = split_image_name(image.name or image.reference)
    purl = image_purl(image)
    return Component(
        type=ComponentType.CONTAINER,
        bom_ref="image",
        name=repository,
        version=image.manifest_digest or image.image_id,
        purl=PackageURL.from_string(purl) if purl else None,
        properties=[Property(name=name, value=value) for name, value in image_facts(catalog)],
    )


def build_bom(catalog: Catalog) -> Bom:
    """The catalog as a CycloneDX BOM object."""
    tool = Component(type=ComponentType.APPLICATION, name="hullscan", version=__version__)
    image = _image_component(catalog)
    bom = Bom(metadata=BomMetaData(tools=ToolRepository(components=[tool]), component=image))
    components = [_package_component(position, package)
                  for position, package in enumerate(catalog.packages)]
    if catalog.distro is not None:
        distro = catalog.distro
        os_component = Component(
            type=ComponentType.OPERATING_SYSTEM, bom_ref=f"os:{distro.id}",
            name=distro.id, version=distro.version_id, description=distro.pretty_name)
        bom.components.add(os_component)
    by_purl: dict[str, Component] = {}
    by_name: dict[tuple[str, str], list[Component]] = {}
    for package, component in zip(catalog.packages, components, strict=True):
        bom.components.add(component)
        by_purl.setdefault(package.purl, component)
        by_name.setdefault((package.type, package.name), []).append(component)
    edges: dict[int, tuple[Component, list[Component]]] = {id(image): (image, components)}
    for package, component in zip(catalog.packages, components, strict=True):
        edges.setdefault(id(component), (component, []))
        for name in package.dependencies:
            candidates = by_name.get((package.type, name), [])
            if len(candidates) == 1 and candidates[0] is not component:
                edges[id(component)][1].append(candidates[0])
    for package, component in zip(catalog.packages, components, strict=True):
        owner = by_purl.get(package.owner) if package.owner else None
        if owner is not None and owner is not component:
            edges.setdefault(id(owner), (owner, []))[1].append(component)
    # The graph is built here, not with Bom.register_dependency: that searches every
    # registered dependency per call (quadratic: 17 s of a 2,800-package image's SBOM).
    bom.dependencies.update(
        Dependency(ref=source.bom_ref,
                   dependencies=[Dependency(ref=target.bom_ref) for target in targets])
        for source, targets in edges.values())
    _index_registrations(bom)
    return bom


def _index_registrations(bom: Bom) -> None:
    """Answer the library's own re-registrations from an index.

    The outputters call ``Bom.validate()``, which registers every component again, each a
    linear search (4 s of a 2,800-package SBOM). Every component is registered already, and
    registering a known target with nothing new does nothing: an index gives that answer;
    anything else goes to the library's method.
    """
    known = {dependency.ref for dependency in bom.dependencies}
    register = bom.register_dependency

    def indexed(target: Any, depends_on: Any = None) -> None:
        if depends_on or target.bom_ref not in known:
            register(target, depends_on)
            known.add(target.bom_ref)
    bom.register_dependency = indexed  # type: ignore[method-assign]


__all__ = ["build_bom", "render_json", "render_xml"]
