"""``hullscan promote`` end to end against a real registry: a failing image never reaches
prod, allowlisting with reasons lets it through, a clean image and a multi-platform index
land with the evaluated digest, reports and SBOM ride along as referrers."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from hullscan.errors import ImageNotFoundError
from hullscan.image.acquire import open_image
from hullscan.image.push import PushTarget, push_image
from hullscan.image.referrers import list_referrers
from hullscan.image.registry.client import RegistryClient, RegistryOptions
from tests.cli.run_cli import CliRun, run_hullscan
from tests.support.registry_servers import RegistryServer, skopeo_inspect
from tests.support.standard_images import MultiPlatformFacts
from tests.support.vulnerable_image import VulnerableImage

# The session database of the vulnerability tests (built once from ../shared/vulndata).
from tests.vuln.conftest import BuiltDatabase, built_database, vulndata  # noqa: F401

STRICT = {
    "version": "1", "id": "strict", "name": "Staging to production",
    "policies": [{"id": "default", "rules": [
        {"gate": "vulnerabilities", "trigger": "package", "params": {"fix_available": True},
         "action": "STOP", "recommendation": "Upgrade to the fixed version"},
        {"gate": "secret_scans", "trigger": "content_regex_checks", "action": "STOP"},
        {"gate": "config", "trigger": "effective_user",
         "params": {"users": ["root"], "type": "denylist"}, "action": "WARN"}]}],
}
"""STOP on any vulnerability that has a fix, and on secrets."""
_names = itertools.count()


def _client(server: RegistryServer) -> RegistryClient:
    return RegistryClient(server.host, options=RegistryOptions(ca_cert=server.ca_cert))


def _push(server: RegistryServer, layout: Path, ref: str, repository: str) -> None:
    with open_image(f"oci-dir:{layout}:{ref}") as source, _client(server) as client:
        push_image(source, PushTarget(client, repository, "1"))


def _absent(server: RegistryServer, repository: str) -> bool:
    with _client(server) as client:
        try:
            client.get_manifest(repository, "1")
        except ImageNotFoundError:
            return True
    return False


def _promote(server: RegistryServer, staging: str, prod: str, *args: str, cwd: Path,
             db: Path) -> CliRun:
    return run_hullscan("promote", f"{server.host}/{staging}:1", f"{server.host}/{prod}:1",
                        "--db", str(db), *args, cwd=cwd)


def _repositories(name: str) -> tuple[str, str]:
    n = next(_names)
    return f"staging/{name}{n}", f"prod/{name}{n}"


@pytest.fixture(scope="module")
def db(built_database: BuiltDatabase) -> Path:  # noqa: F811
    return built_database.path


@pytest.fixture(scope="module")
def vulnerable_in_staging(registry_plain: RegistryServer,
                          vulnerable_image: VulnerableImage) -> tuple[str, str]:
    staging, prod = _repositories("vulnerable")
    _push(registry_plain, vulnerable_image.layout, vulnerable_image.ref, staging)
    return staging, prod


def test_failing_image_is_not_promoted_then_allowlisting_lets_it_through(
        registry_plain: RegistryServer, vulnerable_in_staging: tuple[str, str], db: Path,
        tmp_path: Path) -> None:
    staging, prod = vulnerable_in_staging
    report = tmp_path / "report.json"
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(STRICT))
    refused = _promote(registry_plain, staging, prod, "--policy", str(policy),
                       "--output-json", str(report), cwd=tmp_path, db=db)
    assert refused.code == 1, refused.stderr
    assert "not promoted" in refused.stderr
    assert _absent(registry_plain, prod)
    evaluation: dict[str, Any] = json.loads(report.read_text())["policy"]
    assert evaluation["final_action"] == "STOP" and evaluation["passed"] is False
    stops = [t for t in evaluation["triggered"] if t["effective_action"] == "STOP"]
    assert stops and all(t["gate"] == "vulnerabilities" for t in stops)
    # Every STOP names its finding, package and layer.
    assert all(t["finding_id"] and t["package"] and t["layer"] for t in stops)

    # Accept each STOP finding with a reason: the same digest now passes.
    bundle = dict(STRICT)
    bundle["allowlists"] = [{"id": "accepted", "items": [
        {"id": f"item-{n}", "gate": t["gate"], "trigger_id": t["trigger_id"],
         "reason": "accepted for the test: not reachable in this service",
         "expires_on": "2099-12-31"} for n, t in enumerate(stops)]}]
    bundle["mappings"] = [{"registry": "*", "repository": "*", "policy_ids": ["default"],
                           "allowlist_ids": ["accepted"]}]
    policy.write_text(yaml.safe_dump(bundle))
    passed = _promote(registry_plain, staging, prod, "--policy", str(policy),
                      "--output-json", str(report), cwd=tmp_path, db=db)
    assert passed.code == 0, passed.stderr
    again: dict[str, Any] = json.loads(report.read_text())["policy"]
    assert again["final_action"] in {"GO", "WARN"}
    assert {t["allowlisted"]["reason"] for t in again["triggered"] if t["allowlisted"]} == {
        "accepted for the test: not reachable in this service"}
    digest = skopeo_inspect(registry_plain, f"{staging}:1")["Digest"]
    assert skopeo_inspect(registry_plain, f"{prod}:1")["Digest"] == digest
    assert again["image"]["digest"] == digest


def test_expired_allowlist_no_longer_lets_it_through(
        registry_plain: RegistryServer, vulnerable_in_staging: tuple[str, str], db: Path,
        tmp_path: Path) -> None:
    staging, _ = vulnerable_in_staging
    prod = f"{staging.replace('staging', 'prod')}-expired"
    bundle = dict(STRICT)
    bundle["allowlists"] = [{"id": "old", "items": [
        {"id": "all", "gate": "vulnerabilities", "trigger_id": "*", "reason": "once accepted",
         "expires_on": "2020-01-01"}]}]
    bundle["mappings"] = [{"registry": "*", "repository": "*", "policy_ids": ["default"],
                           "allowlist_ids": ["old"]}]
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(bundle))
    run = _promote(registry_plain, staging, prod, "--policy", str(policy), cwd=tmp_path, db=db)
    assert run.code == 1, run.stderr
    assert _absent(registry_plain, prod)


def test_clean_image_is_promoted_with_the_same_digest_and_referrers(
        registry_plain: RegistryServer, vulnerable_image: VulnerableImage, db: Path,
        tmp_path: Path) -> None:
    staging, prod = _repositories("clean")
    _push(registry_plain, vulnerable_image.layout, vulnerable_image.clean_ref, staging)
    run = _promote(registry_plain, staging, prod, "--attach-report", "--attach-sbom",
                   cwd=tmp_path, db=db)
    assert run.code == 0, run.stderr
    assert "promoted" in run.stderr and "digest verified" in run.stderr
    digest = skopeo_inspect(registry_plain, f"{staging}:1")["Digest"]
    assert skopeo_inspect(registry_plain, f"{prod}:1")["Digest"] == digest
    with _client(registry_plain) as client:
        referrers = list_referrers(client, prod, digest)
    assert sorted(r.artifact_type or "" for r in referrers) == [
        "application/vnd.cyclonedx+json", "application/vnd.hullscan.report.v1+json"]


def test_multi_platform_index_is_evaluated_and_promoted_whole(
        registry_plain: RegistryServer, multiplatform_layout: Path,
        multiplatform_facts: MultiPlatformFacts, db: Path, tmp_path: Path) -> None:
    staging, prod = _repositories("multi")
    _push(registry_plain, multiplatform_layout, multiplatform_facts.ref, staging)
    run = _promote(registry_plain, staging, prod, cwd=tmp_path, db=db)
    assert run.code == 0, run.stderr
    assert f"evaluated {len(multiplatform_facts.platforms)} platform images" in run.stderr
    source = skopeo_inspect(registry_plain, f"{staging}:1", raw=True)
    assert skopeo_inspect(registry_plain, f"{prod}:1", raw=True) == source
    with _client(registry_plain) as client:
        for child in source["manifests"]:
            assert client.get_manifest(prod, child["digest"]).digest == child["digest"]


def test_bad_policy_is_an_error_and_writes_nothing(
        registry_plain: RegistryServer, vulnerable_in_staging: tuple[str, str], db: Path,
        tmp_path: Path) -> None:
    staging, _ = vulnerable_in_staging
    prod = f"{staging.replace('staging', 'prod')}-badpolicy"
    policy = tmp_path / "bad.yaml"
    policy.write_text('version: "1"\nid: b\npolicies:\n  - id: p\n    rules:\n'
                      '      - {gate: vulnerabilities, trigger: package, action: HALT}\n')
    run = _promote(registry_plain, staging, prod, "--policy", str(policy), cwd=tmp_path, db=db)
    assert run.code == 2
    assert run.stderr.startswith(f"hullscan: error: {policy}:6: policies[0].rules[0].action")
    assert len(run.stderr.strip().splitlines()) == 1
    assert _absent(registry_plain, prod)
