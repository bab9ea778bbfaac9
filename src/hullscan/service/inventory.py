"""What the service keeps per analysed digest, so that vulnerabilities and the policy verdict
can be recomputed against new data without pulling the image again.

An inventory is the layer pass's output (catalog, check findings, the final file list, the
account files, content-pattern matches), serialised as compressed JSON. Vulnerability
matching and policy evaluation are *not* part of it: :func:`image_results` derives them from
the inventory and the current database and bundle.
"""

from __future__ import annotations

import datetime
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hullscan.analysis_cache import analysis_document, analysis_fields
from hullscan.catalog.package import Catalog, Scope
from hullscan.checks.finding import Category, CheckFinding
from hullscan.checks.run import CheckOptions, CheckRun, sort_check_findings
from hullscan.errors import CorruptContentError
from hullscan.image.layer import FileEntry
from hullscan.image.layer_cache import LayerCache
from hullscan.image.sources.interface import AcquireOptions
from hullscan.pipeline import analyse
from hullscan.policy.base_image import detect_base_image
from hullscan.policy.collect import image_name
from hullscan.policy.context import DatabaseFacts, EvaluationContext, ImageName
from hullscan.policy.evaluate import evaluate
from hullscan.policy.model import Bundle
from hullscan.policy.result import Evaluation
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.finding import Finding
from hullscan.vuln.matcher import match_catalog

SCHEMA = "hullscan-inventory/1"
CHECK_CATEGORIES = frozenset(Category)


@dataclass(frozen=True)
class Inventory:
    """Everything the layer pass found in one image."""

    catalog: Catalog
    checks: tuple[CheckFinding, ...]
    files: tuple[FileEntry, ...] = ()
    file_contents: Mapping[str, bytes] = field(default_factory=dict, hash=False)
    content_matches: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    base_layer_count: int | None = None

    @property
    def name(self) -> ImageName:
        """The image name as analysed (mappings may be given another, see image_results)."""
        return image_name(self.catalog.image)


@dataclass(frozen=True)
class ImageResults:
    """Vulnerabilities and verdict of one inventory against one database and bundle."""

    findings: tuple[Finding, ...]
    evaluation: Evaluation | None
    warnings: tuple[str, ...]


def analyse_inventory(reference: str, options: AcquireOptions,
                      content_patterns: Sequence[str] = (), *,
                      cache: LayerCache | None = None) -> Inventory:
    """Pull and analyse ``reference`` once: every check category, squashed scope.

    With a ``cache``, layers analysed before (by any image) are neither pulled nor read.
    """
    check_run = CheckRun(CheckOptions(CHECK_CATEGORIES))
    analysed = analyse(reference, options, Scope.SQUASHED, check_run, content_patterns,
                       cache=cache)
    image = analysed.catalog.image
    base = detect_base_image(image.config, len(image.layers))
    return Inventory(analysed.catalog, tuple(sort_check_findings(analysed.checks)),
                     analysed.files, analysed.file_contents, analysed.content_matches,
                     base.layer_count)


def image_results(inventory: Inventory, database: VulnerabilityDatabase | None,
                  bundle: Bundle | None, *, name: ImageName | None = None,
                  now: datetime.datetime | None = None) -> ImageResults:
    """Match the inventory against ``database`` and evaluate ``bundle`` (either may be None)."""
    findings: tuple[Finding, ...] | None = None
    warnings: tuple[str, ...] = ()
    facts: DatabaseFacts | None = None
    if database is not None:
        matched = match_catalog(inventory.catalog, database)
        findings, warnings = matched.findings, matched.warnings
        built = database.status().built_at
        facts = DatabaseFacts(
            datetime.datetime.fromisoformat(built.replace("Z", "+00:00")) if built else None,
            database.namespaces())
    evaluation = None
    if bundle is not None:
        context = EvaluationContext(
            image=name or inventory.name, metadata=inventory.catalog.image,
            catalog=inventory.catalog, vulnerabilities=findings, checks=inventory.checks,
            files=inventory.files, file_contents=inventory.file_contents,
            content_matches=inventory.content_matches, database=facts,
            base_layer_count=inventory.base_layer_count,
            now=now or datetime.datetime.now(datetime.UTC))
        evaluation = evaluate(bundle, context)
    return ImageResults(findings or (), evaluation, warnings)


# --------------------------------------------------------------------------- serialisation


def dumps(inventory: Inventory) -> bytes:
    """Compressed JSON (``hullscan-inventory/1``)."""
    document = {
        "schema": SCHEMA,
        **analysis_document(inventory.catalog, inventory.checks, inventory.files,
                            inventory.file_contents, inventory.content_matches),
        "base_layer_count": inventory.base_layer_count,
    }
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)


def loads(data: bytes, *, subject: str = "stored inventory") -> Inventory:
    """The inventory :func:`dumps` wrote."""
    try:
        document = json.loads(zlib.decompress(data))
        if document.get("schema") != SCHEMA:
            raise CorruptContentError(f"not a {SCHEMA} document", subject=subject)
        return Inventory(**analysis_fields(document, subject=subject),
                         base_layer_count=document["base_layer_count"])
    except (zlib.error, ValueError, KeyError, TypeError) as error:
        raise CorruptContentError(f"unreadable inventory ({error})", subject=subject) from None
