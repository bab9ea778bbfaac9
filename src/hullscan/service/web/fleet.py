"""Fleet-wide figures for the overview and the filtered, sorted, paged image list; all from
the stored results (``ImageResult``, ``VulnerabilityIndex``), never by re-matching."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hullscan.service.store.database import Store
from hullscan.service.store.models import (
    Analysis,
    AnalysisStatus,
    Image,
    ImageResult,
    Subscription,
    VulnerabilityIndex,
    WebhookDelivery,
    utcnow,
)
from hullscan.service.store.web_models import FleetSnapshot
from hullscan.vuln.severity import Severity

SEVERITIES: tuple[str, ...] = tuple(str(s) for s in sorted(Severity, reverse=True))
"""``Critical`` first."""
VERDICTS = ("STOP", "WARN", "GO")
PAGE_SIZE = 50
TREND_DAYS = 90


def primary_rows(rows: Iterable[tuple[str, str, str, str, str]], keys: dict[str, set[str]]
                 ) -> list[tuple[str, str, str, str, str]]:
    """Index rows ``(digest, id, package, version, severity)`` without alias rows: the index
    holds a finding under its id *and* each alias, the stored keys under the id only."""
    return [row for row in rows
            if f"{row[1]}+{row[2]}@{row[3]}" in keys.get(row[0], ())]


def severity_counts(session: Session, digests: Sequence[str] | None = None
                    ) -> dict[str, Counter[str]]:
    """Findings per severity of each digest (all analysed digests when ``digests`` is None)."""
    index = select(VulnerabilityIndex.digest, VulnerabilityIndex.vulnerability_id,
                   VulnerabilityIndex.package, VulnerabilityIndex.version,
                   VulnerabilityIndex.severity)
    results = select(ImageResult.digest, ImageResult.vulnerabilities)
    if digests is not None:
        if not digests:
            return {}
        index = index.where(VulnerabilityIndex.digest.in_(digests))
        results = results.where(ImageResult.digest.in_(digests))
    keys = {digest: set(values) for digest, values in session.execute(results)}
    counts: dict[str, Counter[str]] = {digest: Counter() for digest in keys}
    for digest, _id, _package, _version, severity in primary_rows(
            session.execute(index), keys):
        counts[digest][severity] += 1
    return counts


@dataclass(frozen=True)
class TrendPoint:
    """One day of the trend."""

    day: str
    failing: int
    critical: int
    high: int


@dataclass(frozen=True)
class Notification:
    """One webhook delivery as the overview lists it."""

    id: int
    kind: str
    status: str
    target: str
    images: tuple[str, ...]
    created_at: datetime.datetime
    attempts: int
    response_status: int | None
    last_error: str | None


@dataclass(frozen=True)
class Overview:
    """What the overview shows."""

    images: int
    verdicts: dict[str, int]
    """``STOP``/``WARN``/``GO`` -> image names; ``pending`` (no results yet), ``failed``."""
    digests: int
    severities: dict[str, int]
    """Findings per severity over all analysed digests."""
    distinct: dict[str, int]
    """Distinct vulnerability ids per severity."""
    trend: tuple[TrendPoint, ...]
    notifications: tuple[Notification, ...] = field(default=())


def overview(store: Store, today: datetime.date | None = None) -> Overview:
    """The fleet now, with today's snapshot recorded for the trend."""
    with store.session() as session:
        by_verdict = dict(session.execute(
            select(ImageResult.final_action, func.count(Image.id))
            .join(ImageResult, ImageResult.digest == Image.digest)
            .group_by(ImageResult.final_action)).all())
        by_status = dict(session.execute(
            select(Analysis.status, func.count(Image.id))
            .join(Analysis, Analysis.digest == Image.digest)
            .group_by(Analysis.status)).all())
        digests, severities = fleet_severities(session)
        distinct = _distinct_ids(session)
        notifications = recent_notifications(session, 8)
    images = sum(by_status.values())
    with_results = sum(by_verdict.values())
    verdicts = {v: by_verdict.get(v, 0) for v in VERDICTS}
    verdicts["failed"] = by_status.get(AnalysisStatus.FAILED, 0)
    verdicts["pending"] = max(images - with_results - verdicts["failed"], 0)
    trend = record_snapshot(store, today or utcnow().date(), with_results, verdicts,
                            severities)
    return Overview(images, verdicts, digests, severities, distinct, trend, notifications)


def fleet_severities(session: Session) -> tuple[int, dict[str, int]]:
    """Digests with results, and findings per severity over all of them.

    Grouped in the database; a group counts when its ``id+package@version`` is a stored key
    of some digest (alias rows never are, unless another digest's finding has that alias as
    its id: rare, and then counted for both)."""
    keys: set[str] = set()
    digests = 0
    for values in session.execute(select(ImageResult.vulnerabilities)).scalars():
        keys.update(values)
        digests += 1
    groups = session.execute(
        select(VulnerabilityIndex.vulnerability_id, VulnerabilityIndex.package,
               VulnerabilityIndex.version, VulnerabilityIndex.severity, func.count())
        .group_by(VulnerabilityIndex.vulnerability_id, VulnerabilityIndex.package,
                  VulnerabilityIndex.version, VulnerabilityIndex.severity))
    totals: Counter[str] = Counter()
    for vid, package, version, severity, count in groups:
        if f"{vid}+{package}@{version}" in keys:
            totals[severity] += count
    return digests, {s: totals.get(s, 0) for s in SEVERITIES}


def _distinct_ids(session: Session) -> dict[str, int]:
    keys = session.execute(select(ImageResult.vulnerabilities)).scalars()
    primary = {key.split("+", 1)[0] for values in keys for key in values}
    rows = session.execute(select(VulnerabilityIndex.vulnerability_id,
                                  VulnerabilityIndex.severity).distinct())
    counts = Counter(severity for vid, severity in rows if vid in primary)
    return {s: counts.get(s, 0) for s in SEVERITIES}


def record_snapshot(store: Store, day: datetime.date, images: int, verdicts: dict[str, int],
                    severities: dict[str, int]) -> tuple[TrendPoint, ...]:
    """Overwrite ``day``'s snapshot with the figures now; the last TREND_DAYS snapshots."""
    values = {"images": images, "failing": verdicts["STOP"], "warning": verdicts["WARN"],
              "critical": severities["Critical"], "high": severities["High"],
              "recorded_at": utcnow()}
    try:
        with store.session() as session:
            row = session.get(FleetSnapshot, day)
            if row is None:
                session.add(FleetSnapshot(day=day, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)
    except IntegrityError:
        pass  # another request recorded the same day at the same moment: its figures stand
    since = day - datetime.timedelta(days=TREND_DAYS)
    with store.session() as session:
        rows = session.scalars(select(FleetSnapshot).where(FleetSnapshot.day > since)
                               .order_by(FleetSnapshot.day)).all()
        return tuple(TrendPoint(r.day.isoformat(), r.failing, r.critical, r.high)
                     for r in rows)


def recent_notifications(session: Session, limit: int) -> tuple[Notification, ...]:
    """The newest webhook deliveries, with their subscription's target."""
    rows = session.execute(
        select(WebhookDelivery, Subscription.target)
        .join(Subscription, Subscription.id == WebhookDelivery.subscription_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit))
    out = []
    for delivery, target in rows:
        names = delivery.payload.get("images")
        out.append(Notification(
            delivery.id, delivery.kind, str(delivery.status), target,
            tuple(str(n) for n in names) if isinstance(names, list) else (),
            delivery.created_at, delivery.attempts, delivery.response_status,
            delivery.last_error))
    return tuple(out)


# --------------------------------------------------------------------------- image list


@dataclass(frozen=True)
class ImageFilter:
    """What the image list is narrowed to and how it is ordered."""

    registry: str = ""
    repository: str = ""
    """A substring of the repository."""
    tag: str = ""
    """A substring of the tag."""
    verdict: str = ""
    """``STOP``, ``WARN``, ``GO`` or ``pending``."""
    severity: str = ""
    """At least one finding of this severity or worse."""
    cve: str = ""
    """Affected by this vulnerability id (or alias)."""
    sort: str = "name"
    descending: bool = False
    page: int = 1

    def query_string(self, **changes: object) -> str:
        """The URL query of this filter with ``changes`` applied (empty values left out)."""
        from urllib.parse import urlencode

        values: dict[str, object] = {
            "registry": self.registry, "repository": self.repository, "tag": self.tag,
            "verdict": self.verdict, "severity": self.severity, "cve": self.cve,
            "sort": self.sort, "order": "desc" if self.descending else "asc",
            "page": self.page}
        values.update(changes)
        return urlencode({k: v for k, v in values.items()
                          if v not in ("", None) and not (k == "page" and v == 1)})


SORTS = ("name", "verdict", "vulnerabilities", "added", "analysed")


@dataclass(frozen=True)
class ImageRow:
    """One line of the image list."""

    id: int
    registry: str
    repository: str
    tag: str | None
    digest: str
    status: str
    verdict: str | None
    vulnerabilities: int | None
    severities: dict[str, int]
    analysed_at: datetime.datetime | None


@dataclass(frozen=True)
class ImagePage:
    """One page of the image list."""

    rows: tuple[ImageRow, ...]
    total: int
    page: int
    pages: int
    registries: tuple[str, ...]


def _filtered(chosen: ImageFilter) -> Select[Image, Analysis, ImageResult]:
    query = (select(Image, Analysis, ImageResult)
             .join(Analysis, Analysis.digest == Image.digest)
             .outerjoin(ImageResult, ImageResult.digest == Image.digest))
    if chosen.registry:
        query = query.where(Image.registry_host == chosen.registry)
    if chosen.repository:
        query = query.where(Image.repository.contains(chosen.repository, autoescape=True))
    if chosen.tag:
        query = query.where(Image.tag.contains(chosen.tag, autoescape=True))
    if chosen.verdict == "pending":
        query = query.where(ImageResult.final_action.is_(None))
    elif chosen.verdict in VERDICTS:
        query = query.where(ImageResult.final_action == chosen.verdict)
    if chosen.severity in SEVERITIES:
        # An alias row carries its finding's severity, so existence needs no de-duplication.
        worse = SEVERITIES[:SEVERITIES.index(chosen.severity) + 1]
        query = query.where(Image.digest.in_(select(VulnerabilityIndex.digest).where(
            VulnerabilityIndex.severity.in_(worse))))
    if chosen.cve:
        query = query.where(Image.digest.in_(select(VulnerabilityIndex.digest).where(
            VulnerabilityIndex.vulnerability_id == chosen.cve.strip().upper())))
    return query


def _order(chosen: ImageFilter) -> list[object]:
    verdict_rank = case({"STOP": 0, "WARN": 1, "GO": 2}, value=ImageResult.final_action,
                        else_=3)
    columns: dict[str, list[object]] = {
        "name": [Image.registry_host, Image.repository, Image.tag],
        "verdict": [verdict_rank],
        "vulnerabilities": [func.coalesce(func.json_array_length(ImageResult.vulnerabilities),
                                          -1)],
        "added": [Image.added_at],
        "analysed": [Analysis.analysed_at],
    }
    chosen_columns = columns.get(chosen.sort, columns["name"])
    ordered: list[object] = [c.desc() if chosen.descending else c  # type: ignore[attr-defined]
                             for c in chosen_columns]
    return [*ordered, Image.id]


def image_page(store: Store, chosen: ImageFilter) -> ImagePage:
    """The page ``chosen.page`` of the filtered, sorted image list."""
    query = _filtered(chosen)
    with store.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = min(max(chosen.page, 1), pages)
        found = session.execute(query.order_by(*_order(chosen))  # type: ignore[arg-type]
                                .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
        counts = severity_counts(session, sorted({image.digest for image, _, _ in found}))
        registries = tuple(session.scalars(select(Image.registry_host).distinct()
                                           .order_by(Image.registry_host)))
    rows = tuple(ImageRow(
        image.id, image.registry_host, image.repository, image.tag, image.digest,
        str(analysis.status), result.final_action if result else None,
        len(result.vulnerabilities) if result else None,
        dict(counts.get(image.digest, Counter())), analysis.analysed_at)
        for image, analysis, result in found)
    return ImagePage(rows, total, page, pages, registries)
