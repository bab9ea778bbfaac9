"""An image's results against the **current** vulnerability database and active policy,
computed from its stored inventory (nothing is pulled), keeping the digest's stored
results current on the way."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from hullscan.policy.context import ImageName
from hullscan.policy.model import Bundle
from hullscan.service.api.context import ApiContext
from hullscan.service.api.errors import ConflictError
from hullscan.service.api.image_rows import find_image
from hullscan.service.inventory import ImageResults, Inventory, image_results
from hullscan.service.store.models import AnalysisStatus, Image, ImageResult
from hullscan.vuln.db.store import DatabaseStatus, VulnerabilityDatabase

LOG = logging.getLogger("hullscan.service.api")


@dataclass(frozen=True)
class AnalysedImage:
    """An image name whose digest has a stored inventory."""

    image: Image
    inventory: Inventory

    @property
    def name(self) -> ImageName:
        """The name policies are evaluated under (mappings match it)."""
        image = self.image
        return ImageName(image.registry_host, image.repository, image.tag or "", image.digest)


@dataclass(frozen=True)
class CurrentResults:
    """One image's vulnerabilities and verdict now."""

    analysed: AnalysedImage
    results: ImageResults
    database: DatabaseStatus
    bundle: Bundle


def analysed_image(context: ApiContext, image_id: int) -> AnalysedImage:
    """The image and its stored inventory; ConflictError while it is not analysed."""
    with context.service.store.session() as session:
        image, analysis, _ = find_image(session, image_id)
    if analysis.status is not AnalysisStatus.ANALYSED:
        raise ConflictError(f"not analysed (status {analysis.status})",
                            subject=f"image {image_id}")
    return AnalysedImage(image, context.service.inventory(image.digest))


def current_results(context: ApiContext, image_id: int) -> CurrentResults:
    """Match and evaluate the stored inventory with the current database and policy."""
    analysed = analysed_image(context, image_id)
    service = context.service
    bundle = service.active_bundle()
    with VulnerabilityDatabase.open(service.database_path) as database:
        status = database.status()
        results = image_results(analysed.inventory, database, bundle, name=analysed.name)
        _keep_current(context, analysed.image.digest, database, status, bundle)
    return CurrentResults(analysed, results, status, bundle)


def _keep_current(context: ApiContext, digest: str, database: VulnerabilityDatabase,
                  status: DatabaseStatus, bundle: Bundle) -> None:
    """Recompute the stored results when another database build or policy made them, and
    tell ``on_change`` when they changed."""
    service = context.service
    with service.store.session() as session:
        stored = session.get(ImageResult, digest)
        if (stored is not None and stored.database_built_at == status.built_at
                and stored.policy_id == bundle.id):
            return
    try:
        change = service.refresh_results(digest, database=database, bundle=bundle)
    except IntegrityError:
        LOG.info("results of %s were being stored concurrently; keeping those", digest)
        return
    # A first computation (the worker has not stored its own yet) is no change to tell.
    changed = change.vulnerabilities_changed or change.verdict_changed
    if context.on_change is not None and stored is not None and changed:
        context.on_change(change, policy_id=bundle.id, database_built_at=status.built_at)
