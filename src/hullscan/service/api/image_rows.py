"""Image names as the API shows them: each with its digest's analysis and stored results."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, defer

from hullscan.policy.model import Action
from hullscan.service.api.errors import NotFoundError
from hullscan.service.api.schemas import ImageOut
from hullscan.service.store.models import Analysis, Image, ImageResult


def image_query() -> Select[Image, Analysis, ImageResult]:
    """Image names with their analysis and (outer-joined) stored results, without the
    stored inventory (~0.14 MB for a Debian image) and evaluation document: no response
    shows them, and reading them made a page of 100 names up to 4x slower on PostgreSQL."""
    return (select(Image, Analysis, ImageResult)
            .join(Analysis, Analysis.digest == Image.digest)
            .outerjoin(ImageResult, ImageResult.digest == Image.digest)
            .options(defer(Analysis.inventory), defer(ImageResult.evaluation)))


def image_out(image: Image, analysis: Analysis, result: ImageResult | None) -> ImageOut:
    """The response for one image name."""
    name = f"{image.registry_host}/{image.repository}"
    tagged = f"{name}:{image.tag}" if image.tag else name
    return ImageOut(
        id=image.id, registry=image.registry_host, repository=image.repository, tag=image.tag,
        digest=image.digest, reference=f"{tagged}@{image.digest}", status=analysis.status,
        error=analysis.error, added_at=image.added_at, analysed_at=analysis.analysed_at,
        final_action=Action(result.final_action) if result and result.final_action else None,
        vulnerability_count=len(result.vulnerabilities) if result is not None else None)


def find_image(session: Session, image_id: int) -> tuple[Image, Analysis, ImageResult | None]:
    """One image name with its analysis and results; NotFoundError if there is none."""
    row = session.execute(image_query().where(Image.id == image_id)).first()
    if row is None:
        raise NotFoundError("no such image", subject=f"image {image_id}")
    image, analysis, result = row
    return image, analysis, result
