"""SPDX 2.3 (JSON and tag-value) through ``spdx-tools``.

The document DESCRIBES an image package (purpose ``CONTAINER``), which CONTAINS the
distribution (purpose ``OPERATING-SYSTEM``) and every package. Each package carries its purl
(``PACKAGE-MANAGER``/``purl``), its CPEs (``SECURITY``/``cpe23Type``), ``licenseDeclared`` (an
SPDX expression; licences that are not SPDX become ``LicenseRef-`` entries with extracted
text), its supplier and ``sourceInfo``. hullscan's facts are annotations of type ``OTHER``
whose comment is one ``hullscan:key=value`` fact, as in CycloneDX's properties. An owning OS
package CONTAINS the packages it owns; resolved dependencies are ``DEPENDS_ON``.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from license_expression import ExpressionError  # type: ignore[import-untyped]
from spdx_tools.common.spdx_licensing import spdx_licensing  # type: ignore[import-untyped]
from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.annotation import Annotation, AnnotationType
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
from spdx_tools.spdx.model.package import (
    ExternalPackageRef,
    ExternalPackageRefCategory,
    PackagePurpose,
)
from spdx_tools.spdx.model.package import Package as SpdxPackage
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.writer.json import json_writer
from spdx_tools.spdx.writer.tagvalue import tagvalue_writer

from hullscan import __version__
from hullscan.catalog.package import Catalog, Package
from hullscan.report.sbom.facts import (
    image_facts,
    image_purl,
    package_facts,
    package_ref,
    split_image_name,
)

JSON_MEDIA_TYPE = "application/spdx+json"
TAG_VALUE_MEDIA_TYPE = "text/spdx"
NAMESPACE_BASE = "https://hullscan.invalid/spdxdocs/"
IMAGE_ID = "SPDXRef-Image"
TOOL = f"hullscan-{__version__}"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")
_SUPPLIER = re.compile(r"^(.*?)\s*<([^<>]*)>\s*$")


def render_json(catalog: Catalog) -> str:
    """SPDX 2.3 JSON text."""
    stream = io.StringIO()
    json_writer.write_document_to_stream(build_document(catalog), stream, validate=False)
    return stream.getvalue() + "\n"


def render_tag_value(catalog: Catalog) -> str:
    """SPDX 2.3 tag-value text."""
    stream = io.StringIO()
    tagvalue_writer.write_document_to_stream(build_document(catalog), stream, validate=False)
    return stream.getvalue()


def _safe(text: str) -> str:
    return _ID_UNSAFE.sub("-", text).strip("-") or "x"


def supplier_actor(supplier: str) -> Actor:
    """``Name <mail>`` as an SPDX organisation with an e-mail address."""
    match = _SUPPLIER.match(supplier)
    if match and match.group(1):
        return Actor(ActorType.ORGANIZATION, match.group(1), match.group(2) or None)
    return Actor(ActorType.ORGANIZATION, supplier)


class _Licences:
    """Turn licence strings into SPDX expressions, collecting ``LicenseRef-`` texts."""

    def __init__(self) -> None:
        self.extracted: dict[str, ExtractedLicensingInfo] = {}

    def term(self, text: str) -> str:
        try:
            info = spdx_licensing.validate(text, strict=True)
        except (ExpressionError, AttributeError):  # the library fails so on odd keys
            info = None
        if info is not None and not info.errors and not info.invalid_symbols:
            expression = str(info.normalized_expression)
            return f"({expression})" if " " in expression else expression
        licence_id = "LicenseRef-" + _safe(text)
        if licence_id not in self.extracted:
            self.extracted[licence_id] = ExtractedLicensingInfo(
                license_id=licence_id, extracted_text=text, license_name=text)
        return licence_id

    def declared(self, licences: tuple[str, ...]) -> Any:
        if not licences:
            return SpdxNoAssertion()
        terms = [self.term(text) for text in licences]
        return spdx_licensing.parse(" AND ".join(dict.fromkeys(terms)))


def _annotations(spdx_id: str, facts: list[tuple[str, str]], created: datetime) -> list[Annotation]:
    annotator = Actor(ActorType.TOOL, TOOL)
    return [Annotation(spdx_id, AnnotationType.OTHER, annotator, created, f"{key}={value}")
            for key, value in facts]


def _source_info(package: Package) -> str | None:
    if not package.locations:
        return None
    return f"acquired package info from {package.found_by or 'hullscan'}: " + ", ".join(
        package.locations)


def _package(spdx_id: str, package: Package, licences: _Licences) -> SpdxPackage:
    refs = []
    if package.purl:
        refs.append(ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl",
                                       package.purl))
    refs += [ExternalPackageRef(ExternalPackageRefCategory.SECURITY, "cpe23Type", cpe)
             for cpe in package.cpes]
    return SpdxPackage(
        spdx_id=spdx_id,
        name=package.name,
        download_location=SpdxNoAssertion(),
        version=package.version,
        supplier=supplier_actor(package.supplier) if package.supplier else SpdxNoAssertion(),
        files_analyzed=False,
        source_info=_source_info(package),
        license_concluded=SpdxNoAssertion(),
        license_declared=licences.declared(package.licenses),
        copyright_text=SpdxNoAssertion(),
        external_references=refs,
        primary_package_purpose=PackagePurpose.LIBRARY,
    )


def build_document(catalog: Catalog) -> Document:
    """The catalog as an ``spdx_tools`` document."""
    image = catalog.image
    created = datetime.now(UTC).replace(microsecond=0)
    title = image.name or image.reference
    creation = CreationInfo(
        spdx_version="SPDX-2.3", spdx_id="SPDXRef-DOCUMENT", name=title,
        document_namespace=f"{NAMESPACE_BASE}{_safe(title)}-{uuid.uuid4()}",
        creators=[Actor(ActorType.TOOL, TOOL)], created=created)
    repository, _ = split_image_name(title)
    purl = image_purl(image)
    image_package = SpdxPackage(
        spdx_id=IMAGE_ID, name=repository, download_location=SpdxNoAssertion(),
        version=image.manifest_digest or image.image_id, files_analyzed=False,
        primary_package_purpose=PackagePurpose.CONTAINER,
        external_references=[ExternalPackageRef(
            ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)] if purl else [])
    packages: list[SpdxPackage] = [image_package]
    annotations = _annotations(IMAGE_ID, image_facts(catalog), created)
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, IMAGE_ID)]
    if catalog.distro is not None:
        distro = catalog.distro
        os_id = f"SPDXRef-OperatingSystem-{_safe(distro.id)}"
        packages.append(SpdxPackage(
            spdx_id=os_id, name=distro.id, download_location=SpdxNoAssertion(),
            version=distro.version_id, files_analyzed=False, description=distro.pretty_name,
            primary_package_purpose=PackagePurpose.OPERATING_SYSTEM))
        relationships.append(Relationship(IMAGE_ID, RelationshipType.CONTAINS, os_id))
    licences = _Licences()
    ids: list[str] = []
    by_purl: dict[str, str] = {}
    by_name: dict[tuple[str, str], list[str]] = {}
    for position, package in enumerate(catalog.packages):
        spdx_id = (f"SPDXRef-Package-{_safe(package.type)}-{_safe(package.name)}-"
                   f"{package_ref(position, package)}")
        ids.append(spdx_id)
        by_purl.setdefault(package.purl, spdx_id)
        by_name.setdefault((package.type, package.name), []).append(spdx_id)
        packages.append(_package(spdx_id, package, licences))
        annotations += _annotations(spdx_id, package_facts(package), created)
        relationships.append(Relationship(IMAGE_ID, RelationshipType.CONTAINS, spdx_id))
    for package, spdx_id in zip(catalog.packages, ids, strict=True):
        owner = by_purl.get(package.owner) if package.owner else None
        if owner is not None and owner != spdx_id:
            relationships.append(Relationship(owner, RelationshipType.CONTAINS, spdx_id))
        for name in package.dependencies:
            targets = by_name.get((package.type, name), [])
            if len(targets) == 1 and targets[0] != spdx_id:
                relationships.append(
                    Relationship(spdx_id, RelationshipType.DEPENDS_ON, targets[0]))
    return Document(creation_info=creation, packages=packages, annotations=annotations,
                    relationships=relationships,
                    extracted_licensing_info=list(licences.extracted.values()))
