"""The Harbor adapter's table: one row per scan request Harbor sent.

A scan request names a digest (whose analysis is shared with every other way the service
learns about that digest, see :class:`~hullscan.service.store.models.Analysis`) plus how to
pull it: the registry Harbor named and the authorization it carried, sealed at rest and
dropped as soon as the job that needed it has run.
"""

from __future__ import annotations

import datetime
import enum

from sqlalchemy import JSON, Enum, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hullscan.service.store.models import Base, utcnow


class HarborScanStatus(enum.StrEnum):
    """Where the job of one scan request stands (the analysis itself may be shared)."""

    QUEUED = "queued"
    """Accepted; the job has not run yet."""
    FINISHED = "finished"
    """The job ran: the digest's analysis is done, or another job is doing it."""
    FAILED = "failed"
    """The job failed (the registry refused the credentials, the image is unreadable...)."""


class HarborScan(Base):
    """One ``POST /api/v1/scan`` request."""

    __tablename__ = "harbor_scan"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The scan request id returned to Harbor (random, unguessable)."""
    digest: Mapped[str] = mapped_column(ForeignKey("analysis.digest"), index=True)
    registry_url: Mapped[str] = mapped_column(Text)
    """``registry.url`` as Harbor sent it (``http://core:8080``, ``https://harbor.example``)."""
    repository: Mapped[str] = mapped_column(String(255))
    tag: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(255))
    """The artifact's manifest media type, if Harbor said."""
    media_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Report media types (and SBOM formats) the request enabled; empty means all."""
    authorization_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    """``registry.authorization`` sealed with the service's key; cleared once the job ran."""
    status: Mapped[HarborScanStatus] = mapped_column(
        Enum(HarborScanStatus, native_enum=False, length=20,
             values_callable=lambda kind: [member.value for member in kind]),
        default=HarborScanStatus.QUEUED)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime.datetime | None]
