"""``/v1/images``: add (resolved to a digest now, analysed later), list, get, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from hullscan.policy.model import Action
from hullscan.service.api.auth import authorize
from hullscan.service.api.context import Context
from hullscan.service.api.egress_checks import check_registry_field
from hullscan.service.api.errors import NotFoundError
from hullscan.service.api.image_rows import find_image, image_out, image_query
from hullscan.service.api.references import registry_only
from hullscan.service.api.schemas import ImageAccepted, ImageIn, ImageOut, Page
from hullscan.service.store.models import (
    Analysis,
    AnalysisStatus,
    Image,
    ImageResult,
    VulnerabilityIndex,
)

router = APIRouter(prefix="/v1/images", tags=["images"], dependencies=[Depends(authorize())])

RETRYABLE = frozenset({AnalysisStatus.QUEUED, AnalysisStatus.FAILED})
"""Adding an image whose analysis is in one of these states (re)submits the job; the
database claim makes a duplicate job harmless."""


@router.post("", status_code=202, response_model=ImageAccepted)
def add_image(body: ImageIn, context: Context) -> ImageAccepted:
    """Resolve the reference to a digest now; queue its analysis unless it has one."""
    service = context.service
    # Normalised first: the service's own parser would look for a local path of that name.
    reference = registry_only(body.reference)
    check_registry_field(service, "body.reference", reference)
    image, analysis, _created = service.add_image(str(reference))
    queued = analysis.status in RETRYABLE
    if queued:
        with service.store.session() as session:
            session.execute(update(Analysis).where(
                Analysis.digest == analysis.digest, Analysis.status == AnalysisStatus.FAILED)
                .values(status=AnalysisStatus.QUEUED, error=None))
    with service.store.session() as session:
        found = find_image(session, image.id)
    if queued:
        context.queue.submit(analysis.digest)
    return ImageAccepted(**image_out(*found).model_dump(), queued=queued)


@router.get("", response_model=Page[ImageOut])
def list_images(
    context: Context,
    registry: str | None = None,
    repository: str | None = None,
    tag: str | None = None,
    digest: str | None = None,
    status: AnalysisStatus | None = None,
    final_action: Action | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ImageOut]:
    """Image names, oldest first, filtered by exact values."""
    wanted: list[tuple[Any, object]] = [
        (Image.registry_host, registry), (Image.repository, repository), (Image.tag, tag),
        (Image.digest, digest), (Analysis.status, status),
        (ImageResult.final_action, str(final_action) if final_action else None)]
    query = image_query().where(*(column == value for column, value in wanted
                                  if value is not None))
    with context.service.store.session() as session:
        # count(*) over the same joins, not over a subquery selecting every column.
        total = session.scalar(query.with_only_columns(func.count())) or 0
        rows = session.execute(query.order_by(Image.id).limit(limit).offset(offset)).all()
        items = [image_out(image, analysis, result) for image, analysis, result in rows]
    return Page[ImageOut](items=items, total=total, limit=limit, offset=offset)


@router.get("/{image_id}", response_model=ImageOut)
def get_image(image_id: int, context: Context) -> ImageOut:
    """One image name and where its analysis stands."""
    with context.service.store.session() as session:
        return image_out(*find_image(session, image_id))


@router.delete("/{image_id}", status_code=204)
def delete_image(image_id: int, context: Context) -> None:
    """Forget an image name; its digest's analysis and results go with the last name."""
    with context.service.store.session() as session:
        image = session.get(Image, image_id)
        if image is None:
            raise NotFoundError("no such image", subject=f"image {image_id}")
        digest = image.digest
        session.delete(image)
        session.flush()
        if session.scalar(select(func.count()).select_from(Image)
                          .where(Image.digest == digest)):
            return
        try:
            # Other parts of the service (Harbor scans) may still refer to the analysis.
            with session.begin_nested():
                for table in (VulnerabilityIndex, ImageResult, Analysis):
                    session.execute(delete(table).where(table.digest == digest))
        except IntegrityError:
            pass
