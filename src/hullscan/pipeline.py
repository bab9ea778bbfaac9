"""The analysis every consumer shares (``scan``, ``promote``, the service): one pass over the
layers for the catalog, the checks and the policy's content patterns; metadata redacted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hullscan.catalog.package import Catalog, Scope
from hullscan.catalog.run import analyse_image, catalog_image
from hullscan.errors import HullscanError
from hullscan.image.acquire import open_image
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer_cache import LayerCache
from hullscan.image.reference import SourceKind, parse_image_reference
from hullscan.image.sources.interface import AcquireOptions

if TYPE_CHECKING:  # the checks and the policy are imported by the commands that run them
    from hullscan.checks.finding import CheckFinding
    from hullscan.checks.run import CheckRun


@dataclass(frozen=True)
class Analysed:
    """One image after the layer pass: what it contains, before any vulnerability matching."""

    catalog: Catalog
    """The catalog, image metadata redacted."""
    checks: list[CheckFinding]
    """Check findings, evidence redacted."""
    filesystem: SquashedFilesystem | None
    """The final view (None for an SBOM input)."""
    content_matches: dict[str, tuple[str, ...]]
    """Final files matching each content pattern asked for."""


def analyse(image: str, options: AcquireOptions, scope: Scope, check_run: CheckRun,
            patterns: Sequence[str] = (), *, cache: LayerCache | None = None) -> Analysed:
    """Catalog and checks in one pass over the layers; an SBOM gives a catalog only.

    With a ``cache``, layers analysed before with the same analysers and options are not
    read (or downloaded) again.
    """
    from hullscan.policy.content import ContentRegexVisitor
    from hullscan.report.redaction import redact_catalog, redact_check

    reference = parse_image_reference(image)
    if reference.kind is SourceKind.SBOM:
        return Analysed(redact_catalog(load_catalog(image, options, scope)), [], None, {})
    content = ContentRegexVisitor(patterns) if patterns else None
    visitors = [*check_run.visitors, *([content] if content is not None else [])]
    with open_image(image, options) as source:
        analysis = analyse_image(source, scope, visitors=visitors, keep=_keep(check_run),
                                 keep_key=_KEEP_KEY, cache=cache)
    # Checks read the real metadata (that is how they find secrets in it); what is reported
    # is redacted.
    checks = [redact_check(finding) for finding in check_run.findings(analysis)]
    matches = content.final_matches(analysis.filesystem.layer_of) if content else {}
    return Analysed(redact_catalog(analysis.catalog), checks, analysis.filesystem, matches)


_KEEP_KEY = "pipeline/1:accounts+check-files"
"""Names what :func:`_keep` accepts: the account files and :attr:`CheckRun.keep` (their code
is part of the cache fingerprint; change this if ``_keep`` starts depending on options)."""


def _keep(check_run: CheckRun) -> Callable[[str], bool]:
    from hullscan.policy.collect import ACCOUNT_FILES

    wanted = check_run.keep

    def keep(path: str) -> bool:
        return path in ACCOUNT_FILES or wanted(path)
    return keep


def load_catalog(text: str, options: AcquireOptions, scope: Scope, *,
                 cache: LayerCache | None = None) -> Catalog:
    """The catalog of an image, or the one an SBOM file describes."""
    from hullscan.report.sbom import read_sbom

    reference = parse_image_reference(text)
    if reference.kind is SourceKind.SBOM:
        assert reference.path is not None
        try:
            return read_sbom(reference.path)
        except HullscanError as error:
            raise error.with_subject(text) from None
    with open_image(text, options) as source:
        return catalog_image(source, scope, cache=cache)
