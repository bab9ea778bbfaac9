"""Tables of the service (SQLite by default, PostgreSQL by URL).

Analysis is per **digest** (``Analysis``): one image digest is pulled and analysed once, however
many repositories and tags name it (``Image``). Results derived from the current
vulnerability data and policy are kept per digest (``ImageResult``) so that changes can be
diffed and notified.
"""

from __future__ import annotations

import datetime
import enum

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def _values(kind: type[enum.StrEnum]) -> list[str]:
    """Store enum values (``queued``), not member names."""
    return [member.value for member in kind]


def utcnow() -> datetime.datetime:
    """Now, timezone-aware."""
    return datetime.datetime.now(datetime.UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {datetime.datetime: DateTime(timezone=True)}  # noqa: RUF012 (SQLAlchemy API)


class AnalysisStatus(enum.StrEnum):
    """Where an analysis stands."""

    QUEUED = "queued"
    ANALYSING = "analysing"
    ANALYSED = "analysed"
    FAILED = "failed"


class Registry(Base):
    """A registry the service pulls from; the password is encrypted at rest."""

    __tablename__ = "registry"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    """``host[:port]`` as image references name it."""
    username: Mapped[str | None] = mapped_column(String(255))
    password_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    insecure: Mapped[bool] = mapped_column(Boolean, default=False)
    ca_cert: Mapped[str | None] = mapped_column(Text)
    """PEM text of CA certificates to trust for this registry."""
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class Analysis(Base):
    """One digest's analysis: a job while queued/analysing, an inventory once analysed."""

    __tablename__ = "analysis"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(100), unique=True)
    reference: Mapped[str] = mapped_column(Text)
    """``host/repo@digest`` to pull from."""
    status: Mapped[AnalysisStatus] = mapped_column(
        Enum(AnalysisStatus, native_enum=False, length=20,
             values_callable=_values), default=AnalysisStatus.QUEUED,
        index=True)
    error: Mapped[str | None] = mapped_column(Text)
    inventory: Mapped[bytes | None] = mapped_column(LargeBinary)
    """:func:`hullscan.service.inventory.dumps` output."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime.datetime | None]
    queued_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    analysed_at: Mapped[datetime.datetime | None]
    analysis_count: Mapped[int] = mapped_column(Integer, default=0)
    """How many times an analysis of this digest completed (1 unless re-analysis asked)."""


class Image(Base):
    """A name (registry, repository, tag) under which a digest was added or seen."""

    __tablename__ = "image"
    __table_args__ = (UniqueConstraint("registry_host", "repository", "tag", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registry_host: Mapped[str] = mapped_column(String(255), index=True)
    """(``registry`` is taken by SQLAlchemy's declarative base.)"""
    repository: Mapped[str] = mapped_column(String(255), index=True)
    tag: Mapped[str | None] = mapped_column(String(255))
    digest: Mapped[str] = mapped_column(ForeignKey("analysis.digest"), index=True)
    added_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class ImageResult(Base):
    """The latest vulnerabilities and verdict of a digest (what changes are diffed against)."""

    __tablename__ = "image_result"

    digest: Mapped[str] = mapped_column(ForeignKey("analysis.digest"), primary_key=True)
    vulnerabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Sorted ``ID+package@version`` keys of the current findings."""
    final_action: Mapped[str | None] = mapped_column(String(10))
    policy_id: Mapped[str | None] = mapped_column(String(255))
    database_built_at: Mapped[str | None] = mapped_column(String(64))
    evaluation: Mapped[dict[str, object] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class VulnerabilityIndex(Base):
    """One vulnerability id (and each alias) per affected digest and package: answers
    "which images are affected by CVE-X" without re-matching anything."""

    __tablename__ = "vulnerability_index"

    id: Mapped[int] = mapped_column(primary_key=True)
    vulnerability_id: Mapped[str] = mapped_column(String(100), index=True)
    digest: Mapped[str] = mapped_column(ForeignKey("analysis.digest"), index=True)
    package: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(20))
    fix_versions: Mapped[list[str]] = mapped_column(JSON, default=list)


class PolicyBundle(Base):
    """An uploaded policy bundle; exactly one is active (else the built-in default)."""

    __tablename__ = "policy_bundle"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class SubscriptionKind(enum.StrEnum):
    """What a subscription watches."""

    TAG_UPDATE = "tag_update"
    REPO_UPDATE = "repo_update"
    VULN_UPDATE = "vuln_update"
    POLICY_EVAL = "policy_eval"


class Subscription(Base):
    """A watch (tag, repository) or a notification interest (vulnerabilities, verdict)."""

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SubscriptionKind] = mapped_column(
        Enum(SubscriptionKind, native_enum=False, length=20,
             values_callable=_values), index=True)
    target: Mapped[str] = mapped_column(Text)
    """``host/repo:tag`` for tag_update and image-scoped kinds, ``host/repo`` for repo_update,
    ``*`` for every image."""
    webhook_url: Mapped[str | None] = mapped_column(Text)
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    """HMAC key for signing this subscription's webhooks (encrypted at rest)."""
    interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_checked_at: Mapped[datetime.datetime | None]
    state: Mapped[dict[str, object] | None] = mapped_column(JSON)
    """What the watch saw last (the tag's digest, the repository's tags)."""
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class DeliveryStatus(enum.StrEnum):
    """Where a webhook delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(Base):
    """One notification to one webhook, with its attempts."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=20,
             values_callable=_values), default=DeliveryStatus.PENDING,
        index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime.datetime | None]


class ApiToken(Base):
    """An API token: only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))
    """Space-separated: read, write, admin, harbor."""
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime.datetime | None]


class Lease(Base):
    """A named lease (the scheduler's): one holder at a time until it expires."""

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime.datetime]
