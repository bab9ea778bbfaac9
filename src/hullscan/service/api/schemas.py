"""Request and response bodies of the ``/v1`` API.

Secrets (registry passwords, webhook keys) are accepted as :class:`pydantic.SecretStr` and
never part of a response: responses say ``has_password`` / ``has_secret`` instead.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from hullscan.policy.model import Action
from hullscan.service.store.models import AnalysisStatus, DeliveryStatus, SubscriptionKind
from hullscan.service.tokens import Scope

Item = TypeVar("Item")


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """Stored times are UTC; SQLite hands them back without a zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


Moment = Annotated[datetime.datetime, AfterValidator(_utc)]
"""A timezone-aware UTC time (``...Z`` in JSON), whichever database stored it."""


class RequestBody(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[Item]):
    """One page of a listing."""

    items: list[Item]
    total: int
    """Matching rows over all pages."""
    limit: int
    offset: int


class Health(BaseModel):
    """``GET /health``."""

    status: str
    version: str


# ------------------------------------------------------------------------- registries


class RegistryIn(RequestBody):
    """A registry to pull from, with optional credentials and TLS options."""

    host: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.\-\[\]:]+$",
                      description="host[:port] as image references name it")
    username: str | None = Field(default=None, max_length=255)
    password: SecretStr | None = Field(default=None, description="stored encrypted")
    insecure: bool = Field(default=False, description="plain HTTP (or unverified TLS)")
    ca_cert: str | None = Field(default=None, max_length=1_000_000,
                                description="PEM CA certificates to trust")


class RegistryOut(BaseModel):
    """A stored registry (its password is never returned)."""

    id: int
    host: str
    username: str | None
    has_password: bool
    insecure: bool
    has_ca_cert: bool
    created_at: Moment


# ------------------------------------------------------------------------- images


class ImageIn(RequestBody):
    """An image to add, by tag or digest."""

    reference: str = Field(min_length=1, max_length=1024,
                           examples=["registry.example.com/team/app:1.2"])


class ImageOut(BaseModel):
    """A stored image name with its digest's analysis status and latest verdict."""

    id: int
    registry: str
    repository: str
    tag: str | None
    digest: str
    reference: str
    """``registry/repository[:tag]@digest``."""
    status: AnalysisStatus
    error: str | None
    """Why the last analysis failed."""
    added_at: Moment
    analysed_at: Moment | None
    final_action: Action | None
    """The stored verdict (GET .../evaluation recomputes it)."""
    vulnerability_count: int | None


class ImageAccepted(ImageOut):
    """``POST /v1/images``: the image as recorded, and whether an analysis was queued."""

    queued: bool


class VulnerabilityReport(BaseModel):
    """An image's vulnerabilities against the current database."""

    image_id: int
    digest: str
    database_built_at: str | None
    summary: dict[str, int]
    """Findings per severity."""
    findings: list[dict[str, Any]]
    """``hullscan-scan/1`` finding objects (see docs/report-json.md), worst first."""
    warnings: list[str]


class CheckReport(BaseModel):
    """An image's check findings (secrets, configuration, ...) from its analysis."""

    image_id: int
    digest: str
    checks: list[dict[str, Any]]


# ------------------------------------------------------------------------- policies


class PolicyUpload(RequestBody):
    """A bundle as JSON-wrapped text (YAML or JSON); raw YAML bodies are accepted too."""

    document: str = Field(min_length=1)
    activate: bool = False


class PolicyOut(BaseModel):
    """An uploaded bundle."""

    id: str
    name: str
    version: str
    description: str | None
    active: bool
    uploaded_at: Moment
    policies: list[str]
    allowlists: list[str]
    mappings: list[str]
    """Mapping names, in the order they are tried."""


class PolicyDetail(PolicyOut):
    """An uploaded bundle with its text."""

    document: str


# ------------------------------------------------------------------------- subscriptions


class SubscriptionIn(RequestBody):
    """A watch or a notification interest."""

    kind: SubscriptionKind
    target: str = Field(min_length=1, max_length=1024, description=(
        "host/repo:tag (tag_update, and one image for vuln_update and policy_eval), "
        "host/repo (repo_update), or * (every image)"))
    webhook_url: str | None = Field(default=None, max_length=2048,
                                    pattern=r"^https?://[^\s]+$")
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key; generated and returned once if omitted")
    interval_seconds: int = Field(default=300, ge=10, le=7 * 24 * 3600)
    active: bool = True


class SubscriptionOut(BaseModel):
    """A stored subscription (its webhook key is never returned)."""

    id: int
    kind: SubscriptionKind
    target: str
    webhook_url: str | None
    has_secret: bool
    interval_seconds: int
    active: bool
    last_checked_at: Moment | None
    created_at: Moment


class SubscriptionCreated(SubscriptionOut):
    """``POST /v1/subscriptions``: the generated webhook key, this once."""

    webhook_secret: str | None
    """Set only when the service generated the key."""


# ------------------------------------------------------------------------- queries


class AffectedImage(BaseModel):
    """One image name whose digest has the vulnerability, and through which package."""

    image_id: int
    registry: str
    repository: str
    tag: str | None
    digest: str
    package: str
    version: str
    severity: str
    fix_versions: list[str]


class AffectedImages(BaseModel):
    """``GET /v1/vulnerabilities/{id}/images``."""

    vulnerability: str
    images: list[AffectedImage]


class DeliveryOut(BaseModel):
    """One webhook delivery and its attempts."""

    id: int
    subscription_id: int
    kind: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: Moment
    last_error: str | None
    response_status: int | None
    created_at: Moment
    delivered_at: Moment | None
    payload: dict[str, Any]


# ------------------------------------------------------------------------- tokens


class TokenIn(RequestBody):
    """A token to create."""

    name: str = Field(min_length=1, max_length=255)
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ], min_length=1)


class TokenOut(BaseModel):
    """A stored token (never its secret or hash)."""

    id: int
    name: str
    scopes: list[Scope]
    created_at: Moment
    last_used_at: Moment | None


class TokenCreated(TokenOut):
    """``POST /v1/tokens``: the secret, shown this once."""

    token: str
