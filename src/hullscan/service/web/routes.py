"""The dashboard's pages: overview, images, one image, one vulnerability, policies,
subscriptions, and login/logout. Each page needs a token with the ``read`` scope."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from hullscan.errors import HullscanError
from hullscan.policy.context import ImageName
from hullscan.policy.evaluate import select_mapping
from hullscan.policy.load import parse_bundle
from hullscan.report.sbom import SBOM_FORMATS
from hullscan.report.scan_report import sort_findings
from hullscan.service.api.context import Context
from hullscan.service.api.current import current_results
from hullscan.service.api.errors import status_of
from hullscan.service.api.image_rows import find_image
from hullscan.service.api.routes.subscriptions import create_subscription
from hullscan.service.api.schemas import SubscriptionIn
from hullscan.service.store.models import (
    AnalysisStatus,
    Image,
    PolicyBundle,
    Subscription,
    SubscriptionKind,
)
from hullscan.service.tokens import Scope, grants, verify_token
from hullscan.service.web import fleet
from hullscan.service.web.image_view import history, layers, rules
from hullscan.service.web.rendering import PAGE_HEADERS, render
from hullscan.service.web.session import Viewer, forget, remember, require, safe_next
from hullscan.vuln.db.store import VulnerabilityDatabase

router = APIRouter(include_in_schema=False)

VULNERABILITY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
MAX_FORM_BYTES = 16 * 1024
STALE_DATABASE = datetime.timedelta(days=7)
"""An older vulnerability database is flagged on the overview."""
MAPPING_EXAMPLES = 5


async def _form(request: Request) -> dict[str, str]:
    """A small url-encoded form (no multipart, nothing large)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _error(request: Request, token: object, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status, token=token, message=message,
                  title=f"Error {status}")


# --------------------------------------------------------------------------- login


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """The login form: paste an API token."""
    return render(request, "login.html", next=safe_next(next), error=None, title="Log in")


@router.post("/login")
async def login(request: Request, context: Context) -> Response:
    """Check the token and keep it in the cookie."""
    form = await _form(request)
    secret, target = form.get("token", "").strip(), safe_next(form.get("next"))
    token = await run_in_threadpool(verify_token, context.service.store, secret) \
        if secret else None
    error = None
    if token is None:
        error = "That token is unknown or revoked."
    elif not grants(token.scopes, Scope.READ):
        error = "That token cannot read (it needs the read, write or admin scope)."
    if error is not None:
        return render(request, "login.html", 401, next=target, error=error, title="Log in")
    response = RedirectResponse(target, status_code=303)
    remember(response, request, secret)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """Forget the cookie."""
    response = RedirectResponse("/login", status_code=303)
    forget(response, request)
    return response


# --------------------------------------------------------------------------- overview


@router.get("/")
def overview_page(request: Request, context: Context, token: Viewer) -> HTMLResponse:
    """Verdicts, severities, the trend, the database's age and recent notifications."""
    figures = fleet.overview(context.service.store)
    built_at, age_days, stale = None, None, False
    try:
        with VulnerabilityDatabase.open(context.service.database_path) as database:
            built_at = database.status().built_at
    except (HullscanError, OSError):
        pass
    if built_at:
        built = datetime.datetime.fromisoformat(built_at.replace("Z", "+00:00"))
        age = datetime.datetime.now(datetime.UTC) - built
        age_days, stale = age.days, age > STALE_DATABASE
    trend = {"days": [p.day for p in figures.trend],
             "failing": [p.failing for p in figures.trend],
             "critical": [p.critical for p in figures.trend],
             "high": [p.high for p in figures.trend]}
    return render(request, "overview.html", token=token, nav="overview", title="Overview",
                  figures=figures, severities=fleet.SEVERITIES, built_at=built_at,
                  age_days=age_days, stale=stale, trend=trend)


# --------------------------------------------------------------------------- images


@router.get("/images")
def images_page(
    request: Request, context: Context, token: Viewer,
    registry: str = "", repository: str = "", tag: str = "", verdict: str = "",
    severity: str = "", cve: str = "", sort: str = "name", order: str = "asc",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """The image list, filtered, sorted and paged; htmx asks for the results part only."""
    chosen = fleet.ImageFilter(
        registry.strip(), repository.strip(), tag.strip(), verdict, severity, cve.strip(),
        sort if sort in fleet.SORTS else "name", order == "desc", page)
    found = fleet.image_page(context.service.store, chosen)
    partial = request.headers.get("HX-Target") == "image-results"
    return render(request, "images_results.html" if partial else "images.html",
                  token=token, nav="images", title="Images", chosen=chosen, found=found,
                  severities=fleet.SEVERITIES, verdicts=fleet.VERDICTS, sorts=fleet.SORTS)


@router.get("/images/{image_id}")
def image_page(request: Request, context: Context, token: Viewer,
               image_id: int) -> HTMLResponse:
    """One image: verdict, layers, vulnerabilities, checks, SBOM downloads, history."""
    try:
        with context.service.store.session() as session:
            image, analysis, _ = find_image(session, image_id)
        if analysis.status is not AnalysisStatus.ANALYSED:
            return render(request, "image_pending.html", token=token, nav="images",
                          title=f"{image.repository}", image=image, analysis=analysis,
                          history=history(context.service.store, image))
        current = current_results(context, image_id)
    except HullscanError as error:
        return _error(request, token, status_of(error), str(error))
    inventory = current.analysed.inventory
    catalog = inventory.catalog
    evaluation = current.results.evaluation
    findings = sort_findings(current.results.findings)
    severity_totals = Counter(str(f.severity) for f in findings)
    return render(
        request, "image.html", token=token, nav="images",
        title=f"{image.repository}:{image.tag or image.digest[:19]}", image=image,
        analysis=analysis, catalog=catalog, metadata=catalog.image, distro=catalog.distro,
        evaluation=evaluation, rules=rules(evaluation.triggered if evaluation else ()),
        layers=layers(current), findings=findings, checks=inventory.checks,
        base_layer_count=inventory.base_layer_count, severities=fleet.SEVERITIES,
        severity_totals=severity_totals, sbom_formats=list(SBOM_FORMATS),
        history=history(context.service.store, image), database=current.database)


@router.get("/images/{image_id}/sbom")
def sbom_download(request: Request, context: Context, token: Viewer, image_id: int,
                  output_format: Annotated[str, Query(alias="format")] = "cyclonedx-json"
                  ) -> Response:
    """The image's SBOM as a file download."""
    sbom = SBOM_FORMATS.get(output_format)
    if sbom is None:
        return _error(request, token, 400, f"unknown SBOM format {output_format}")
    try:
        with context.service.store.session() as session:
            image, _, _ = find_image(session, image_id)
        inventory = context.service.inventory(image.digest)
    except HullscanError as error:
        return _error(request, token, status_of(error), str(error))
    extension = {"cyclonedx-xml": "xml", "spdx-tag-value": "spdx"}.get(sbom.name, "json")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{image.repository}-{image.tag or 'untagged'}")
    return Response(sbom.render(inventory.catalog), media_type=sbom.media_type, headers={
        "Content-Disposition": f'attachment; filename="{stem}.{sbom.name}.{extension}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


# --------------------------------------------------------------------------- vulnerabilities


@router.get("/vulnerabilities")
def vulnerability_search(request: Request, token: Viewer, id: str = "") -> Response:
    """Go to one vulnerability's page (the search box in the header lands here)."""
    wanted = id.strip().upper()
    if VULNERABILITY_ID.match(wanted):
        return RedirectResponse(f"/vulnerabilities/{quote(wanted)}", status_code=303)
    return render(request, "vulnerability_search.html", token=token, nav="vulnerabilities",
                  title="Vulnerabilities", query=id, invalid=bool(wanted))


@router.get("/vulnerabilities/{vulnerability_id}")
def vulnerability_page(request: Request, context: Context, token: Viewer,
                       vulnerability_id: str) -> HTMLResponse:
    """One vulnerability across every image and package, with fix availability."""
    wanted = vulnerability_id.strip().upper()
    if not VULNERABILITY_ID.match(wanted):
        return _error(request, token, 400, "not a vulnerability id")
    affected = context.service.affected_by(wanted)
    record, enrichment = None, None
    try:
        with VulnerabilityDatabase.open(context.service.database_path) as database:
            record = database.vulnerabilities([wanted]).get(wanted)
            cves = [wanted, *(record.aliases if record else ())]
            enriched = database.enrichment([c for c in cves if c.startswith("CVE-")])
            enrichment = next(iter(enriched.values()), None)
    except (HullscanError, OSError):
        pass
    packages = sorted({(row.package, row.version, row.severity, tuple(row.fix_versions))
                       for _, row in affected})
    return render(request, "vulnerability.html", token=token, nav="vulnerabilities",
                  title=wanted, vulnerability_id=wanted, affected=affected, record=record,
                  enrichment=enrichment, packages=packages,
                  digests=len({row.digest for _, row in affected}))


# --------------------------------------------------------------------------- policies


@router.get("/policies")
def policies_page(request: Request, context: Context, token: Viewer) -> HTMLResponse:
    """Stored bundles, the active one, and which images each of its mappings selects."""
    service = context.service
    with service.store.session() as session:
        stored = session.scalars(select(PolicyBundle).order_by(PolicyBundle.uploaded_at,
                                                               PolicyBundle.id)).all()
        names = session.execute(select(Image.registry_host, Image.repository, Image.tag,
                                       Image.digest).order_by(Image.id)).all()
    bundles = []
    for row in stored:
        try:
            parsed, problem = parse_bundle(row.document.encode("utf-8"), f"policy {row.id}"), ""
        except HullscanError as error:
            parsed, problem = None, str(error)
        bundles.append((row, parsed, problem))
    try:
        active, active_problem = service.active_bundle(), ""
    except HullscanError as error:
        active, active_problem = None, str(error)
    selected: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    if active is not None:
        for host, repository, tag, digest in names:
            try:
                mapping = select_mapping(active, ImageName(host, repository, tag or "", digest))
                key = mapping.name if mapping else "(no mappings: every policy)"
            except HullscanError:
                key = "(no mapping matches: evaluation fails)"
            selected[key] += 1
            shown = examples.setdefault(key, [])
            if len(shown) < MAPPING_EXAMPLES:
                shown.append(f"{host}/{repository}:{tag}" if tag else f"{host}/{repository}")
    return render(request, "policies.html", token=token, nav="policies", title="Policies",
                  bundles=bundles, active=active, active_problem=active_problem,
                  selected=selected, examples=examples,
                  uploaded_active=any(row.active for row in stored))


# --------------------------------------------------------------------------- subscriptions


def _subscriptions(request: Request, context: Context, token: object, status: int = 200,
                   message: str | None = None, problem: str | None = None,
                   secret: str | None = None) -> HTMLResponse:
    with context.service.store.session() as session:
        rows = session.scalars(select(Subscription).order_by(Subscription.id)).all()
        deliveries = fleet.recent_notifications(session, 50)
    return render(request, "subscriptions.html", status, token=token, nav="subscriptions",
                  title="Subscriptions", subscriptions=rows, deliveries=deliveries,
                  kinds=[str(k) for k in SubscriptionKind], message=message, problem=problem,
                  secret=secret, can_write=grants(getattr(token, "scopes", ()), Scope.WRITE))


@router.get("/subscriptions")
def subscriptions_page(request: Request, context: Context, token: Viewer) -> HTMLResponse:
    """Subscriptions and the webhook delivery log."""
    return _subscriptions(request, context, token)


@router.post("/subscriptions")
async def add_subscription(request: Request, context: Context, token: Viewer) -> Response:
    """Add a subscription (needs ``write``); a generated webhook key is shown once."""
    require(token, Scope.WRITE)
    form = await _form(request)
    try:
        body = SubscriptionIn(kind=SubscriptionKind(form.get("kind", "")),
                              target=form.get("target", ""),
                              webhook_url=form.get("webhook_url") or None,
                              interval_seconds=int(form.get("interval_seconds") or 300))
    except ValidationError as error:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                            for e in error.errors())
    except ValueError:
        problem = "choose a known kind and give the interval in seconds"
    else:
        try:
            created = await run_in_threadpool(create_subscription, body, context)
        except HullscanError as error:
            problem = str(error)
        else:
            return await run_in_threadpool(
                _subscriptions, request, context, token, 201,
                f"Subscription {created.id} added.", None, created.webhook_secret)
    return await run_in_threadpool(_subscriptions, request, context, token, 400, None, problem)


__all__ = ["PAGE_HEADERS", "router"]
