"""Playing Harbor's role against the adapter: register (metadata), POST a scan of an image in
a registry that needs Basic authorization, poll the report as Harbor's job does, and check
what arrives against the spec's schemas and the vulnerable image's known advisories."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from hullscan.service.operations import Service
from hullscan.service.store.harbor_models import HarborScan, HarborScanStatus
from hullscan.service.store.models import Analysis, AnalysisStatus
from tests.service.harbor.conftest import (
    AUTH,
    SBOM_REPORT,
    VULNERABILITY_REPORT,
    PushedImage,
    load_spec,
    poll_report,
    post_scan,
    scan_request,
)
from tests.support.vulnerable_image import VulnerableImage

pytestmark = pytest.mark.registry

ALL_CAPABILITIES: list[dict[str, Any]] = [
    {"type": "vulnerability", "produces_mime_types": [VULNERABILITY_REPORT]},
    {"type": "sbom", "produces_mime_types": [SBOM_REPORT],
     "parameters": {"sbom_media_types": ["application/spdx+json",
                                         "application/vnd.cyclonedx+json"]}},
]


def validate(document: Any, schema_name: str) -> None:
    """Validate against ``#/components/schemas/NAME`` of the adapter spec."""
    spec = load_spec()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        document)


def test_harbor_scans_an_image_behind_basic_auth(harbor: TestClient, service: Service,
                                                basic_vulnerable: PushedImage,
                                                vulnerable_image: VulnerableImage) -> None:
    metadata = harbor.get("/api/v1/metadata", headers={
        **AUTH, "Accept": "application/vnd.scanner.adapter.metadata+json; version=1.1"})
    assert metadata.status_code == 200
    assert metadata.headers["content-type"] == \
        "application/vnd.scanner.adapter.metadata+json; version=1.1"
    validate(metadata.json(), "ScannerAdapterMetadata")
    capabilities = {c["type"]: c for c in metadata.json()["capabilities"]}
    assert VULNERABILITY_REPORT in capabilities["vulnerability"]["produces_mime_types"]
    assert capabilities["sbom"]["produces_mime_types"] == [SBOM_REPORT]
    assert metadata.json()["properties"][
        "harbor.scanner-adapter/vulnerability-database-updated-at"]

    scan_id = post_scan(harbor, scan_request(basic_vulnerable, basic_vulnerable.basic(),
                                             ALL_CAPABILITIES))
    report = poll_report(harbor, scan_id, VULNERABILITY_REPORT)
    assert report.status_code == 200, report.text
    assert report.headers["content-type"] == VULNERABILITY_REPORT
    body = report.json()
    validate(body, "HarborVulnerabilityReport")
    assert body["artifact"]["repository"] == basic_vulnerable.repository
    assert body["artifact"]["digest"] == basic_vulnerable.digest
    assert body["scanner"]["name"] == "hullscan"
    assert body["severity"] in ("High", "Critical")
    _assert_expected_advisories(body["vulnerabilities"], vulnerable_image)

    # Harbor before 2.x sends no Accept or the 1.0 type: the same schema, labelled 1.0.
    legacy = harbor.get(f"/api/v1/scan/{scan_id}/report", headers=AUTH)
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == \
        "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
    validate(legacy.json(), "HarborVulnerabilityReport")

    for sbom_type, marker in (("application/spdx+json", "spdxVersion"),
                              ("application/vnd.cyclonedx+json", "bomFormat")):
        sbom = poll_report(harbor, scan_id, SBOM_REPORT, {"sbom_media_type": sbom_type})
        assert sbom.status_code == 200, sbom.text
        assert sbom.headers["content-type"] == SBOM_REPORT
        validate(sbom.json(), "HarborSbomReport")
        assert sbom.json()["media_type"] == sbom_type
        assert marker in sbom.json()["sbom"]
        assert basic_vulnerable.server.host in str(sbom.json()["sbom"])

    with service.store.session() as session:
        scan = session.get(HarborScan, scan_id)
        assert scan is not None and scan.status is HarborScanStatus.FINISHED
        assert scan.authorization_encrypted is None  # dropped once the pull is done
        analysis = session.query(Analysis).filter_by(digest=basic_vulnerable.digest).one()
        assert analysis.status is AnalysisStatus.ANALYSED


def _assert_expected_advisories(vulnerabilities: list[dict[str, Any]],
                                image: VulnerableImage) -> None:
    for expected in image.expected:
        found = [v for v in vulnerabilities
                 if v["vendor_attributes"]["package_type"] == expected.type
                 and _normalise(expected.type, v["package"]) == expected.name
                 and v["version"] == expected.version]
        assert len(found) == len(expected.advisories), (expected.name, found)
        assert all(v["vendor_attributes"]["layer"]["index"] == expected.layer for v in found)
        for advisory, aliases in expected.advisories.items():
            names = {advisory, *aliases}
            matches = [v for v in found
                       if names & {v["id"], *v["vendor_attributes"]["aliases"]}]
            assert matches, f"{expected.name} {expected.version}: {advisory} not reported"
            fix = expected.fixes[advisory]
            if fix is not None:
                assert any(fix in v["fix_version"] for v in matches), (advisory, matches)
            assert all(v["severity"] in ("Unknown", "Negligible", "Low", "Medium", "High",
                                         "Critical") for v in matches)
            assert all(v["links"] for v in matches)
    assert len(vulnerabilities) == sum(len(e.advisories) for e in image.expected)


def _normalise(package_type: str, name: str) -> str:
    """PyPI names as PEP 503 normalises them (the catalog keeps ``Jinja2``)."""
    return re.sub(r"[-_.]+", "-", name).lower() if package_type == "pypi" else name


def test_registry_refusing_the_credentials_fails_the_report(
        harbor: TestClient, basic_vulnerable: PushedImage) -> None:
    wrong = basic_vulnerable.basic(password="not-the-password")
    scan_id = post_scan(harbor, scan_request(basic_vulnerable, wrong))
    report = poll_report(harbor, scan_id, VULNERABILITY_REPORT)
    assert report.status_code == 500
    assert report.headers["content-type"] == \
        "application/vnd.scanner.adapter.error+json; version=1.0"
    validate(report.json(), "ErrorResponse")
    message = report.json()["error"]["message"]
    assert "refused" in message
    assert "not-the-password" not in message


def test_a_new_request_with_good_credentials_retries_a_failed_digest(
        harbor: TestClient, basic_vulnerable: PushedImage) -> None:
    failed = post_scan(harbor, scan_request(basic_vulnerable,
                                            basic_vulnerable.basic(password="wrong")))
    assert poll_report(harbor, failed, VULNERABILITY_REPORT).status_code == 500
    retried = post_scan(harbor, scan_request(basic_vulnerable, basic_vulnerable.basic()))
    assert poll_report(harbor, retried, VULNERABILITY_REPORT).status_code == 200
    # The earlier request keeps its own outcome.
    assert poll_report(harbor, failed, VULNERABILITY_REPORT).status_code == 500
