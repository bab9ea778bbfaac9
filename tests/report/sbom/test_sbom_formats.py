"""Render the sample catalog in every format, validate it with the format's own library and read
it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from spdx_tools.spdx.parser.json import json_parser
from spdx_tools.spdx.parser.tagvalue import tagvalue_parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from hullscan.catalog.package import Catalog, Package
from hullscan.report.sbom import SBOM_FORMATS, cyclonedx, hullscan_json, read_sbom, spdx
from tests.report.sbom import MANIFEST_DIGEST, SIX_DEB_PURL, sample_catalog


def identity(package: Package) -> tuple[object, ...]:
    return (package.name, package.version, package.type, package.purl,
            package.layer.index if package.layer else None, package.locations)


def full(package: Package) -> tuple[object, ...]:
    """Everything CycloneDX and SPDX carry (all but owned files and ``extra``)."""
    return (*identity(package), package.namespace, package.source_name, package.source_version,
            package.architecture, package.epoch, package.release, package.licenses,
            package.supplier, package.cpes, package.layer, package.deleted_by, package.found_by,
            package.owner, package.development, package.dependencies)


def test_registry_names_every_format() -> None:
    assert set(SBOM_FORMATS) == {"cyclonedx-json", "cyclonedx-xml", "spdx-json",
                                 "spdx-tag-value", "hullscan-json"}
    for name, sbom_format in SBOM_FORMATS.items():
        assert sbom_format.name == name
        assert sbom_format.media_type
        assert sbom_format.render(sample_catalog())


def test_hullscan_json_round_trip_is_exact(tmp_path: Path) -> None:
    catalog = sample_catalog()
    document = hullscan_json.to_document(catalog)
    assert document["schema"] == "hullscan-sbom/1"
    again = hullscan_json.from_document(json.loads(json.dumps(document)))
    assert again == catalog
    assert [p.extra for p in again.packages] == [p.extra for p in catalog.packages]
    assert [p.files for p in again.packages] == [p.files for p in catalog.packages]
    path = tmp_path / "sbom.json"
    path.write_text(SBOM_FORMATS["hullscan-json"].render(catalog))
    assert read_sbom(path) == catalog


def test_cyclonedx_json_validates_against_the_1_6_schema() -> None:
    text = cyclonedx.render_json(sample_catalog())
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, list(errors)
    document = json.loads(text)
    assert document["specVersion"] == "1.6"
    image = document["metadata"]["component"]
    assert image["type"] == "container"
    assert image["version"] == MANIFEST_DIGEST
    assert image["purl"].startswith("pkg:oci/app@sha256:")
    assert "repository_url=localhost:5000/team/app" in image["purl"]
    os_components = [c for c in document["components"] if c["type"] == "operating-system"]
    assert [(c["name"], c["version"]) for c in os_components] == [("debian", "12")]
    passwd = next(c for c in document["components"] if c["name"] == "passwd")
    properties = {(p["name"], p["value"]) for p in passwd["properties"]}
    assert {("hullscan:layer:index", "0"), ("hullscan:source:name", "shadow"),
            ("hullscan:found_by", "dpkg"), ("hullscan:location:path", "var/lib/dpkg/status"),
            ("syft:location:0:path", "/var/lib/dpkg/status"),
            ("hullscan:layer:diff_id", "sha256:" + "a" * 64)} <= properties
    assert passwd["cpe"].startswith("cpe:2.3:a:debian:passwd")
    assert passwd["supplier"]["name"].startswith("Shadow Package Maintainers")
    licences = [entry["license"].get("id") or entry["license"].get("name")
                for entry in passwd["licenses"]]
    assert sorted(licences) == ["BSD-3-Clause", "GPL-2.0-or-later", "public-domain"]
    babel = next(c for c in document["components"] if c["name"] == "@babel/core")
    assert babel["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    assert {"name": "hullscan:development", "value": "true"} in babel["properties"]
    six = next(c for c in document["components"] if c["name"] == "six")
    assert {"name": "hullscan:owner", "value": SIX_DEB_PURL} in six["properties"]
    curl = next(c for c in document["components"] if c["name"] == "curl")
    assert {"name": "hullscan:deleted_by:index", "value": "2"} in curl["properties"]
    six_deb = next(c for c in document["components"] if c["name"] == "python3-six")
    owned = next(d for d in document["dependencies"] if d["ref"] == six_deb["bom-ref"])
    assert owned["dependsOn"] == [six["bom-ref"]]


def test_cyclonedx_xml_validates_against_the_1_6_schema() -> None:
    text = cyclonedx.render_xml(sample_catalog())
    errors = XmlValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, list(errors)
    assert 'name="hullscan:layer:index"' in text


def test_spdx_document_has_no_validation_messages() -> None:
    document = spdx.build_document(sample_catalog())
    assert validate_full_spdx_document(document) == []
    assert document.creation_info.document_namespace.startswith(
        "https://hullscan.invalid/spdxdocs/localhost-5000-team-app-1.0-")
    assert [str(c) for c in document.creation_info.creators] == ["Tool: hullscan-0.1.0"]


@pytest.mark.parametrize("format_name", ["spdx-json", "spdx-tag-value"])
def test_spdx_output_parses_and_validates(tmp_path: Path, format_name: str) -> None:
    suffix = ".spdx.json" if format_name == "spdx-json" else ".spdx"
    path = tmp_path / f"sbom{suffix}"
    path.write_text(SBOM_FORMATS[format_name].render(sample_catalog()))
    parser = json_parser if format_name == "spdx-json" else tagvalue_parser
    document = parser.parse_from_file(str(path))
    assert validate_full_spdx_document(document) == []
    by_name = {package.name: package for package in document.packages}
    passwd = by_name["passwd"]
    assert str(passwd.license_declared) == (
        "GPL-2.0-or-later AND BSD-3-Clause AND LicenseRef-public-domain")
    assert [(ref.reference_type, ref.category.name) for ref in passwd.external_references] == [
        ("purl", "PACKAGE_MANAGER"), ("cpe23Type", "SECURITY"), ("cpe23Type", "SECURITY")]
    assert str(by_name["log4j-core"].license_declared).startswith("LicenseRef-")
    comments = {a.annotation_comment for a in document.annotations
                if a.spdx_id == passwd.spdx_id}
    assert "hullscan:layer:index=0" in comments
    assert "hullscan:source:name=shadow" in comments
    kinds = {(r.spdx_element_id, r.relationship_type.name) for r in document.relationships}
    assert ("SPDXRef-DOCUMENT", "DESCRIBES") in kinds
    contains = [r for r in document.relationships if r.relationship_type.name == "CONTAINS"
                and r.spdx_element_id == "SPDXRef-Image"]
    assert len(contains) == len(sample_catalog().packages) + 1  # and the distribution


def _compare_read_back(original: Catalog, back: Catalog) -> None:
    assert sorted(map(identity, back.packages)) == sorted(map(identity, original.packages))
    assert sorted(map(full, back.packages)) == sorted(map(full, original.packages))
    assert back.distro == original.distro
    assert back.scope == original.scope
    assert back.anomalies == original.anomalies
    image, want = back.image, original.image
    assert (image.reference, image.source, image.name, image.manifest_digest,
            image.index_digest, image.image_id, image.platform) == (
        want.reference, want.source, want.name, want.manifest_digest, want.index_digest,
        want.image_id, want.platform)
    assert [(layer.index, layer.diff_id, layer.digest, layer.created_by)
            for layer in image.layers] == [(layer.index, layer.diff_id, layer.digest,
                                            layer.created_by) for layer in want.layers]


@pytest.mark.parametrize("format_name", ["cyclonedx-json", "spdx-json"])
def test_read_back_gives_the_same_packages(tmp_path: Path, format_name: str) -> None:
    catalog = sample_catalog()
    path = tmp_path / "sbom.json"
    path.write_text(SBOM_FORMATS[format_name].render(catalog))
    _compare_read_back(catalog, read_sbom(path))


def test_the_format_table_names_each_module_s_own_media_type() -> None:
    constants = {"cyclonedx-json": cyclonedx.JSON_MEDIA_TYPE,
                 "cyclonedx-xml": cyclonedx.XML_MEDIA_TYPE,
                 "spdx-json": spdx.JSON_MEDIA_TYPE, "spdx-tag-value": spdx.TAG_VALUE_MEDIA_TYPE,
                 "hullscan-json": hullscan_json.MEDIA_TYPE}
    assert {name: f.media_type for name, f in SBOM_FORMATS.items()} == constants
