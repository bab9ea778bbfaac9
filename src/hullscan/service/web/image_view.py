"""One image as its detail page shows it: verdict, layers (with what each added), findings,
checks and the verdicts of earlier digests under the same name."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from hullscan.catalog.package import LayerRef, Package
from hullscan.checks.finding import CheckFinding
from hullscan.policy.result import TriggeredRule
from hullscan.report.layers import build_step, is_base_layer, origin
from hullscan.report.policy_table import finding_text
from hullscan.report.scan_report import sort_findings
from hullscan.service.api.current import CurrentResults
from hullscan.service.store.database import Store
from hullscan.service.store.models import Analysis, Image, ImageResult
from hullscan.vuln.finding import Finding


@dataclass(frozen=True)
class LayerView:
    """One layer and what it brought in."""

    index: int
    created_by: str
    step: str
    size: int
    origin: str
    """``base``, ``own`` or empty (unknown)."""
    packages: tuple[Package, ...]
    findings: tuple[Finding, ...]
    checks: tuple[CheckFinding, ...]


@dataclass(frozen=True)
class RuleView:
    """One triggered rule, with where its finding came from."""

    action: str
    gate: str
    trigger: str
    rule: str
    finding: str
    finding_id: str | None
    layer: int | None
    origin: str
    message: str
    recommendation: str
    allowlisted: str


@dataclass(frozen=True)
class HistoryEntry:
    """Another (or this) digest under the same repository and tag."""

    image_id: int
    digest: str
    verdict: str | None
    vulnerabilities: int | None
    analysed_at: datetime.datetime | None
    added_at: datetime.datetime
    current: bool


def _index(layer: LayerRef | None) -> int | None:
    return None if layer is None else layer.index


def layers(current: CurrentResults) -> tuple[LayerView, ...]:
    """Every layer of the image, oldest first, with the packages, vulnerabilities and check
    findings whose layer it is."""
    inventory = current.analysed.inventory
    findings = sort_findings(current.results.findings)
    base_count = inventory.base_layer_count
    views = []
    for layer in inventory.catalog.image.layers:
        ref = LayerRef(layer.index, layer.diff_id, layer.created_by)
        views.append(LayerView(
            layer.index, layer.created_by or "", build_step(ref, 90), layer.size,
            origin(is_base_layer(ref, base_count)),
            tuple(p for p in inventory.catalog.packages if _index(p.layer) == layer.index),
            tuple(f for f in findings if _index(f.package.layer) == layer.index),
            tuple(c for c in inventory.checks if _index(c.layer) == layer.index)))
    return tuple(views)


def rules(triggered: Iterable[TriggeredRule]) -> tuple[RuleView, ...]:
    """Triggered rules, the most severe action first."""
    ordered = sorted(triggered, key=lambda t: -t.effective_action.rank)
    return tuple(RuleView(
        str(t.effective_action), t.gate, t.trigger, f"{t.policy_id}/{t.rule_id}",
        finding_text(t), t.fire.finding_id, _index(t.fire.layer), origin(t.from_base_image),
        t.fire.message, t.recommendation or "",
        "" if t.allowlisted is None else
        f"{t.allowlisted.allowlist_id}/{t.allowlisted.item.id}")
        for t in ordered)


def history(store: Store, image: Image) -> tuple[HistoryEntry, ...]:
    """Each digest recorded under this image's repository and tag, newest first."""
    with store.session() as session:
        rows = session.execute(
            select(Image, Analysis, ImageResult)
            .join(Analysis, Analysis.digest == Image.digest)
            .outerjoin(ImageResult, ImageResult.digest == Image.digest)
            .where(Image.registry_host == image.registry_host,
                   Image.repository == image.repository,
                   Image.tag.is_(None) if image.tag is None else Image.tag == image.tag)
            .order_by(Image.added_at.desc(), Image.id.desc())).all()
    return tuple(HistoryEntry(
        other.id, other.digest, result.final_action if result else None,
        len(result.vulnerabilities) if result else None, analysis.analysed_at,
        other.added_at, other.digest == image.digest)
        for other, analysis, result in rows)
