"""The direct CycloneDX JSON writer writes the document cyclonedx-python-lib writes.

Every catalog is rendered twice, by :func:`library_json` (the library's JSON outputter over
:func:`~hullscan.report.sbom.cyclonedx.build_bom`, as hullscan wrote CycloneDX JSON before) and
by :func:`~hullscan.report.sbom.cyclonedx_json.render`; only the serial number and the
timestamp may differ. Catalogs: the shared sample, real images (``catalog:1``, ``vulnerable:1``
and ``clean:1`` in both scopes, ``debian-test:1``), hand-built edge cases and generated ones.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.spdx import fixup_id
from cyclonedx.validation.json import JsonStrictValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from hullscan.catalog.package import Catalog, LayerRef, Package, Scope
from hullscan.image.distro import Distro
from hullscan.image.reference import SourceKind
from hullscan.image.sources.interface import AcquireOptions
from hullscan.pipeline import load_catalog
from hullscan.report.sbom import SBOM_FORMATS, cyclonedx, cyclonedx_json
from hullscan.report.sbom.cyclonedx_licenses import LicenseKind, license_entries
from tests.report.sbom import DIFF_IDS, LAYERS, sample_catalog, sample_image
from tests.support.catalog_image import CatalogImage
from tests.support.standard_images import BuiltImage
from tests.support.vulnerable_image import VulnerableImage

SERIAL = re.compile(r'^  "serialNumber": "urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}",$',
                    re.MULTILINE)
TIMESTAMP = re.compile(r'^    "timestamp": "([^"]+)",$', re.MULTILINE)


def library_json(catalog: Catalog) -> str:
    """CycloneDX JSON as cyclonedx-python-lib writes it (hullscan's writer until 2026-11)."""
    with warnings.catch_warnings():
        # The library warns when the image depends on nothing (an image without packages).
        warnings.simplefilter("ignore", UserWarning)
        return make_outputter(cyclonedx.build_bom(catalog), OutputFormat.JSON,
                              SchemaVersion.V1_6).output_as_string(indent=2) + "\n"


def normalised(text: str) -> str:
    """``text`` with its one serial number and one timestamp replaced by fixed values."""
    text, serials = SERIAL.subn('  "serialNumber": "urn:uuid:SERIAL",', text)
    stamps = TIMESTAMP.findall(text)
    assert serials == 1 and len(stamps) == 1, text[-800:]
    stamp = datetime.fromisoformat(stamps[0])
    assert stamp.utcoffset() == timedelta(0)
    return TIMESTAMP.sub('    "timestamp": "TIMESTAMP",', text)


def assert_same_document(catalog: Catalog) -> str:
    """Both writers' texts are equal after normalising, as parsed documents and byte for byte."""
    want, got = normalised(library_json(catalog)), normalised(cyclonedx_json.render(catalog))
    assert json.loads(got) == json.loads(want)
    assert got == want
    return got


# ------------------------------------------------------------------ real and sample catalogs


def test_the_sample_catalog() -> None:
    assert_same_document(sample_catalog())


def test_the_format_table_and_the_module_use_the_direct_writer() -> None:
    catalog = sample_catalog()
    for render in (SBOM_FORMATS["cyclonedx-json"].render, cyclonedx.render_json):
        assert normalised(render(catalog)) == normalised(library_json(catalog))


@pytest.fixture(scope="module")
def image_catalog(catalog_image: CatalogImage,
                  vulnerable_image: VulnerableImage) -> Callable[[str, Scope], Catalog]:
    """``image_catalog(name, scope)``: hullscan's catalog of a test image (memoized)."""
    targets = {"catalog": f"oci-dir:{catalog_image.layout}:{catalog_image.ref}",
               "vulnerable": vulnerable_image.target, "clean": vulnerable_image.clean_target}
    done: dict[tuple[str, Scope], Catalog] = {}

    def get(name: str, scope: Scope) -> Catalog:
        if (name, scope) not in done:
            done[name, scope] = load_catalog(targets[name], AcquireOptions(), scope)
        return done[name, scope]
    return get


@pytest.mark.parametrize("scope", list(Scope))
@pytest.mark.parametrize("name", ["catalog", "vulnerable", "clean"])
def test_real_images(image_catalog: Callable[[str, Scope], Catalog], name: str,
                     scope: Scope) -> None:
    catalog = image_catalog(name, scope)
    assert catalog.packages
    assert_same_document(catalog)


def test_the_debian_image(debian_image: BuiltImage) -> None:
    catalog = load_catalog(f"oci-dir:{debian_image.layout}:{debian_image.ref}", AcquireOptions(),
                           Scope.SQUASHED)
    assert len(catalog.packages) > 50
    assert_same_document(catalog)


def test_the_real_image_documents_validate(image_catalog: Callable[[str, Scope], Catalog]) -> None:
    text = cyclonedx_json.render(image_catalog("catalog", Scope.ALL_LAYERS))
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, list(errors)


# ------------------------------------------------------------------ hand-built edge cases


def package(name: str, **fields: Any) -> Package:
    """A deb package in layer 0 with the given fields (purl ``pkg:deb/debian/NAME@1``)."""
    values: dict[str, Any] = {"version": "1", "type": "deb", "purl": f"pkg:deb/debian/{name}@1",
                              "layer": LAYERS[0], "found_by": "dpkg",
                              "locations": ("var/lib/dpkg/status",)}
    return Package(name=name, **(values | fields))


def catalog_of(*packages: Package, **fields: Any) -> Catalog:
    """The sample catalog with other packages (and other fields)."""
    return dataclasses.replace(sample_catalog(), packages=packages, **fields)


LICENCES = {
    "spdx ids in any case": ("mit", "apache-2.0", "GPL-2.0-OR-LATER"),
    "deprecated ids": ("GPL-2.0", "GPL-2.0+", "LGPL-2.1"),
    "names": ("public-domain", "GPL-2+", "Artistic", "The Apache License, Version 2.0"),
    "or": ("MIT OR Apache-2.0",),
    "and": ("BSD-3-Clause AND MIT",),
    "with": ("GPL-2.0-or-later WITH Classpath-exception-2.0",),
    "lower-case operators": ("mit or apache-2.0",),
    "a bare family name the validator knows": ("GPL",),
    "a broken expression": ("MIT OR",),
    "an unknown key in an expression": ("MIT AND Foo-1.0",),
    "parenthesised": ("(MIT OR Apache-2.0) AND BSD-2-Clause",),
    "several, one an expression": ("MIT OR Apache-2.0", "BSD-3-Clause"),
    "duplicates": ("MIT", "mit", "MIT", "public-domain", "public-domain"),
    "ids and names mixed": ("Zlib", "zzz-name", "Apache-2.0", "aaa-name", "0BSD"),
    "unicode": ("Lizenz für Ärzte", "許可"),
}


@pytest.mark.parametrize("texts", LICENCES.values(), ids=LICENCES.keys())
def test_licences(texts: tuple[str, ...]) -> None:
    assert_same_document(catalog_of(package("one", licenses=texts[:1]),
                                    package("all", licenses=texts)))


def test_licence_entries_are_the_library_factory_s() -> None:
    texts = {text for group in LICENCES.values() for text in group}
    texts |= {text for p in sample_catalog().packages for text in p.licenses}
    for text in texts:
        made = LicenseFactory().make_from_string(text)
        entry = license_entries((text,))[0]
        if isinstance(made, LicenseExpression):
            assert (entry.kind, entry.value) == (LicenseKind.EXPRESSION, made.value)
        else:
            assert isinstance(made, DisjunctiveLicense)
            assert (entry.kind, entry.value) == (
                (LicenseKind.SPDX_ID, made.id) if made.id else (LicenseKind.NAME, made.name))
        spdx_id = fixup_id(text)
        assert [(e.kind, e.value) for e in license_entries((text, text))] == [
            (LicenseKind.SPDX_ID, spdx_id) if spdx_id else (LicenseKind.NAME, text)] * 2


def test_text_with_unicode_and_control_characters() -> None:
    odd = "naïve \u2603 \U0001f600 tab\tnl\nnul\x00 bell\x07 del\x7f quote\" back\\slash \u2028"
    assert_same_document(catalog_of(
        package(odd, version=odd, purl=f"pkg:generic/{odd}@{odd}", licenses=(odd,),
                supplier=odd, cpes=(odd, odd + "2"), locations=(odd, "a/" + odd),
                found_by=odd, namespace=odd, source_name=odd, architecture=odd,
                dependencies=(odd,)),
        anomalies=(odd,), distro=Distro(odd, odd, odd, odd, (odd,))))


def test_packages_without_version_purl_licences_or_layer() -> None:
    assert_same_document(catalog_of(
        package("bare", version="", purl="", layer=None, found_by="", locations=()),
        package("bare", version="", purl="", layer=None, found_by="", locations=()),
        package("unparsable purl", purl="not a purl"),
        package("no-scheme", purl="deb/debian/x@1"),
        package("layer without diff id", layer=LayerRef(1, None, None), release="3.el9",
                epoch=0)))


def test_groups_cpes_suppliers_and_sort_order() -> None:
    assert_same_document(catalog_of(
        package("log4j", type="maven", namespace="org.apache", version="2",
                purl="pkg:maven/org.apache/log4j@2"),
        package("log4j", type="maven", namespace="org.apache", version="10",
                purl="pkg:maven/org.apache/log4j@10"),
        package("log4j", type="maven", namespace=None, version="2",
                purl="pkg:maven/log4j@2"),
        package("x/y", type="golang", namespace="github.com/x", purl="pkg:golang/github.com/x/y@1"),
        package("lib", type="composer", namespace="vendor", purl="pkg:composer/vendor/lib@1"),
        package("Zed", cpes=("cpe:2.3:a:z:zed:1:*:*:*:*:*:*:*",) * 2 + (
            "cpe:2.3:a:other:zed:1:*:*:*:*:*:*:*",)),
        package("zed", supplier="Zed <z@example.org>", version="1"),
        package("zed", version="1", locations=("b", "a", "b"))))


def test_dependencies_and_owners() -> None:
    libc = package("libc6")
    twins = (package("twin", purl="pkg:deb/debian/twin@1"),
             package("twin", version="2", purl="pkg:deb/debian/twin@2"))
    assert_same_document(catalog_of(
        libc, *twins,
        package("app", dependencies=("libc6", "libc6", "twin", "missing", "app")),
        package("libc6", type="npm", purl="pkg:npm/libc6@1", owner=libc.purl),
        package("owned-by-self", owner="pkg:deb/debian/owned-by-self@1"),
        package("owned-by-twin", type="pypi", purl="pkg:pypi/o@1", owner=twins[0].purl),
        package("orphan", type="pypi", purl="pkg:pypi/orphan@1", owner="pkg:deb/debian/gone@1")))


def test_deleted_packages_in_the_all_layers_scope() -> None:
    assert_same_document(catalog_of(
        package("curl", layer=LAYERS[1], deleted_by=LayerRef(2, DIFF_IDS[2], None)),
        package("curl", layer=LAYERS[2]), scope=Scope.ALL_LAYERS))


def test_images_without_digest_id_distro_or_packages() -> None:
    image = sample_image()
    no_digest = dataclasses.replace(image, manifest_digest=None, index_digest=None,
                                    name="app.tar", source=SourceKind.DOCKER_ARCHIVE)
    nothing = dataclasses.replace(no_digest, image_id=None, platform=None, layers=(), name=None,
                                  reference="bare")
    for catalog in (catalog_of(package("a"), image=no_digest),
                    catalog_of(package("a"), image=nothing, distro=None),
                    catalog_of(image=nothing),
                    catalog_of(distro=None),
                    catalog_of(package("a"), distro=Distro("alpine", None, None))):
        assert_same_document(catalog)


# ------------------------------------------------------------------ generated catalogs

_text = st.text(max_size=12)
_name = st.one_of(st.sampled_from(["libc6", "zlib", "a", "A", "six", "é"]), _text)
_licence = st.one_of(
    st.sampled_from(sorted({text for group in LICENCES.values() for text in group})),
    st.text(min_size=1, max_size=20))
_layer = st.one_of(st.none(), st.sampled_from(LAYERS),
                   st.builds(LayerRef, st.integers(0, 5), st.none(), st.none()))


def _purl_text(kind: str, namespace: str | None, name: str, version: str) -> str:
    try:
        return PackageURL(type=kind, namespace=namespace or None, name=name or "x",
                          version=version or None).to_string()
    except (TypeError, ValueError):  # packageurl rejects some generated parts
        return ""


@st.composite
def _packages(draw: st.DrawFn) -> tuple[Package, ...]:
    names = draw(st.lists(_name, max_size=8))
    packages: list[Package] = []
    for name in names:
        kind = draw(st.sampled_from(["deb", "npm", "maven", "golang", "pypi"]))
        namespace = draw(st.one_of(st.none(), _text))
        version = draw(_text)
        purl = draw(st.one_of(st.just(""), _text,
                              st.just(_purl_text(kind, namespace, name, version))))
        packages.append(Package(
            name=name, version=version, type=kind, purl=purl, namespace=namespace,
            source_name=draw(st.one_of(st.none(), _text)),
            epoch=draw(st.one_of(st.none(), st.integers(0, 3))),
            licenses=tuple(draw(st.lists(_licence, max_size=4))),
            supplier=draw(st.one_of(st.none(), _text)),
            cpes=tuple(draw(st.lists(_text, max_size=3))),
            locations=tuple(draw(st.lists(_text, max_size=3))),
            layer=draw(_layer), deleted_by=draw(st.one_of(st.none(), _layer)),
            found_by=draw(_text),
            owner=draw(st.one_of(st.none(), st.sampled_from([p.purl for p in packages] or [""]))),
            development=draw(st.booleans()),
            dependencies=tuple(draw(st.lists(st.sampled_from(names), max_size=3)))
            if names else ()))
    return tuple(packages)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(packages=_packages(), anomalies=st.lists(_text, max_size=2),
       distro=st.one_of(st.none(), st.builds(Distro, _text.filter(bool),
                                             st.one_of(st.none(), _text),
                                             st.one_of(st.none(), _text))))
def test_generated_catalogs(packages: tuple[Package, ...], anomalies: list[str],
                            distro: Distro | None) -> None:
    assert_same_document(catalog_of(*packages, anomalies=tuple(anomalies), distro=distro))


# ------------------------------------------------------------------ import cost


def test_writing_json_does_not_import_the_library() -> None:
    code = ("import sys\n"
            "from hullscan.report.sbom import SBOM_FORMATS\n"
            "from tests.report.sbom import sample_catalog\n"
            "SBOM_FORMATS['cyclonedx-json'].render(sample_catalog())\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'cyclonedx'))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).parents[3])
    assert result.stdout.strip() == "[]"
