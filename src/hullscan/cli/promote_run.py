"""The ``promote`` command's work: pin the source to a digest, evaluate exactly that digest,
and only on a pass copy it to the destination and check the digest that landed.

There is no gap between check and use: the source tag is read once, every later read is by
digest, and the copy verifies each manifest against the digest that was evaluated.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from hullscan.cli.scan_run import (
    EXIT_FAILED_GATE,
    ScanSettings,
    exit_code,
    load_policy,
    perform_scan,
    write_reports,
)
from hullscan.errors import HullscanError
from hullscan.image.copy import CopyResult, ResolvedImage, copy_image, resolve_digest
from hullscan.image.manifest import ImageIndex, parse_manifest
from hullscan.image.referrers import attach_referrer
from hullscan.image.sources.registry import client_for
from hullscan.policy.context import ImageName
from hullscan.report.formats import REPORT_FORMATS
from hullscan.report.outcome import ScanOutcome
from hullscan.report.sbom import cyclonedx_json
from hullscan.vuln.severity import Severity

REPORT_ARTIFACT_TYPE = "application/vnd.hullscan.report.v1+json"
SBOM_ARTIFACT_TYPE = "application/vnd.cyclonedx+json"


def run_promote(source: str, destination: str, settings: ScanSettings, *,
                output_format: str, output: Path | None, reports: Mapping[str, Path],
                threshold: Severity | None, attach_report: bool, attach_sbom: bool,
                write: Callable[[str, Path | None], None]) -> int:
    """Evaluate ``source`` and copy it to ``destination`` on a pass; returns the exit code."""
    if not settings.use_policy:
        raise HullscanError("promote always evaluates a policy", subject="--no-policy")
    bundle = load_policy(settings.policy)  # a bad bundle fails before anything is read
    resolved = resolve_digest(source, settings.options)
    pinned = resolved.reference
    name = ImageName(pinned.registry, pinned.repository, pinned.tag or "", resolved.digest)
    outcomes = [perform_scan(f"registry:{pinned.registry}/{pinned.repository}@{digest}",
                             settings, name=name, bundle=bundle)
                for digest in platform_digests(resolved)]
    worst = max(outcomes, key=lambda o: (exit_code(o, threshold), _rank(o)))
    write_reports(worst, output_format=output_format, output=output, reports=reports,
                  write=write)
    if len(outcomes) > 1:
        _say(f"evaluated {len(outcomes)} platform images of {source}; reports show the "
             f"worst ({worst.catalog.image.platform or 'unknown platform'})")
    if any(exit_code(o, threshold) for o in outcomes):
        _say(f"not promoted: {source} ({resolved.digest}) failed the policy; nothing was "
             f"written to {destination}")
        return EXIT_FAILED_GATE
    copied = copy_image(pinned, resolved.digest, destination, settings.options)
    _say(f"promoted {copied.source} to {copied.destination} ({copied.uploaded} uploaded, "
         f"{copied.mounted} mounted, {copied.skipped} already there; digest verified)")
    if attach_report or attach_sbom:
        _attach(copied, destination, settings, worst, attach_report=attach_report,
                attach_sbom=attach_sbom)
    return 0


def platform_digests(resolved: ResolvedImage) -> list[str]:
    """The image manifests to evaluate: the one manifest, or every platform of an index
    (attestations are not images)."""
    document = parse_manifest(resolved.manifest, resolved.media_type,
                              subject=str(resolved.reference), require_image=False)
    if not isinstance(document, ImageIndex):
        return [resolved.digest]
    digests = [d.digest for d in document.manifests if not d.is_attestation]
    if not digests:
        raise HullscanError("the index lists no image manifests", subject=str(resolved.reference))
    return digests


def _attach(copied: CopyResult, destination: str, settings: ScanSettings, outcome: ScanOutcome,
            *, attach_report: bool, attach_sbom: bool) -> None:
    from hullscan.image.copy import registry_reference

    target = registry_reference(destination)
    payloads = []
    if attach_report:
        payloads.append((REPORT_ARTIFACT_TYPE, REPORT_FORMATS["json"].render(outcome),
                         "application/json"))
    if attach_sbom:
        payloads.append((SBOM_ARTIFACT_TYPE, cyclonedx_json.render(outcome.catalog),
                         SBOM_ARTIFACT_TYPE))
    with client_for(target, settings.options) as client:
        for artifact_type, text, media_type in payloads:
            attached = attach_referrer(
                client, target.repository, subject_digest=copied.digest,
                subject_media_type=copied.media_type, subject_size=copied.size,
                artifact_type=artifact_type, payload=text.encode("utf-8"),
                payload_media_type=media_type,
                annotations={"org.opencontainers.image.title": artifact_type})
            _say(f"attached {artifact_type} as {attached.digest} ({attached.mode.value})")


def _rank(outcome: ScanOutcome) -> int:
    return outcome.evaluation.final_action.rank if outcome.evaluation is not None else 0


def _say(text: str) -> None:
    print(f"hullscan: {text}", file=sys.stderr)



