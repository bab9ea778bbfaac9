"""``/v1/policies``: upload (validated), list, activate exactly one, delete. Without an
active upload the built-in bundle applies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from hullscan.errors import HullscanError
from hullscan.policy.load import parse_bundle
from hullscan.service.api.auth import authorize
from hullscan.service.api.context import ApiContext, Context
from hullscan.service.api.errors import ConflictError, NotFoundError
from hullscan.service.api.schemas import PolicyDetail, PolicyOut, PolicyUpload
from hullscan.service.store.models import PolicyBundle, utcnow

router = APIRouter(prefix="/v1/policies", tags=["policies"],
                   dependencies=[Depends(authorize())])

MAX_ID_LENGTH = 255
UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/PolicyUpload"}},
    "application/yaml": {"schema": {"type": "string"}},
    "text/plain": {"schema": {"type": "string"}},
}}}
"""The upload takes ``PolicyUpload`` JSON, or the bundle itself as any other content type."""


def policy_detail(row: PolicyBundle) -> PolicyDetail:
    """The response for a stored bundle (its text was validated when uploaded)."""
    bundle = parse_bundle(row.document.encode("utf-8"), f"policy {row.id}")
    return PolicyDetail(
        id=row.id, name=bundle.name, version=bundle.version, description=bundle.description,
        active=row.active, uploaded_at=row.uploaded_at,
        policies=[p.id for p in bundle.policies], allowlists=[a.id for a in bundle.allowlists],
        mappings=[m.name for m in bundle.mappings], document=row.document)


def policy_out(row: PolicyBundle) -> PolicyOut:
    """The listing entry for a stored bundle."""
    return PolicyOut(**policy_detail(row).model_dump(exclude={"document"}))


async def _upload(request: Request) -> PolicyUpload:
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        try:
            return PolicyUpload.model_validate_json(body)
        except ValidationError as error:
            raise RequestValidationError(error.errors(include_input=False)) from None
    try:
        return PolicyUpload(document=body.decode("utf-8"))
    except (UnicodeDecodeError, ValidationError):
        raise HullscanError("the bundle must be non-empty UTF-8 text",
                            subject="upload") from None


@router.post("", status_code=201, response_model=PolicyDetail, openapi_extra=UPLOAD_BODY)
async def upload_policy(
    request: Request, context: Context,
    activate: Annotated[bool, Query(description="activate it at once")] = False,
) -> PolicyDetail:
    """Validate and store a bundle (YAML or JSON); 400 lists every problem."""
    upload = await _upload(request)
    return await run_in_threadpool(_store, context, upload.document,
                                   activate or upload.activate)


def _store(context: ApiContext, document: str, activate: bool) -> PolicyDetail:
    bundle = parse_bundle(document.encode("utf-8"), "upload")
    if len(bundle.id) > MAX_ID_LENGTH:
        raise HullscanError(f"longer than {MAX_ID_LENGTH} characters", subject="id")
    try:
        with context.service.store.session() as session:
            if session.get(PolicyBundle, bundle.id) is not None:
                raise ConflictError("exists; delete it first or upload under another id",
                                    subject=f"policy {bundle.id}")
            session.add(PolicyBundle(id=bundle.id, document=document, active=False,
                                     uploaded_at=utcnow()))
    except IntegrityError:
        raise ConflictError("exists", subject=f"policy {bundle.id}") from None
    if activate:
        return activate_policy(bundle.id, context)
    return get_policy(bundle.id, context)


@router.get("", response_model=list[PolicyOut])
def list_policies(context: Context) -> list[PolicyOut]:
    """Every uploaded bundle, oldest first."""
    with context.service.store.session() as session:
        rows = session.scalars(select(PolicyBundle).order_by(PolicyBundle.uploaded_at,
                                                             PolicyBundle.id)).all()
    return [policy_out(row) for row in rows]


def _find(context: ApiContext, policy_id: str) -> PolicyBundle:
    with context.service.store.session() as session:
        row = session.get(PolicyBundle, policy_id)
    if row is None:
        raise NotFoundError("no such policy bundle", subject=f"policy {policy_id}")
    return row


@router.get("/{policy_id}", response_model=PolicyDetail)
def get_policy(policy_id: str, context: Context) -> PolicyDetail:
    """One uploaded bundle with its text."""
    return policy_detail(_find(context, policy_id))


@router.post("/{policy_id}/activate", response_model=PolicyDetail)
def activate_policy(policy_id: str, context: Context) -> PolicyDetail:
    """Make this bundle the one evaluated (and every other inactive), in one statement."""
    _find(context, policy_id)
    with context.service.store.session() as session:
        session.execute(update(PolicyBundle).values(active=PolicyBundle.id == policy_id)
                        .execution_options(synchronize_session=False))
    return get_policy(policy_id, context)


@router.post("/{policy_id}/deactivate", response_model=PolicyDetail)
def deactivate_policy(policy_id: str, context: Context) -> PolicyDetail:
    """Stop evaluating this bundle (the built-in one applies when none is active)."""
    _find(context, policy_id)
    with context.service.store.session() as session:
        session.execute(update(PolicyBundle).where(PolicyBundle.id == policy_id)
                        .values(active=False))
    return get_policy(policy_id, context)


@router.delete("/{policy_id}", status_code=204)
def delete_policy(policy_id: str, context: Context) -> None:
    """Delete an uploaded bundle (if active, the built-in one applies again)."""
    with context.service.store.session() as session:
        row = session.get(PolicyBundle, policy_id)
        if row is None:
            raise NotFoundError("no such policy bundle", subject=f"policy {policy_id}")
        session.delete(row)
