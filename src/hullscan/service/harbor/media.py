"""Media types of the adapter API and the negotiation of the report one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

METADATA_1_1: Final = "application/vnd.scanner.adapter.metadata+json; version=1.1"
METADATA_1_0: Final = "application/vnd.scanner.adapter.metadata+json; version=1.0"
SCAN_RESPONSE: Final = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
ERROR: Final = "application/vnd.scanner.adapter.error+json; version=1.0"

VULNERABILITY_1_1: Final = "application/vnd.security.vulnerability.report; version=1.1"
HARBOR_VULNERABILITY_1_0: Final = \
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
SBOM_REPORT: Final = "application/vnd.security.sbom.report+json; version=1.0"

SPDX_JSON: Final = "application/spdx+json"
CYCLONEDX_JSON: Final = "application/vnd.cyclonedx+json"
SBOM_MEDIA_TYPES: Final = (SPDX_JSON, CYCLONEDX_JSON)

OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
CONSUMES: Final = (OCI_MANIFEST, DOCKER_MANIFEST)

VULNERABILITY_REPORTS: Final = (VULNERABILITY_1_1, HARBOR_VULNERABILITY_1_0)
"""Both carry the ``HarborVulnerabilityReport`` schema."""
REPORTS: Final = (*VULNERABILITY_REPORTS, SBOM_REPORT)
DEFAULT_REPORT: Final = HARBOR_VULNERABILITY_1_0
"""What a request without ``Accept`` gets (the spec keeps this for old Harbors)."""


@dataclass(frozen=True)
class MediaRange:
    """One entry of an ``Accept`` header: type and parameters, lowercased."""

    type: str
    params: tuple[tuple[str, str], ...]

    def matches(self, media_type: str) -> bool:
        """Whether this range accepts ``media_type`` (its parameters must all agree)."""
        wanted = parse_media_type(media_type)
        if self.type == "*/*":
            return True
        if self.type.endswith("/*"):
            return wanted.type.startswith(self.type[:-1])
        if self.type != wanted.type:
            return False
        mine = {k: v for k, v in self.params if k != "q"}
        return all(dict(wanted.params).get(k) == v for k, v in mine.items())

    @property
    def wildcard(self) -> bool:
        """``*/*`` or ``type/*``."""
        return self.type.endswith("/*")


def parse_media_type(text: str) -> MediaRange:
    """``type/subtype; key=value`` in a comparable form (spaces and case do not matter)."""
    kind, *rest = text.split(";")
    params = []
    for part in rest:
        key, _, value = part.partition("=")
        if key.strip():
            params.append((key.strip().lower(), value.strip().strip('"').lower()))
    return MediaRange(kind.strip().lower(), tuple(params))


def negotiate_report(accept: str | None) -> str | None:
    """The report media type to answer ``accept`` with; None when none of ours fits.

    No header, an empty one or a bare wildcard get :data:`DEFAULT_REPORT`.
    """
    if accept is None or not accept.strip():
        return DEFAULT_REPORT
    ranges = [parse_media_type(item) for item in accept.split(",") if item.strip()]
    for media_range in ranges:
        if media_range.wildcard:
            continue
        for candidate in REPORTS:
            if media_range.matches(candidate):
                return candidate
    if any(r.type == "*/*" for r in ranges):
        return DEFAULT_REPORT
    return None


def metadata_type(accept: str | None) -> str:
    """Label the metadata 1.0 only for a client that asks for 1.0 and not 1.1."""
    if accept and parse_media_type(METADATA_1_0).type in accept.lower():
        ranges = [parse_media_type(item) for item in accept.split(",") if item.strip()]
        if any(r.matches(METADATA_1_0) for r in ranges) and \
                not any(r.matches(METADATA_1_1) for r in ranges):
            return METADATA_1_0
    return METADATA_1_1
