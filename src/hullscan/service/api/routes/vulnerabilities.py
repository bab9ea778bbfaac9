"""``/v1/vulnerabilities/{id}/images``: which stored images a vulnerability (or one of its
aliases) affects, from the index kept with each digest's current results."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from hullscan.service.api.auth import authorize
from hullscan.service.api.context import Context
from hullscan.service.api.schemas import AffectedImage, AffectedImages

router = APIRouter(prefix="/v1/vulnerabilities", tags=["vulnerabilities"],
                   dependencies=[Depends(authorize())])


@router.get("/{vulnerability_id}/images", response_model=AffectedImages)
def affected_images(vulnerability_id: str, context: Context) -> AffectedImages:
    """Every image name whose digest has ``vulnerability_id``, with the package."""
    rows = context.service.affected_by(vulnerability_id)
    return AffectedImages(vulnerability=vulnerability_id, images=[
        AffectedImage(image_id=image.id, registry=image.registry_host,
                      repository=image.repository, tag=image.tag, digest=image.digest,
                      package=index.package, version=index.version, severity=index.severity,
                      fix_versions=list(index.fix_versions))
        for image, index in rows])
