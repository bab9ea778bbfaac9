"""``/v1/images/{id}/...``: SBOM, vulnerabilities, check findings, policy evaluation and
reports of an analysed image, from its stored inventory."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from hullscan.errors import HullscanError
from hullscan.report.formats import REPORT_FORMATS
from hullscan.report.outcome import ScanOutcome
from hullscan.report.policy_document import evaluation_document
from hullscan.report.sbom import SBOM_FORMATS
from hullscan.report.scan_report import (
    check_document,
    finding_document,
    scan_document,
    sort_findings,
)
from hullscan.service.api.auth import authorize
from hullscan.service.api.context import Context
from hullscan.service.api.current import analysed_image, current_results
from hullscan.service.api.schemas import CheckReport, VulnerabilityReport
from hullscan.vuln.severity import Severity
from hullscan.vuln.suppression import SuppressionResult

router = APIRouter(prefix="/v1/images/{image_id}", tags=["results"],
                   dependencies=[Depends(authorize())])


def _choice(name: str, choices: dict[str, Any], option: str) -> Any:
    if name not in choices:
        raise HullscanError(f"unknown format (choose from {', '.join(choices)})",
                            subject=f"{option}={name}")
    return choices[name]


@router.get("/sbom", response_class=Response, responses={200: {"content": {
    f.media_type: {} for f in SBOM_FORMATS.values()}}})
def get_sbom(image_id: int, context: Context,
             output_format: Annotated[str, Query(
                 alias="format", description=f"one of {', '.join(SBOM_FORMATS)}")]
             = "cyclonedx-json") -> Response:
    """The image's SBOM, from the catalog of its analysis."""
    sbom = _choice(output_format, SBOM_FORMATS, "format")
    analysed = analysed_image(context, image_id)
    return Response(sbom.render(analysed.inventory.catalog), media_type=sbom.media_type)


@router.get("/vulnerabilities", response_model=VulnerabilityReport)
def get_vulnerabilities(image_id: int, context: Context) -> VulnerabilityReport:
    """Vulnerabilities of the image against the current database."""
    current = current_results(context, image_id)
    findings = sort_findings(current.results.findings)
    return VulnerabilityReport(
        image_id=image_id, digest=current.analysed.image.digest,
        database_built_at=current.database.built_at,
        summary={str(s): sum(1 for f in findings if f.severity is s)
                 for s in sorted(Severity, reverse=True)},
        findings=[finding_document(f) for f in findings],
        warnings=list(current.results.warnings))


@router.get("/evaluation", response_model=dict[str, Any])
def get_evaluation(image_id: int, context: Context) -> dict[str, Any]:
    """The active policy's verdict on the image, with current vulnerability data."""
    current = current_results(context, image_id)
    evaluation = current.results.evaluation
    assert evaluation is not None  # a bundle is always given
    return {**evaluation_document(evaluation), "database_built_at": current.database.built_at}


@router.get("/checks", response_model=CheckReport)
def get_checks(image_id: int, context: Context) -> CheckReport:
    """Check findings (secrets, configuration, ...) found when the image was analysed."""
    analysed = analysed_image(context, image_id)
    return CheckReport(image_id=image_id, digest=analysed.image.digest,
                       checks=[check_document(c) for c in analysed.inventory.checks])


@router.get("/report", response_class=Response, responses={200: {"content": {
    f.media_type: {} for f in REPORT_FORMATS.values()}}})
def get_report(image_id: int, context: Context,
               output_format: Annotated[str, Query(
                   alias="format", description=f"one of {', '.join(REPORT_FORMATS)}")]
               = "json") -> Response:
    """A CI report (as ``scan --output-<format>`` writes it) with current results."""
    report = _choice(output_format, REPORT_FORMATS, "format")
    current = current_results(context, image_id)
    inventory = current.analysed.inventory
    findings = tuple(sort_findings(current.results.findings))
    database = {"location": current.database.location.name,
                "built_at": current.database.built_at,
                "schema_version": current.database.schema_version}
    document = scan_document(inventory.catalog, SuppressionResult(findings, (), ()), database,
                             current.results.warnings, inventory.checks)
    outcome = ScanOutcome(document=document, catalog=inventory.catalog, findings=findings,
                          checks=inventory.checks, evaluation=current.results.evaluation)
    return Response(report.render(outcome), media_type=report.media_type)
