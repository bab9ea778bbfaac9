"""A realistic :class:`ScanOutcome` built from real dataclasses, with hostile image strings.

:func:`sample_outcome` has two STOP fires (a critical log4j finding with a fix, an AWS key in a
file deleted by a later layer), two WARN fires (one whose allowlist item expired, one about the
image config with no finding behind it) and one allowlisted STOP fire (curl, in CISA KEV).
Layer 3's ``created_by`` and the secret's path carry ``<script>alert(1)</script>``.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from hullscan.catalog.package import Catalog, LayerRef, Package
from hullscan.checks.finding import Category, CheckFinding
from hullscan.image.layer import LayerInfo
from hullscan.policy.context import ImageName
from hullscan.policy.gates.base import Fire
from hullscan.policy.model import Action, AllowlistItem
from hullscan.policy.result import AllowlistMatch, Evaluation, TriggeredRule
from hullscan.report.outcome import ScanOutcome
from hullscan.report.scan_report import scan_document
from hullscan.vuln.finding import AffectedPackage, Finding, FixState
from hullscan.vuln.severity import Severity
from hullscan.vuln.suppression import SuppressionResult
from tests.report.sbom import LAYERS, sample_catalog

SCRIPT = "<script>alert(1)</script>"
HOSTILE_STEP = f"RUN /bin/sh -c echo '{SCRIPT}' > /srv/x # buildkit"
HOSTILE_LAYER = LayerRef(3, "sha256:" + "9" * 64, HOSTILE_STEP)
SECRET_PATH = f"app/{SCRIPT}/.env"
EVIL_NAME = "evil|`pkg`<b>@x"
EVIL_PURL = "pkg:npm/evil%7C%60pkg%60%3Cb%3E%40x@1.0.0"
LOG4J_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
DOCKERFILE = f"""\
FROM debian:12
ENV LANG=C.UTF-8
RUN apt-get update && \\
    apt-get install -y python3-six curl
RUN rm -rf /var/lib/apt && npm install
RUN echo '{SCRIPT}' > /srv/x
USER app
"""
EVALUATED_AT = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC)


def catalog() -> Catalog:
    """The SBOM tests' catalog plus a hostile npm package in a fourth layer."""
    base = sample_catalog()
    image = dataclasses.replace(base.image, layers=(*base.image.layers, LayerInfo(
        index=3, diff_id=HOSTILE_LAYER.diff_id, digest="sha256:" + "8" * 64,
        media_type="application/vnd.oci.image.layer.v1.tar+gzip", size=512,
        created_by=HOSTILE_STEP)))
    evil = Package(name=EVIL_NAME, version="1.0.0", type="npm", purl=EVIL_PURL,
                   locations=(f"srv/{SCRIPT}/package.json",), layer=HOSTILE_LAYER,
                   found_by="javascript")
    return dataclasses.replace(base, image=image, packages=(*base.packages, evil))


def _affected(package: Package) -> AffectedPackage:
    return AffectedPackage(package.name, package.version, package.type, package.purl,
                           package.locations, package.layer)


def findings(packages: tuple[Package, ...]) -> tuple[Finding, ...]:
    """log4j (critical, fixed, CVSS vector), curl (high, KEV, no fix), the hostile package."""
    by_name = {p.name: p for p in packages}
    return (
        Finding(id="CVE-2021-44228", aliases=("GHSA-jfh8-c2jp-5v3q",),
                package=_affected(by_name["log4j-core"]), severity=Severity.CRITICAL,
                severity_source="nvd", cvss_score=10.0, cvss_vector=LOG4J_VECTOR,
                epss_score=0.97, epss_percentile=0.999, kev=True, kev_due_date="2021-12-24",
                fix_versions=("2.17.1",), fix_state=FixState.FIXED,
                data_source="osv:Maven GHSA-jfh8-c2jp-5v3q", namespace="maven",
                matched_name="org.apache.logging.log4j:log4j-core",
                summary="Log4Shell: JNDI lookup allows remote code execution",
                published="2021-12-10T00:00:00Z"),
        Finding(id="CVE-2023-38545", aliases=("DSA-5587-1",),
                package=_affected(by_name["curl"]), severity=Severity.HIGH,
                severity_source="debian", cvss_score=None, cvss_vector=None,
                epss_score=0.2, epss_percentile=0.9, kev=True, kev_due_date="2024-01-31",
                fix_versions=(), fix_state=FixState.NOT_FIXED,
                data_source="debian:12 CVE-2023-38545", namespace="debian:12",
                matched_name="curl", summary="SOCKS5 heap buffer overflow"),
        Finding(id="GHSA-xxxx-yyyy-zzzz", aliases=(), package=_affected(by_name[EVIL_NAME]),
                severity=Severity.MEDIUM, severity_source="ghsa", cvss_score=None,
                cvss_vector=None, epss_score=None, epss_percentile=None, kev=False,
                kev_due_date=None, fix_versions=("1.0.1",), fix_state=FixState.FIXED,
                data_source="osv:npm GHSA-xxxx-yyyy-zzzz", namespace="npm",
                matched_name=EVIL_NAME, summary=f"Prototype pollution {SCRIPT}"),
    )


def checks() -> tuple[CheckFinding, ...]:
    """A secret in a file a later layer deleted; a config finding from the Dockerfile."""
    return (
        CheckFinding(rule_id="HS-SEC-AWS-ACCESS-KEY", title="AWS access key ID",
                     severity=Severity.CRITICAL, category=Category.SECRET,
                     rationale="Anyone who pulls the image can use the key.",
                     remediation="Revoke the key and pass it at run time.",
                     layer=LAYERS[2], path=SECRET_PATH, line=3, deleted_by=HOSTILE_LAYER,
                     evidence="AWS_ACCESS_KEY_ID=AKIA************MPLE"),
        CheckFinding(rule_id="HS-CFG-013",
                     title="apt-get install without --no-install-recommends",
                     severity=Severity.LOW, category=Category.CONFIG,
                     rationale="Recommended packages enlarge the attack surface.",
                     remediation="Add --no-install-recommends.", layer=LAYERS[1],
                     config_key="Dockerfile:3", line=3),
    )


def _rule(rule_id: str, gate: str, trigger: str, action: Action, fire: Fire, *,
          from_base: bool | None = False, allowlisted: AllowlistMatch | None = None,
          expired: AllowlistMatch | None = None,
          recommendation: str | None = None) -> TriggeredRule:
    return TriggeredRule(policy_id="default", rule_id=rule_id, gate=gate, trigger=trigger,
                         action=action, fire=fire, recommendation=recommendation,
                         allowlisted=allowlisted, expired_allowlist=expired,
                         from_base_image=from_base)


ACCEPTED = AllowlistMatch("accepted", AllowlistItem(
    "item-1", "vulnerabilities", "CVE-2023-38545+curl", "SOCKS5 proxy never used",
    datetime.date(2027, 3, 31)))
EXPIRED = AllowlistMatch("accepted", AllowlistItem(
    "item-2", "vulnerabilities", "GHSA-xxxx-yyyy-zzzz+*", "waiting for upstream",
    datetime.date(2026, 1, 1)))


def triggered(found: tuple[Finding, ...]) -> tuple[TriggeredRule, ...]:
    """Two STOP, two WARN (one with an expired allowlist item), one allowlisted STOP."""
    log4j, curl, evil = found
    return (
        _rule("crit-fix", "vulnerabilities", "package", Action.STOP, Fire(
            "CVE-2021-44228+log4j-core", "critical CVE-2021-44228 in log4j-core 2.14.1, "
            "fixed in 2.17.1", layer=LAYERS[2], severity=Severity.CRITICAL,
            package="log4j-core 2.14.1 (maven)", finding_id=log4j.id,
            details={"fix_versions": ("2.17.1",), "severity": Severity.CRITICAL}),
            recommendation="Upgrade the package to the fixed version"),
        _rule("kev", "vulnerabilities", "package", Action.STOP, Fire(
            "CVE-2023-38545+curl", "CVE-2023-38545 in curl is in CISA KEV",
            layer=curl.package.layer, severity=Severity.HIGH,
            package="curl 7.88.1-10+deb12u5 (deb)", finding_id=curl.id),
            from_base=True, allowlisted=ACCEPTED),
        _rule("secrets", "secret_scans", "content_regex_checks", Action.STOP, Fire(
            f"HS-SEC-AWS-ACCESS-KEY+{SECRET_PATH}", f"AWS access key ID in /{SECRET_PATH}",
            layer=LAYERS[2], severity=Severity.CRITICAL, path=SECRET_PATH,
            finding_id="HS-SEC-AWS-ACCESS-KEY")),
        _rule("medium", "vulnerabilities", "package", Action.WARN, Fire(
            f"GHSA-xxxx-yyyy-zzzz+{EVIL_NAME}", f"medium GHSA-xxxx-yyyy-zzzz in {EVIL_NAME}",
            layer=HOSTILE_LAYER, severity=Severity.MEDIUM, package=f"{EVIL_NAME} 1.0.0 (npm)",
            finding_id=evil.id, dockerfile_line=6), expired=EXPIRED),
        _rule("root", "config", "effective_user", Action.WARN, Fire(
            "effective_user+root", "the image runs as root"), from_base=None),
    )


def evaluation(found: tuple[Finding, ...],
               rules: tuple[TriggeredRule, ...] | None = None) -> Evaluation:
    """An evaluation of bundle ``example`` whose final action is the worst active one."""
    rules = triggered(found) if rules is None else rules
    final = Action.worst([r.effective_action for r in rules])
    return Evaluation(
        bundle_id="example", bundle_name="Example production gate",
        bundle_source="examples/ci/policy.yaml",
        image=ImageName("localhost:5000", "team/app", "1.0", "sha256:" + "d" * 64),
        mapping="default", policy_ids=("default",), allowlist_ids=("accepted",),
        final_action=final, reason=f"{final}: worst action of the rules that fired",
        triggered=rules, evaluated_at=EVALUATED_AT, base_layer_count=2)


def write_dockerfile(directory: Path) -> Path:
    """The Dockerfile that built the sample image's layers."""
    path = directory / "Dockerfile"
    path.write_text(DOCKERFILE)
    return path


def sample_outcome(dockerfile: Path | None = None, *, policy: bool = True,
                   rules: tuple[TriggeredRule, ...] | None = None) -> ScanOutcome:
    """The sample scan; ``policy=False`` leaves out the evaluation."""
    cat = catalog()
    found = findings(cat.packages)
    found_checks = checks()
    document = scan_document(cat, SuppressionResult(found, (), ()), {"built": "2026-11-27"},
                             [], found_checks)
    return ScanOutcome(document=document, catalog=cat, findings=found, checks=found_checks,
                       evaluation=evaluation(found, rules) if policy else None,
                       dockerfile=dockerfile)


def passing_outcome() -> ScanOutcome:
    """Only WARN fires: the policy passes."""
    cat = catalog()
    rules = tuple(r for r in triggered(findings(cat.packages)) if r.action is Action.WARN)
    return sample_outcome(rules=rules)


def big_outcome(count: int) -> ScanOutcome:
    """``count`` critical findings, each firing a STOP rule (for size limits)."""
    base = sample_outcome()
    log4j = base.findings[0]
    many = tuple(dataclasses.replace(log4j, id=f"CVE-2026-{1000 + n}") for n in range(count))
    rules = tuple(_rule("crit-fix", "vulnerabilities", "package", Action.STOP, Fire(
        f"{f.id}+log4j-core", f"critical {f.id}", layer=LAYERS[2], severity=Severity.CRITICAL,
        package="log4j-core 2.14.1 (maven)", finding_id=f.id)) for f in many)
    return dataclasses.replace(base, findings=many, evaluation=evaluation(many, rules))
