"""Cataloguing whole images: distro-qualified purls, layers, dpkg file lists and licences."""

from __future__ import annotations

from pathlib import Path

from hullscan.catalog.package import Scope
from hullscan.catalog.run import catalog_image
from hullscan.image.acquire import open_image
from tests.support.standard_images import ImageFacts, ImageFormats

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
MINBASE = SHARED / "fixtures" / "dpkg" / "bookworm-minbase"


def test_debian_image(debian_image_formats: ImageFormats,
                      debian_image_facts: ImageFacts) -> None:
    with open_image(f"docker-archive:{debian_image_formats.docker_archive_legacy}") as source:
        catalog = catalog_image(source)
    assert catalog.distro is not None and catalog.distro.version_id == "12"
    debs = {p.name: p for p in catalog.packages if p.type == "deb"}
    for name in debian_image_facts.sample_packages:
        package = debs[name]
        assert package.layer is not None and package.layer.index == 0
        assert package.layer.diff_id == source.metadata.layers[0].diff_id
        assert package.purl.startswith(f"pkg:deb/debian/{name}@")
        assert "distro=debian-12" in package.purl
        assert package.files, name
        assert package.licenses, name
    assert "upstream=glibc" in debs["libc6"].purl
    assert "bin/bash" in debs["bash"].files  # as dpkg lists it, before /usr was merged
    assert catalog.anomalies == ()


def test_root_filesystem_fixture_has_its_88_packages() -> None:
    with open_image(f"dir:{MINBASE}") as source:
        catalog = catalog_image(source)
    debs = [p for p in catalog.packages if p.type == "deb"]
    assert len(debs) == 88
    assert sum(1 for p in debs if p.source_name and p.source_name != p.name) >= 1
    assert all(p.layer is None for p in debs)
    assert {p.locations for p in debs} == {("var/lib/dpkg/status",)}


def test_small_alpine_like_image(small_image_formats: ImageFormats) -> None:
    with open_image(f"oci-dir:{small_image_formats.oci_layout}:{small_image_formats.ref}") as src:
        catalog = catalog_image(src, Scope.ALL_LAYERS)
    apks = {p.name: p for p in catalog.packages if p.type == "apk"}
    assert set(apks) == {"musl", "busybox"}
    assert apks["musl"].purl.startswith("pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64")
    assert apks["busybox"].licenses == ("GPL-2.0-only",)
    assert all(p.deleted_by is None for p in catalog.packages)


def _write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def test_language_packages_in_os_owned_files_are_linked_to_their_os_package(
        tmp_path: Path) -> None:
    dist_info = "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info"
    _write(tmp_path, "etc/os-release", "ID=debian\nVERSION_ID=12\n")
    _write(tmp_path, "var/lib/dpkg/status",
           "Package: python3-yaml\nStatus: install ok installed\nArchitecture: amd64\n"
           "Source: pyyaml\nVersion: 6.0-3+b2\n\n")
    _write(tmp_path, "var/lib/dpkg/info/python3-yaml:amd64.list",
           f"/.\n/usr\n/{dist_info}\n/{dist_info}/METADATA\n")
    _write(tmp_path, f"{dist_info}/METADATA",
           "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n")
    _write(tmp_path, "opt/app/site-packages/attrs-23.1.0.dist-info/METADATA",
           "Metadata-Version: 2.1\nName: attrs\nVersion: 23.1.0\n")
    with open_image(f"dir:{tmp_path}") as source:
        catalog = catalog_image(source)
    by_name = {p.name: p for p in catalog.packages}
    deb = by_name["python3-yaml"]
    assert deb.purl.startswith("pkg:deb/debian/python3-yaml@6.0-3%2Bb2?arch=amd64")
    assert by_name["PyYAML"].owner == deb.purl
    assert by_name["PyYAML"].purl == "pkg:pypi/pyyaml@6.0"
    assert by_name["attrs"].owner is None


def test_owned_files_are_matched_through_symlinked_directories_and_file_links(
        tmp_path: Path) -> None:
    """An owner's list may name a located file through a merged-/usr directory link, or
    through a link of another name (only names that are a located file's or a link's are
    resolved: both must still match)."""
    yaml_info = "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info"
    six_info = "usr/lib/python3/dist-packages/six-1.16.0.dist-info"
    _write(tmp_path, "etc/os-release", "ID=debian\nVERSION_ID=12\n")
    _write(tmp_path, "var/lib/dpkg/status", "".join(
        f"Package: {name}\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n\n"
        for name in ("python3-yaml", "python3-six", "unrelated")))
    _write(tmp_path, "var/lib/dpkg/info/python3-yaml.list",
           "/.\n/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA\n")
    _write(tmp_path, "var/lib/dpkg/info/python3-six.list", "/.\n/usr/share/six-metadata\n")
    _write(tmp_path, "var/lib/dpkg/info/unrelated.list", "/.\n/usr/share/METADATA\n")
    _write(tmp_path, f"{yaml_info}/METADATA", "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n")
    _write(tmp_path, f"{six_info}/METADATA", "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n")
    _write(tmp_path, "usr/share/METADATA", "not a package\n")
    (tmp_path / "lib").symlink_to("usr/lib")
    (tmp_path / "usr/share/six-metadata").symlink_to(f"/{six_info}/METADATA")
    with open_image(f"dir:{tmp_path}") as source:
        catalog = catalog_image(source)
    by_name = {p.name: p for p in catalog.packages}
    assert by_name["PyYAML"].owner == by_name["python3-yaml"].purl
    assert by_name["six"].owner == by_name["python3-six"].purl


def test_rpm_database_in_a_root_filesystem(tmp_path: Path) -> None:
    import shutil
    _write(tmp_path, "etc/os-release", 'ID=mariner\nVERSION_ID="2.0"\n')
    (tmp_path / "var/lib/rpm").mkdir(parents=True)
    shutil.copy(SHARED / "fixtures/rpm/cbl-mariner-2.0/rpmdb.sqlite", tmp_path / "var/lib/rpm")
    with open_image(f"dir:{tmp_path}") as source:
        catalog = catalog_image(source)
    rpms = [p for p in catalog.packages if p.type == "rpm"]
    assert len(rpms) == 129
    assert all(p.purl.startswith("pkg:rpm/mariner/") and "distro=mariner-2.0" in p.purl
               for p in rpms)
    assert all(p.files for p in rpms if p.name == "bash")


def test_apk_database_fixture() -> None:
    with open_image(f"dir:{SHARED / 'fixtures/apk/syft-multiple-2'}") as source:
        catalog = catalog_image(source)
    assert sum(1 for p in catalog.packages if p.type == "apk") == 14


def test_every_cataloger_names_a_parser_that_exists() -> None:
    """Parsers are imported on first use: a misspelt name would only fail when a file came."""
    import importlib

    from hullscan.catalog.catalogers import CATALOGERS

    for cataloger in CATALOGERS:
        module, _, name = cataloger.parse.__qualname__.rpartition(".")
        assert module.startswith("hullscan.catalog.")
        assert callable(getattr(importlib.import_module(module), name))
