"""Archives and layouts holding several images: selection by tag or ref name."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hullscan.errors import ImageNotFoundError
from hullscan.image.acquire import open_image
from tests.support.image_builder import (
    File,
    ImageSpec,
    LayerSpec,
    write_docker_archive,
    write_oci_layout,
)
from tests.support.standard_images import small_image_spec


def _two_images() -> dict[str, ImageSpec]:
    first = small_image_spec()
    second = replace(first, layers=(*first.layers, LayerSpec([File("/extra", b"2")],
                                                             created_by="COPY extra /")),
                     history=None)
    return {"team/app:1": first, "team/app:2": second}


@pytest.mark.parametrize("style", ["legacy", "oci"])
def test_docker_archive_with_several_images(tmp_path: Path, style: str) -> None:
    archive = tmp_path / "images.tar"
    write_docker_archive(archive, _two_images(), style=style)  # type: ignore[arg-type]
    layer_counts = {}
    for tag in ("team/app:1", "team/app:2", "docker.io/team/app:2"):
        with open_image(f"docker-archive:{archive}:{tag}") as source:
            layer_counts[tag] = len(source.metadata.layers)
            assert source.metadata.name is not None and source.metadata.name.endswith(tag[-1])
    assert layer_counts["team/app:2"] == layer_counts["team/app:1"] + 1
    assert layer_counts["docker.io/team/app:2"] == layer_counts["team/app:2"]
    with pytest.raises(ImageNotFoundError, match=r"holds 2 images.*team/app:1, team/app:2"), \
            open_image(f"docker-archive:{archive}"):
        pass


def test_oci_layout_with_several_refs(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "layout", {"one": _two_images()["team/app:1"],
                                           "two": _two_images()["team/app:2"]})
    ids = {}
    for ref in ("one", "two"):
        with open_image(f"oci-dir:{tmp_path / 'layout'}:{ref}") as source:
            ids[ref] = source.metadata.image_id
            assert source.metadata.name == ref
    assert ids["one"] != ids["two"]
    with pytest.raises(ImageNotFoundError, match=r"name one with :REF \(refs: one, two\)"), \
            open_image(str(tmp_path / "layout")):
        pass
