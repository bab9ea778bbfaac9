"""``/v1/registries``: where images are pulled from, with credentials sealed at rest
(admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy import delete, select

from hullscan.service.api.auth import authorize
from hullscan.service.api.context import Context
from hullscan.service.api.egress_checks import check_host_field
from hullscan.service.api.errors import NotFoundError
from hullscan.service.api.schemas import RegistryIn, RegistryOut
from hullscan.service.store.models import Registry
from hullscan.service.tokens import Scope

router = APIRouter(prefix="/v1/registries", tags=["registries"],
                   dependencies=[Depends(authorize(Scope.ADMIN))])


def registry_out(row: Registry) -> RegistryOut:
    """The response for a stored registry: never its password."""
    return RegistryOut(id=row.id, host=row.host, username=row.username,
                       has_password=row.password_encrypted is not None,
                       insecure=row.insecure, has_ca_cert=bool(row.ca_cert),
                       created_at=row.created_at)


@router.post("", status_code=201, response_model=RegistryOut)
def put_registry(body: RegistryIn, context: Context, response: Response) -> RegistryOut:
    """Add a registry, or replace the stored settings of one (200 then); 422 when its host
    resolves to a private address the service is not allowed to reach."""
    check_host_field(context.service, "body.host", body.host)
    password = body.password.get_secret_value() if body.password is not None else None
    sealed = context.service.box.seal(password) if password else None
    with context.service.store.session() as session:
        row = session.scalar(select(Registry).where(Registry.host == body.host))
        if row is None:
            row = Registry(host=body.host)
            session.add(row)
        else:
            response.status_code = 200
        row.username = body.username
        row.password_encrypted = sealed
        row.insecure = body.insecure
        row.ca_cert = body.ca_cert
        session.flush()
        return registry_out(row)


@router.get("", response_model=list[RegistryOut])
def list_registries(context: Context) -> list[RegistryOut]:
    """Every stored registry."""
    with context.service.store.session() as session:
        return [registry_out(r) for r in session.scalars(select(Registry).order_by(Registry.host))]


@router.get("/{host}", response_model=RegistryOut)
def get_registry(host: str, context: Context) -> RegistryOut:
    """One stored registry."""
    with context.service.store.session() as session:
        row = session.scalar(select(Registry).where(Registry.host == host))
        if row is None:
            raise NotFoundError("no such registry", subject=host)
        return registry_out(row)


@router.delete("/{host}", status_code=204)
def delete_registry(host: str, context: Context) -> None:
    """Forget a registry and its credentials."""
    with context.service.store.session() as session:
        result = session.execute(delete(Registry).where(Registry.host == host))
        if not getattr(result, "rowcount", 0):
            raise NotFoundError("no such registry", subject=host)
