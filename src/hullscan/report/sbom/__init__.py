"""SBOM output and input: CycloneDX 1.6 (JSON, XML), SPDX 2.3 (JSON, tag-value) and hullscan's
own lossless JSON, plus :func:`read_sbom` for reading CycloneDX/SPDX JSON (ours, Syft's,
Trivy's) back into a catalog.

:data:`SBOM_FORMATS` maps each format's CLI name to its media type and renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hullscan.catalog.package import Catalog
from hullscan.report.sbom import cyclonedx, hullscan_json, spdx
from hullscan.report.sbom.reader import read_sbom


@dataclass(frozen=True)
class SbomFormat:
    """One output format: its name (as ``--format`` takes it), media type and renderer."""

    name: str
    media_type: str
    render: Callable[[Catalog], str]


SBOM_FORMATS: dict[str, SbomFormat] = {
    format_.name: format_ for format_ in (
        SbomFormat("cyclonedx-json", cyclonedx.JSON_MEDIA_TYPE, cyclonedx.render_json),
        SbomFormat("cyclonedx-xml", cyclonedx.XML_MEDIA_TYPE, cyclonedx.render_xml),
        SbomFormat("spdx-json", spdx.JSON_MEDIA_TYPE, spdx.render_json),
        SbomFormat("spdx-tag-value", spdx.TAG_VALUE_MEDIA_TYPE, spdx.render_tag_value),
        SbomFormat("hullscan-json", hullscan_json.MEDIA_TYPE, hullscan_json.render),
    )
}

__all__ = ["SBOM_FORMATS", "SbomFormat", "read_sbom"]
