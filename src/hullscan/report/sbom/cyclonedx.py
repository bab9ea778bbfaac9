"""CycloneDX 1.6 through ``cyclonedx-python-lib``: the XML document and the BOM object.

What the components hold is decided in :mod:`.cyclonedx_components`. JSON is written by
:mod:`.cyclonedx_json` without the library (:func:`render_json` is that writer); the BOM object
built here is what XML and the VEX report (:mod:`hullscan.report.vex`) are written from, and
what the JSON writer is tested against.
"""

from __future__ import annotations

from typing import Any

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion

from hullscan import __version__
from hullscan.catalog.package import Catalog, Package
from hullscan.report.sbom.cyclonedx_components import (
    IMAGE_REF,
    TOOL_NAME,
    dependency_targets,
    image_component_purl,
    image_name,
    image_version,
    os_bom_ref,
    package_bom_ref,
    package_group,
    package_properties,
    parse_purl,
)
from hullscan.report.sbom.cyclonedx_json import MEDIA_TYPE as JSON_MEDIA_TYPE
from hullscan.report.sbom.cyclonedx_json import render as render_json
from hullscan.report.sbom.cyclonedx_licenses import LicenseEntry, LicenseKind, license_entries
from hullscan.report.sbom.facts import (
    PREFIX,
    image_facts,
    image_purl,
    layer_text,
    package_facts,
    package_ref,
    split_image_name,
)

SCHEMA_VERSION = SchemaVersion.V1_6
XML_MEDIA_TYPE = "application/vnd.cyclonedx+xml; version=1.6"


def render_xml(catalog: Catalog) -> str:
    """CycloneDX 1.6 XML text."""
    return make_outputter(build_bom(catalog), OutputFormat.XML, SCHEMA_VERSION).output_as_string(
        indent=2) + "\n"


def _license(entry: LicenseEntry) -> License:
    if entry.kind is LicenseKind.EXPRESSION:
        return LicenseExpression(entry.value)
    if entry.kind is LicenseKind.SPDX_ID:
        return DisjunctiveLicense(id=entry.value)
    return DisjunctiveLicense(name=entry.value)


def _package_component(position: int, package: Package) -> Component:
    purl = parse_purl(package.purl)
    return Component(
        type=ComponentType.LIBRARY,
        bom_ref=package_bom_ref(position, package),
        name=package.name,
        group=package_group(package),
        version=package.version,
        purl=purl,
        cpe=package.cpes[0] if package.cpes else None,
        licenses=[_license(entry) for entry in license_entries(package.licenses)],
        supplier=OrganizationalEntity(name=package.supplier) if package.supplier else None,
        properties=[Property(name=name, value=value)
                    for name, value in package_properties(package, purl)],
    )


def _image_component(catalog: Catalog) -> Component:
    image = catalog.image
    return Component(
        type=ComponentType.CONTAINER,
        bom_ref=IMAGE_REF,
        name=image_name(image),
        version=image_version(image),
        purl=image_component_purl(image),
        properties=[Property(name=name, value=value) for name, value in image_facts(catalog)],
    )


def build_bom(catalog: Catalog) -> Bom:
    """The catalog as a CycloneDX BOM object."""
    tool = Component(type=ComponentType.APPLICATION, name=TOOL_NAME, version=__version__)
    image = _image_component(catalog)
    bom = Bom(metadata=BomMetaData(tools=ToolRepository(components=[tool]), component=image))
    components = [_package_component(position, package)
                  for position, package in enumerate(catalog.packages)]
    if catalog.distro is not None:
        distro = catalog.distro
        os_component = Component(
            type=ComponentType.OPERATING_SYSTEM, bom_ref=os_bom_ref(distro),
            name=distro.id, version=distro.version_id, description=distro.pretty_name)
        bom.components.add(os_component)
    bom.components.update(components)
    edges = [(image, components)] + [
        (component, [components[target] for target in targets])
        for component, targets in zip(components, dependency_targets(catalog.packages),
                                      strict=True)]
    # The graph is built here, not with Bom.register_dependency: that searches every
    # registered dependency per call (quadratic: 17 s of a 2,800-package image's SBOM).
    bom.dependencies.update(
        Dependency(ref=source.bom_ref,
                   dependencies=[Dependency(ref=target.bom_ref) for target in targets])
        for source, targets in edges)
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


# The facts and the JSON writer are re-exported: the SPDX writer, the VEX report, ``promote``
# and Harbor import them from here (from .facts and .cyclonedx_json they would not pay for
# importing the library).
__all__ = ["JSON_MEDIA_TYPE", "PREFIX", "SCHEMA_VERSION", "XML_MEDIA_TYPE", "build_bom",
           "image_facts", "image_purl", "layer_text", "package_facts", "package_ref",
           "render_json", "render_xml", "split_image_name"]
