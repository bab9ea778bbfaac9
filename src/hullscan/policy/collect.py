"""Gather an :class:`EvaluationContext` from the pieces a scan produced."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path

from hullscan.catalog.package import Catalog
from hullscan.checks.config.steps import dockerfile_steps
from hullscan.checks.finding import CheckFinding
from hullscan.errors import HullscanError
from hullscan.image.layer import FileEntry
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import parse_registry_reference
from hullscan.policy.base_image import BaseImage
from hullscan.policy.context import (
    DatabaseFacts,
    DockerfileInstruction,
    EvaluationContext,
    ImageName,
)
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.finding import Finding


def build_context(*, metadata: ImageMetadata, catalog: Catalog,
                  vulnerabilities: tuple[Finding, ...] | None, checks: tuple[CheckFinding, ...],
                  files: tuple[FileEntry, ...] = (),
                  file_contents: Mapping[str, bytes] | None = None,
                  content_matches: Mapping[str, tuple[str, ...]] | None = None,
                  database: DatabaseFacts | None, dockerfile: Path | None, base: BaseImage,
                  now: datetime.datetime | None = None) -> EvaluationContext:
    """Everything the gates look at, in one frozen object: ``files`` is the final view,
    ``file_contents`` the account files in it."""
    return EvaluationContext(
        image=image_name(metadata), metadata=metadata, catalog=catalog,
        vulnerabilities=vulnerabilities, checks=checks, files=files,
        file_contents=dict(file_contents or {}),
        content_matches=dict(content_matches or {}), database=database,
        dockerfile=dockerfile_instructions(dockerfile) if dockerfile is not None else None,
        base_layer_count=base.layer_count,
        now=now or datetime.datetime.now(datetime.UTC))


def image_name(metadata: ImageMetadata) -> ImageName:
    """Registry, repository, tag and digest as mappings match them.

    Registry images use their normalised name; archives and layouts use their tag or ref
    name (no registry) and, when that is no image name, the repository is the reference.
    """
    digest = metadata.manifest_digest or metadata.image_id
    name = metadata.name
    if name:
        try:
            parsed = parse_registry_reference(name)
        except HullscanError:
            parsed = None
        if parsed is not None and _written_with_registry(name, parsed.registry):
            return ImageName(parsed.registry, parsed.repository, parsed.tag or "", digest)
        if parsed is not None:  # as written: no docker.io/library/ added
            repository, _, tag = name.partition("@")[0].rpartition(":")
            if not repository or "/" in tag:
                repository, tag = name.partition("@")[0], ""
            return ImageName("", repository, tag, digest)
    return ImageName("", metadata.name or metadata.reference, "", digest)


def _written_with_registry(name: str, registry: str) -> bool:
    first = name.split("/", 1)[0]
    return "/" in name and first == registry


def dockerfile_instructions(path: Path) -> tuple[DockerfileInstruction, ...]:
    """The final stage's instructions (what the image is built from), with line numbers."""
    try:
        steps = dockerfile_steps(path)
    except OSError as error:
        raise HullscanError(error.strerror or "cannot read", subject=str(path)) from None
    starts = [i for i, step in enumerate(steps) if step.instruction == "FROM"]
    final = steps[starts[-1]:] if starts else steps
    return tuple(DockerfileInstruction(step.instruction, step.arguments, step.line or 0)
                 for step in final)


def database_facts(database: VulnerabilityDatabase) -> DatabaseFacts:
    """Build time and namespaces of an open vulnerability database."""
    built = database.status().built_at
    when = datetime.datetime.fromisoformat(built.replace("Z", "+00:00")) if built else None
    return DatabaseFacts(built_at=when, namespaces=database.namespaces())
