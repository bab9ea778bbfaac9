"""SBOM output and input: CycloneDX 1.6 (JSON, XML), SPDX 2.3 (JSON, tag-value) and hullscan's
own lossless JSON, plus :func:`read_sbom` for reading CycloneDX/SPDX JSON (ours, Syft's,
Trivy's) back into a catalog.

:data:`SBOM_FORMATS` maps each format's CLI name to its media type and renderer. Renderers
are imported when first used: the CycloneDX and SPDX libraries take a quarter of a second to
import, and a run writes one or two formats (tests keep the media types here equal to the
modules' own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hullscan.catalog.package import Catalog
from hullscan.lazy import lazy_function


@dataclass(frozen=True)
class SbomFormat:
    """One output format: its name (as ``--format`` takes it), media type and renderer."""

    name: str
    media_type: str
    render: Callable[[Catalog], str]


def _renderer(module: str, function: str) -> Callable[[Catalog], str]:
    return lazy_function(f"{__name__}.{module}", function)


SBOM_FORMATS: dict[str, SbomFormat] = {
    format_.name: format_ for format_ in (
        SbomFormat("cyclonedx-json", "application/vnd.cyclonedx+json; version=1.6",
                   _renderer("cyclonedx_json", "render")),
        SbomFormat("cyclonedx-xml", "application/vnd.cyclonedx+xml; version=1.6",
                   _renderer("cyclonedx", "render_xml")),
        SbomFormat("spdx-json", "application/spdx+json", _renderer("spdx", "render_json")),
        SbomFormat("spdx-tag-value", "text/spdx", _renderer("spdx", "render_tag_value")),
        SbomFormat("hullscan-json", "application/vnd.hullscan.sbom.v1+json",
                   _renderer("hullscan_json", "render")),
    )
}


def read_sbom(path: Path) -> Catalog:
    """A CycloneDX or SPDX JSON document (ours, Syft's, Trivy's) read back into a catalog."""
    from hullscan.report.sbom.reader import read_sbom as read

    return read(path)


__all__ = ["SBOM_FORMATS", "SbomFormat", "read_sbom"]
