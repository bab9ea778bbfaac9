"""Small builders of real evaluation data (images, packages, findings) for gate tests."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from hullscan.catalog.package import Catalog, LayerRef, Package, Scope
from hullscan.checks.finding import CheckFinding
from hullscan.image.config import ImageConfig
from hullscan.image.distro import Distro
from hullscan.image.layer import LayerInfo
from hullscan.image.manifest import Platform
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import SourceKind
from hullscan.policy.context import DatabaseFacts, EvaluationContext, ImageName
from hullscan.policy.gates.base import Fire, Gate
from hullscan.vuln.finding import AffectedPackage, Finding, FixState
from hullscan.vuln.severity import Severity

NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.UTC)
"""The fixed evaluation time of every test context."""

DEBIAN_12 = Distro("debian", "12", "Debian GNU/Linux 12 (bookworm)", "bookworm")
DEBIAN_9 = Distro("debian", "9", "Debian GNU/Linux 9 (stretch)", "stretch")
FRESH_DATABASE = DatabaseFacts(NOW - datetime.timedelta(days=1),
                               frozenset({"debian:12", "pypi"}))


def layer(index: int) -> LayerRef:
    """The reference of layer ``index`` of :func:`metadata`'s image."""
    return LayerRef(index, f"sha256:{index:064x}", f"RUN step {index}")


def config(created: str | None = "2026-11-17T12:00:00Z", architecture: str = "amd64",
           os: str = "linux") -> ImageConfig:
    """An image config with just the facts gates read."""
    return ImageConfig(architecture=architecture, os=os, variant=None, created=created,
                       user=None, env=(), exposed_ports=(), entrypoint=None, cmd=None,
                       working_dir=None, labels={}, stop_signal=None, healthcheck=None,
                       diff_ids=(), history=())


def metadata(layer_sizes: Iterable[int] = (30_000_000, 20_000_000),
             image_config: ImageConfig | None = None) -> ImageMetadata:
    """A registry image with layers of the given stored sizes."""
    layers = tuple(LayerInfo(index=i, diff_id=layer(i).diff_id, digest=None, media_type=None,
                             size=size, created_by=layer(i).created_by)
                   for i, size in enumerate(layer_sizes))
    return ImageMetadata(
        reference="registry.example/app:1", source=SourceKind.REGISTRY,
        name="registry.example/app:1", manifest_digest=None, index_digest=None,
        manifest_media_type=None, image_id=None, platform=Platform("linux", "amd64"),
        config=image_config if image_config is not None else config(), layers=layers)


def package(name: str, version: str, type: str = "deb", *, licenses: tuple[str, ...] = (),
            index: int = 0, locations: tuple[str, ...] | None = None) -> Package:
    """A package added by layer ``index``."""
    where = locations if locations is not None else (
        ("var/lib/dpkg/status",) if type == "deb" else (f"app/{name}/METADATA",))
    return Package(name=name, version=version, type=type, purl=f"pkg:{type}/{name}@{version}",
                   licenses=licenses, locations=where, layer=layer(index))


def finding(vuln_id: str, pkg: Package, severity: Severity = Severity.HIGH, **fields: Any
            ) -> Finding:
    """A finding in ``pkg``; ``fields`` override the defaults (no fix, no scores)."""
    values: dict[str, Any] = dict(
        id=vuln_id, aliases=(), severity=severity, severity_source="debian",
        cvss_score=None, cvss_vector=None, epss_score=None, epss_percentile=None, kev=False,
        kev_due_date=None, fix_versions=(), fix_state=FixState.NOT_FIXED,
        data_source=f"osv:Debian {vuln_id}", namespace="debian:12", matched_name=pkg.name,
        published=None)
    values.update(fields)
    affected = AffectedPackage(pkg.name, pkg.version, pkg.type, pkg.purl, pkg.locations,
                               pkg.layer)
    return Finding(package=affected, **values)


def context(*, packages: Iterable[Package] = (), vulnerabilities: Iterable[Finding] | None = (),
            checks: Iterable[CheckFinding] = (), distro: Distro | None = DEBIAN_12,
            database: DatabaseFacts | None = FRESH_DATABASE,
            image_metadata: ImageMetadata | None = None, base_layer_count: int | None = None,
            now: datetime.datetime = NOW) -> EvaluationContext:
    """An evaluation context for ``registry.example/app:1`` at :data:`NOW`."""
    image = image_metadata if image_metadata is not None else metadata()
    return EvaluationContext(
        image=ImageName("registry.example", "app", "1", None), metadata=image,
        catalog=Catalog(image=image, distro=distro, scope=Scope.SQUASHED,
                        packages=tuple(packages)),
        vulnerabilities=None if vulnerabilities is None else tuple(vulnerabilities),
        checks=tuple(checks), database=database, base_layer_count=base_layer_count, now=now)


def fires(gate: Gate, trigger: str, ctx: EvaluationContext,
          params: Mapping[str, Any] | None = None) -> list[Fire]:
    """Validate ``params`` like the bundle loader does, then evaluate the trigger."""
    found = gate.trigger(trigger)
    assert found is not None, f"{gate.name} has no trigger {trigger}"
    values, problems = found.validate(params or {})
    assert not problems, problems
    return list(found.evaluate(ctx, values))


def problems(gate: Gate, trigger: str, params: Mapping[str, Any]) -> dict[str, str]:
    """Parameter name -> validation problem."""
    found = gate.trigger(trigger)
    assert found is not None
    return dict(found.validate(params)[1])
