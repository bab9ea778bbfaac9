"""The analysis every consumer shares (``scan``, ``promote``, the service): one pass over the
layers for the catalog, the checks and the policy's content patterns; metadata redacted.
With a cache, an image analysed before is not analysed again (:mod:`hullscan.analysis_cache`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hullscan.catalog.package import Catalog, Scope
from hullscan.catalog.run import analyse_image, catalog_image
from hullscan.collector import fewer_collections
from hullscan.errors import HullscanError
from hullscan.image.acquire import open_image
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import FileEntry, FileKind
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
    files: tuple[FileEntry, ...]
    """Every entry of the final (squashed) view; empty for an SBOM input."""
    file_contents: dict[str, bytes]
    """The account files policy gates read (:data:`ACCOUNT_FILES`), where present."""
    content_matches: dict[str, tuple[str, ...]]
    """Final files matching each content pattern asked for."""


ACCOUNT_FILES = ("etc/passwd", "etc/group")
"""Small files whose contents gates read (``passwd_file``)."""


def analyse(image: str, options: AcquireOptions, scope: Scope, check_run: CheckRun,
            patterns: Sequence[str] = (), *, cache: LayerCache | None = None) -> Analysed:
    """Catalog and checks in one pass over the layers; an SBOM gives a catalog only.

    With a ``cache``, an image analysed before with the same analysers and options (same
    config digest) is taken whole from it, and layers analysed before are not read (or
    downloaded) again.
    """
    with fewer_collections():  # a rescan builds 319,000 file records on the 1 GB image too
        return _analyse(image, options, scope, check_run, patterns, cache)


def _analyse(image: str, options: AcquireOptions, scope: Scope, check_run: CheckRun,
             patterns: Sequence[str], cache: LayerCache | None) -> Analysed:
    from hullscan.analysis_cache import load_analysis, store_analysis
    from hullscan.policy.content import ContentRegexVisitor
    from hullscan.report.redaction import redact_catalog, redact_check

    reference = parse_image_reference(image)
    if reference.kind is SourceKind.SBOM:
        catalog = redact_catalog(load_catalog(image, options, scope))
        return Analysed(catalog, [], (), {}, {})
    content = ContentRegexVisitor(patterns) if patterns else None
    visitors = [*check_run.visitors, *([content] if content is not None else [])]
    with open_image(image, options) as source:
        fingerprint = None
        if cache is not None:
            fingerprint = image_cache_fingerprint(options, scope, check_run, patterns)
            cached = load_analysis(cache, source.metadata, fingerprint)
            if cached is not None:
                return cached
        analysis = analyse_image(source, scope, visitors=visitors, keep=_keep(check_run),
                                 keep_key=_KEEP_KEY, cache=cache)
    # Checks read the real metadata (that is how they find secrets in it); what is reported
    # is redacted.
    checks = [redact_check(finding) for finding in check_run.findings(analysis)]
    filesystem = analysis.filesystem
    matches = content.final_matches(filesystem.layer_of) if content else {}
    analysed = Analysed(redact_catalog(analysis.catalog), checks, tuple(filesystem),
                        account_files(filesystem), matches)
    if cache is not None and fingerprint is not None:
        store_analysis(cache, analysed, fingerprint)
    return analysed


def image_cache_fingerprint(options: AcquireOptions, scope: Scope, check_run: CheckRun,
                            patterns: Sequence[str] = ()) -> str:
    """What, besides the image, decides :func:`analyse`'s result (the whole-image cache key)."""
    from hullscan.analysis_cache import image_fingerprint

    return image_fingerprint(options.limits, scope, check_run.options, patterns, _KEEP_KEY)


def account_files(filesystem: SquashedFilesystem) -> dict[str, bytes]:
    """The contents of the :data:`ACCOUNT_FILES` the final view holds as regular files."""
    contents: dict[str, bytes] = {}
    for path in ACCOUNT_FILES:
        entry = filesystem.entry(path)
        data = filesystem.read(path) if entry and entry.kind is FileKind.REGULAR else None
        if data is not None:
            contents[path] = data
    return contents


_KEEP_KEY = "pipeline/1:accounts+check-files"
"""Names what :func:`_keep` accepts: the account files and :attr:`CheckRun.keep` (their code
is part of the cache fingerprint; change this if ``_keep`` starts depending on options)."""


def _keep(check_run: CheckRun) -> Callable[[str], bool]:
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
