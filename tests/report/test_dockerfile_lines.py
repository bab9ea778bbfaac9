"""Layers matched to the Dockerfile instruction that built them."""

from __future__ import annotations

from pathlib import Path

from hullscan.catalog.package import LayerRef
from hullscan.report.dockerfile_lines import DockerfileLines

DOCKERFILE = """\
FROM golang:1.23 AS build
RUN go build -o /app .
FROM debian:12
RUN apt-get update && \\
    apt-get install -y curl
COPY --from=build /app /usr/local/bin/app
RUN go build -o /app .
"""


def _layer(created_by: str | None) -> LayerRef:
    return LayerRef(1, None, created_by)


def test_buildkit_classic_and_copy_history(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    lines = DockerfileLines.read(path)
    assert lines.line_of(_layer("RUN /bin/sh -c apt-get update &&     apt-get install -y curl "
                                "# buildkit")) == 4
    assert lines.line_of(_layer("/bin/sh -c apt-get update && apt-get install -y curl")) == 4
    assert lines.line_of(_layer("/bin/sh -c #(nop) COPY file:ab12 in /usr/local/bin/app ")) == 6
    assert lines.line_of(_layer("RUN /bin/sh -c go build -o /app . # buildkit")) == 7  # last
    assert lines.line_of(_layer("RUN /bin/sh -c make # buildkit")) is None
    assert lines.line_of(_layer(None)) is None
    assert lines.line_of(None) is None


def test_missing_dockerfile_matches_nothing(tmp_path: Path) -> None:
    assert DockerfileLines.read(tmp_path / "absent").line_of(_layer("RUN x")) is None
    assert DockerfileLines.read(None).instructions == ()
