"""Scan requests: validate what Harbor posts, record it, and tell where its report stands."""

from __future__ import annotations

import enum
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hullscan.errors import InvalidReferenceError
from hullscan.image.reference import RegistryReference, parse_registry_reference
from hullscan.service.harbor import media
from hullscan.service.harbor.errors import bad_request, invalid_field, not_capable
from hullscan.service.harbor.pull import (
    RegistryLocation,
    parse_authorization,
    parse_registry_url,
)
from hullscan.service.harbor.reports import ArtifactInfo
from hullscan.service.operations import Service
from hullscan.service.store.harbor_models import HarborScan, HarborScanStatus
from hullscan.service.store.models import Analysis, AnalysisStatus

CAPABILITY_TYPES = ("vulnerability", "sbom")


@dataclass(frozen=True, repr=False)
class ScanRequest:
    """A validated ``ScanRequest`` body."""

    registry_url: str
    location: RegistryLocation
    authorization: str | None
    """The ``registry.authorization`` header value (already checked to parse)."""
    reference: RegistryReference
    """``host/repository[:tag]@digest``."""
    mime_type: str | None
    media_types: tuple[str, ...]
    """Report media types and SBOM formats enabled (empty: every capability)."""

    def __repr__(self) -> str:
        return f"ScanRequest({self.reference})"


def parse_scan_request(body: bytes) -> ScanRequest:
    """Check a ``POST /scan`` body: 400 for bad JSON or types, 422 for unusable values, 501
    for an artifact or report type this scanner does not handle."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise bad_request("request body is not JSON") from None
    document = _object(document, "request body")
    registry = _object(_required(document, "registry"), "registry")
    artifact = _object(_required(document, "artifact"), "artifact")
    url = _string(_required(registry, "url", "registry."), "registry.url")
    location = parse_registry_url(url)
    authorization = _optional_string(registry.get("authorization"), "registry.authorization")
    if authorization is not None:
        parse_authorization(authorization)
        authorization = authorization.strip() or None
    repository = _string(_required(artifact, "repository", "artifact."), "artifact.repository")
    digest = _string(_required(artifact, "digest", "artifact."), "artifact.digest")
    tag = _optional_string(artifact.get("tag"), "artifact.tag") or None
    mime_type = _optional_string(artifact.get("mime_type"), "artifact.mime_type") or None
    text = f"{location.host}/{repository}" + (f":{tag}" if tag else "") + f"@{digest}"
    try:
        reference = parse_registry_reference(text)
    except InvalidReferenceError as error:
        raise invalid_field(f"invalid artifact: {error.reason}") from None
    if reference.registry != location.host or reference.repository != repository:
        raise invalid_field("invalid artifact.repository")
    if mime_type is not None and mime_type not in media.CONSUMES:
        raise not_capable(f"artifact media type {mime_type} is not supported "
                          f"(supported: {', '.join(media.CONSUMES)})")
    return ScanRequest(url, location, authorization, reference, mime_type,
                       _enabled(document.get("enabled_capabilities")))


def _enabled(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_request("enabled_capabilities is not an array")
    enabled: list[str] = []
    for index, item in enumerate(value):
        where = f"enabled_capabilities[{index}]"
        capability = _object(item, where)
        kind = _string(_required(capability, "type", f"{where}."), f"{where}.type")
        if kind not in CAPABILITY_TYPES:
            raise invalid_field(f"{where}.type must be one of {', '.join(CAPABILITY_TYPES)}")
        produces = capability.get("produces_mime_types")
        if produces is not None:
            if not isinstance(produces, list) or \
                    not all(isinstance(p, str) for p in produces):
                raise bad_request(f"{where}.produces_mime_types is not an array of strings")
            for produced in produces:
                known = [m for m in media.REPORTS if media.parse_media_type(produced).matches(m)]
                if not known:
                    raise not_capable(f"report media type {produced} is not supported")
                enabled.append(known[0])
        parameters = capability.get("parameters")
        if parameters is not None:
            formats = _object(parameters, f"{where}.parameters").get("sbom_media_types")
            if formats is not None:
                if not isinstance(formats, list) or \
                        not all(isinstance(f, str) for f in formats):
                    raise bad_request(f"{where}.parameters.sbom_media_types is not an array "
                                      "of strings")
                for sbom_format in formats:
                    if sbom_format not in media.SBOM_MEDIA_TYPES:
                        raise not_capable(f"SBOM media type {sbom_format} is not supported")
                    enabled.append(sbom_format)
    return tuple(dict.fromkeys(enabled))


def _object(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{what} is not a JSON object")
    return value


def _required(document: Mapping[str, Any], key: str, prefix: str = "") -> object:
    if key not in document or document[key] is None:
        raise invalid_field(f"{prefix}{key} is required")
    return document[key]


def _string(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise bad_request(f"{what} is not a string")
    return value


def _optional_string(value: object, what: str) -> str | None:
    return None if value is None else _string(value, what)


def accept_scan(service: Service, request: ScanRequest) -> str:
    """Record the request (authorization sealed) and its digest; returns the new id."""
    reference = request.reference
    assert reference.digest is not None
    service.record_image(reference, reference.digest)
    scan_id = secrets.token_urlsafe(24)
    sealed = service.box.seal(request.authorization) if request.authorization else None
    with service.store.session() as session:
        session.add(HarborScan(
            id=scan_id, digest=reference.digest, registry_url=request.registry_url,
            repository=reference.repository, tag=reference.tag, mime_type=request.mime_type,
            media_types=list(request.media_types), authorization_encrypted=sealed,
            status=HarborScanStatus.QUEUED))
    return scan_id


class ReportStatus(enum.Enum):
    """What ``GET /scan/{id}/report`` answers."""

    PENDING = "pending"
    """302 with ``Refresh-After``."""
    FAILED = "failed"
    """500 with the reason."""
    READY = "ready"
    """200 with the report."""


@dataclass(frozen=True)
class ScanState:
    """Where one scan request's report stands."""

    status: ReportStatus
    artifact: ArtifactInfo
    error: str | None = None


def scan_state(service: Service, scan_id: str) -> ScanState | None:
    """The state of ``scan_id``; None for an id this adapter never returned."""
    with service.store.session() as session:
        row = session.execute(
            select(HarborScan, Analysis.status, Analysis.error)
            .join(Analysis, Analysis.digest == HarborScan.digest)
            .where(HarborScan.id == scan_id)).first()
    if row is None:
        return None
    scan, analysis_status, analysis_error = row
    artifact = ArtifactInfo(scan.repository, scan.digest, scan.tag, scan.mime_type)
    if scan.status is HarborScanStatus.FAILED:
        return ScanState(ReportStatus.FAILED, artifact, scan.error)
    if scan.status is HarborScanStatus.QUEUED:
        return ScanState(ReportStatus.PENDING, artifact)
    if analysis_status is AnalysisStatus.ANALYSED:
        return ScanState(ReportStatus.READY, artifact)
    if analysis_status is AnalysisStatus.FAILED:
        return ScanState(ReportStatus.FAILED, artifact, analysis_error or "analysis failed")
    return ScanState(ReportStatus.PENDING, artifact)  # another job is analysing the digest
