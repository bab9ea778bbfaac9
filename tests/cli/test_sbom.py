"""``hullscan sbom`` end to end: every format from a real image, validated, read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from tests.cli.run_cli import run_hullscan
from tests.support.standard_images import ImageFormats


@pytest.fixture(scope="module")
def debian_sboms(tmp_path_factory: pytest.TempPathFactory,
                 debian_image_formats: ImageFormats) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sboms")
    image = f"oci-dir:{debian_image_formats.oci_layout}:{debian_image_formats.ref}"
    written = {}
    for name, suffix in (("cyclonedx-json", "cdx.json"), ("spdx-json", "spdx.json"),
                         ("hullscan-json", "hullscan.json"), ("spdx-tag-value", "spdx"),
                         ("cyclonedx-xml", "cdx.xml")):
        target = out / f"debian.{suffix}"
        result = run_hullscan("sbom", image, "-o", f"{name}={target}", cwd=out)
        assert result.code == 0, result.stderr
        written[name] = target
    return written


def test_cyclonedx_validates_and_carries_layers(debian_sboms: dict[str, Path]) -> None:
    text = debian_sboms["cyclonedx-json"].read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    components = json.loads(text)["components"]
    debs = [c for c in components if c.get("purl", "").startswith("pkg:deb/debian/")]
    assert len(debs) == 88
    properties = {p["name"]: p["value"] for p in debs[0]["properties"]}
    assert properties["hullscan:layer:index"] == "0"
    assert properties["hullscan:layer:diff_id"].startswith("sha256:")


@pytest.mark.parametrize("name", ["spdx-json", "spdx-tag-value"])
def test_spdx_validates(debian_sboms: dict[str, Path], name: str) -> None:
    document = parse_file(str(debian_sboms[name]))
    assert validate_full_spdx_document(document) == []
    assert sum(1 for p in document.packages if p.name != "debian-test") >= 88


@pytest.mark.parametrize("name", ["cyclonedx-json", "spdx-json", "hullscan-json"])
def test_reading_our_output_back_gives_the_same_packages(tmp_path: Path,
                                                         debian_sboms: dict[str, Path],
                                                         name: str) -> None:
    original = json.loads(debian_sboms["hullscan-json"].read_text())["packages"]
    result = run_hullscan("sbom", str(debian_sboms[name]), "-o", "hullscan-json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    again = json.loads(result.stdout)["packages"]

    def key(packages: list[dict[str, object]]) -> set[tuple[object, ...]]:
        return {(p["purl"], p["name"], p["version"], (p.get("layer") or {}).get("index"))
                for p in packages}

    assert key(again) == key(original)


def test_unknown_format_and_scope_are_refused(tmp_path: Path,
                                              debian_sboms: dict[str, Path]) -> None:
    bad = run_hullscan("sbom", str(debian_sboms["hullscan-json"]), "-o", "nope", cwd=tmp_path)
    assert bad.code == 2 and "unknown SBOM format" in bad.stderr
    scope = run_hullscan("sbom", str(debian_sboms["hullscan-json"]), "--scope", "some",
                         cwd=tmp_path)
    assert scope.code == 2 and "--scope some" in scope.stderr


def test_an_sbom_is_not_an_image(tmp_path: Path, debian_sboms: dict[str, Path]) -> None:
    result = run_hullscan("inspect", str(debian_sboms["spdx-json"]), cwd=tmp_path)
    assert result.code == 2
    assert "is an sbom source, not an image" in result.stderr
