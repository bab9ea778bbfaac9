"""The image name mappings match, and the Dockerfile's final stage."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hullscan.policy.collect import dockerfile_instructions, image_name
from hullscan.policy.context import ImageName
from tests.policy.core_helpers import metadata


def test_registry_image_name() -> None:
    name = image_name(metadata(name="127.0.0.1:5000/staging/app:1"))
    assert name == ImageName("127.0.0.1:5000", "staging/app", "1", "sha256:" + "ab" * 32)
    assert str(name) == "127.0.0.1:5000/staging/app:1@sha256:" + "ab" * 32
    assert name.matches("127.0.0.1:*", "staging/*", "1", None)
    assert not name.matches("*", "prod/*", "*", None)
    assert not name.matches("*", "*", "*", "sha256:" + "00" * 32)


def test_archive_names_have_no_registry() -> None:
    assert image_name(metadata(name="app:1")) == ImageName("", "app", "1",
                                                           "sha256:" + "ab" * 32)
    unnamed = replace(metadata(), name=None, reference="oci-dir:/tmp/layout")
    assert image_name(unnamed).repository == "oci-dir:/tmp/layout"


def test_dockerfile_final_stage_with_lines(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM golang:1.22 AS build\nRUN go build -o /app .\n\n"
                          "FROM debian:12\n# comment\nCOPY --from=build /app /app\n"
                          "USER app\nEXPOSE 8080\n")
    steps = dockerfile_instructions(dockerfile)
    assert [(s.instruction, s.line) for s in steps] == [
        ("FROM", 4), ("COPY", 6), ("USER", 7), ("EXPOSE", 8)]
    assert steps[2].value == "app"
