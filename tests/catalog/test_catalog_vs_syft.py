"""Our catalog of ``catalog:1`` against the real syft's, on the same image files.

The image (see :mod:`tests.support.catalog_image`) holds real packages of five ecosystems,
one layer each, plus an npm package added in layer 5 and removed in layer 6. Packages are
compared by purl type, purl name (``namespace/name``) and version; qualifiers and subpaths
are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from hullscan.catalog.package import Catalog, Package, Scope
from hullscan.catalog.run import catalog_image as run_catalog
from hullscan.image.acquire import open_image
from tests.support.catalog_image import CatalogImage
from tests.support.syft import parse_purl, purl_key, syft_artifacts, syft_packages

pytestmark = pytest.mark.slow

Key = tuple[str, str, str]
FORMATS = ("oci-dir", "docker-archive")
SCOPES = (Scope.SQUASHED, Scope.ALL_LAYERS)

#: Packages we report that syft does not, allowed per purl type, each with the reason.
#: Keep this honest and small: an entry here must name a real syft limitation, never a bug
#: of ours. (Empty today: on ``catalog:1`` every package we report, syft reports too.)
EXTRA_ALLOWED: Mapping[str, str] = {}


def _target(image: CatalogImage, image_format: str) -> str:
    if image_format == "oci-dir":
        return f"oci-dir:{image.layout}:{image.ref}"
    return f"docker-archive:{image.docker_archive}:{image.ref}"


@pytest.fixture(scope="module")
def our_catalog(catalog_image: CatalogImage) -> Callable[[str, Scope], Catalog]:
    """``our_catalog(format, scope)``: hullscan's catalog of ``catalog:1`` (memoized)."""
    done: dict[tuple[str, Scope], Catalog] = {}

    def get(image_format: str, scope: Scope) -> Catalog:
        if (image_format, scope) not in done:
            with open_image(_target(catalog_image, image_format)) as source:
                done[image_format, scope] = run_catalog(source, scope=scope)
        return done[image_format, scope]

    return get


def _keys(catalog: Catalog) -> dict[Key, list[Package]]:
    found: dict[Key, list[Package]] = {}
    for package in catalog.packages:
        found.setdefault(purl_key(package.purl), []).append(package)
    return found


def _by_type(keys: set[Key]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for kind, name, version in sorted(keys):
        grouped.setdefault(kind, []).append(f"{name}@{version}")
    return grouped


def _locations(*packages: Package) -> set[str]:
    """Absolute image paths of the packages' locations (whether written with a "/" or not)."""
    return {"/" + location.lstrip("/") for package in packages for location in package.locations}


def _image_config(image: CatalogImage) -> dict[str, Any]:
    blobs = image.layout / "blobs" / "sha256"

    def blob(digest: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads((blobs / digest.split(":", 1)[1]).read_bytes())
        return doc

    index = json.loads((image.layout / "index.json").read_bytes())
    manifest = blob(index["manifests"][0]["digest"])
    return blob(manifest["config"]["digest"])


# --------------------------------------------------------------------------- (a) syft ⊆ ours


@pytest.mark.parametrize("scope", SCOPES, ids=lambda scope: scope.value)
@pytest.mark.parametrize("image_format", FORMATS)
def test_every_syft_package_is_cataloged(
    image_format: str,
    scope: Scope,
    catalog_syft: Callable[[str, str], dict[str, Any]],
    our_catalog: Callable[[str, Scope], Catalog],
) -> None:
    theirs = syft_packages(catalog_syft(image_format, scope.value))
    ours = set(_keys(our_catalog(image_format, scope)))

    missing = theirs - ours
    assert not missing, f"syft finds, we do not: {_by_type(missing)}"

    unexplained = {key for key in ours - theirs if key[0] not in EXTRA_ALLOWED}
    assert not unexplained, (
        f"we report, syft does not, and EXTRA_ALLOWED does not explain: {_by_type(unexplained)}"
    )


def test_syft_and_we_read_both_formats_alike(
    catalog_syft: Callable[[str, str], dict[str, Any]],
    our_catalog: Callable[[str, Scope], Catalog],
) -> None:
    """Sanity: the OCI layout and the docker-save archive are the same image to both tools."""
    assert syft_packages(catalog_syft("oci-dir", "squashed")) == syft_packages(
        catalog_syft("docker-archive", "squashed")
    )
    assert set(_keys(our_catalog("oci-dir", Scope.SQUASHED))) == set(
        _keys(our_catalog("docker-archive", Scope.SQUASHED))
    )


def test_syft_finds_every_ecosystem_of_the_image(
    catalog_image: CatalogImage, catalog_syft: Callable[[str, str], dict[str, Any]]
) -> None:
    """Guards the fixture: if syft stops seeing a group, test (a) would silently weaken."""
    facts = catalog_image.facts
    theirs = syft_packages(catalog_syft("oci-dir", "squashed"))
    for name, version in facts.python_packages.items():
        assert ("pypi", name, version) in theirs
    for name, version in facts.npm_packages.items():
        assert ("npm", name, version) in theirs
    counts = {kind: sum(1 for key in theirs if key[0] == kind) for kind in facts.layer_of_type}
    assert counts["deb"] > 50
    assert counts["npm"] >= len(facts.npm_installed)
    assert counts["maven"] == len(facts.jar_files)
    assert counts["golang"] >= 1


def test_syft_places_each_ecosystem_in_its_layer(
    catalog_image: CatalogImage, catalog_syft: Callable[[str, str], dict[str, Any]]
) -> None:
    """Guards the fixture: syft agrees on which layer holds which ecosystem."""
    diff_ids = _image_config(catalog_image)["rootfs"]["diff_ids"]
    for artifact in syft_artifacts(catalog_syft("oci-dir", "squashed")):
        kind = parse_purl(artifact["purl"]).type
        layers = {diff_ids.index(loc["layerID"]) for loc in artifact["locations"]}
        assert layers == {catalog_image.facts.layer_of_type[kind]}, artifact["purl"]


# --------------------------------------------------------------------------- (b) layers


def test_each_ecosystem_is_attributed_to_its_layer(
    catalog_image: CatalogImage, our_catalog: Callable[[str, Scope], Catalog]
) -> None:
    facts = catalog_image.facts
    catalog = our_catalog("oci-dir", Scope.SQUASHED)
    misplaced = []
    for package in catalog.packages:
        expected = facts.layer_of_type.get(package.type)
        assert expected is not None, f"unexpected package type: {package.purl}"
        actual = package.layer.index if package.layer else None
        if actual != expected:
            misplaced.append(f"{package.purl}: layer {actual}, expected {expected}")
    assert not misplaced, misplaced

    found = _keys(catalog)
    for name, version in facts.python_packages.items():
        assert ("pypi", name, version) in found, name
    for name, version in facts.npm_packages.items():
        assert ("npm", name, version) in found, name
    maven_locations = _locations(*(p for p in catalog.packages if p.type == "maven"))
    assert set(facts.jar_files) <= maven_locations
    golang_locations = _locations(*(p for p in catalog.packages if p.type == "golang"))
    assert facts.go_binary in golang_locations


def test_layer_refs_carry_diff_id_and_history(
    catalog_image: CatalogImage, our_catalog: Callable[[str, Scope], Catalog]
) -> None:
    config = _image_config(catalog_image)
    diff_ids = config["rootfs"]["diff_ids"]
    created_by = [h["created_by"] for h in config["history"] if not h.get("empty_layer")]
    for package in our_catalog("oci-dir", Scope.SQUASHED).packages:
        assert package.layer is not None, package.purl
        assert package.layer.diff_id == diff_ids[package.layer.index], package.purl
        assert package.layer.created_by == created_by[package.layer.index], package.purl


# --------------------------------------------------------------------------- (c) removed


@pytest.mark.parametrize("image_format", FORMATS)
def test_removed_package_only_in_all_layers(
    image_format: str,
    catalog_image: CatalogImage,
    our_catalog: Callable[[str, Scope], Catalog],
) -> None:
    removed = catalog_image.facts.removed
    key = (removed.type, removed.name, removed.version)

    assert key not in _keys(our_catalog(image_format, Scope.SQUASHED))

    matches = _keys(our_catalog(image_format, Scope.ALL_LAYERS)).get(key, [])
    assert len(matches) == 1, matches
    package = matches[0]
    assert package.layer is not None and package.layer.index == removed.added_in
    assert package.deleted_by is not None and package.deleted_by.index == removed.removed_in
    assert removed.path in _locations(package)


def test_all_layers_adds_only_the_removed_package(
    catalog_image: CatalogImage, our_catalog: Callable[[str, Scope], Catalog]
) -> None:
    squashed = _keys(our_catalog("oci-dir", Scope.SQUASHED))
    every = _keys(our_catalog("oci-dir", Scope.ALL_LAYERS))
    removed = catalog_image.facts.removed
    assert set(every) - set(squashed) == {(removed.type, removed.name, removed.version)}
    live = [p for packages in every.values() for p in packages if p.deleted_by is None]
    assert {purl_key(p.purl) for p in live} == set(squashed)
