"""Everything a policy evaluation looks at, gathered once from a scan."""

from __future__ import annotations

import datetime
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field

from hullscan.catalog.package import Catalog, LayerRef
from hullscan.checks.finding import CheckFinding
from hullscan.image.config import ImageConfig
from hullscan.image.layer import FileEntry
from hullscan.image.model import ImageMetadata
from hullscan.vuln.finding import Finding


@dataclass(frozen=True)
class ImageName:
    """The evaluated image's name as mappings and image lists match it."""

    registry: str
    """``127.0.0.1:5000``, ``docker.io``; empty for images not from a registry."""
    repository: str
    tag: str
    digest: str | None

    def __str__(self) -> str:
        name = "/".join(part for part in (self.registry, self.repository) if part)
        name += f":{self.tag}" if self.tag else ""
        return f"{name}@{self.digest}" if self.digest else name

    def matches(self, registry: str, repository: str, tag: str, digest: str | None) -> bool:
        """Do the glob patterns (and the exact digest, when given) select this image?"""
        if digest is not None and digest != self.digest:
            return False
        return (fnmatch.fnmatchcase(self.registry, registry)
                and fnmatch.fnmatchcase(self.repository, repository)
                and fnmatch.fnmatchcase(self.tag, tag))


@dataclass(frozen=True)
class DatabaseFacts:
    """What the vulnerability database used for matching says about itself."""

    built_at: datetime.datetime | None
    namespaces: frozenset[str]
    """Every vulnerability namespace with data (``debian:12``, ``pypi``)."""


@dataclass(frozen=True)
class DockerfileInstruction:
    """One instruction of a given Dockerfile."""

    instruction: str
    """Upper case: ``RUN``, ``USER``, ``EXPOSE``."""
    value: str
    line: int
    """1-based line where the instruction starts."""


@dataclass(frozen=True)
class EvaluationContext:
    """The scan results a policy is evaluated against.

    ``vulnerabilities`` is None when no vulnerability matching ran (``--scanners`` without
    ``vuln``), as opposed to an empty tuple (matched, nothing found); likewise ``database``.
    """

    image: ImageName
    metadata: ImageMetadata
    catalog: Catalog
    vulnerabilities: tuple[Finding, ...] | None
    checks: tuple[CheckFinding, ...]
    files: tuple[FileEntry, ...] = ()
    """Every entry of the final (squashed) file system."""
    file_contents: Mapping[str, bytes] = field(default_factory=dict, hash=False)
    """Contents of small files the gates read (``etc/passwd``, ``etc/group``)."""
    content_matches: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    """For each content regex a bundle asks for (by its text), the final files matching it."""
    database: DatabaseFacts | None = None
    dockerfile: tuple[DockerfileInstruction, ...] | None = None
    """The instructions of the Dockerfile given with ``--dockerfile``, if any."""
    base_layer_count: int | None = None
    """Layers ``0 .. base_layer_count - 1`` came from the base image; None: unknown."""
    now: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC))

    @property
    def config(self) -> ImageConfig | None:
        """The image configuration, when the source has one."""
        return self.metadata.config

    @property
    def today(self) -> datetime.date:
        """The evaluation date (allowlist expiry, ages)."""
        return self.now.date()

    def layer_ref(self, index: int | None) -> LayerRef | None:
        """The :class:`LayerRef` of layer ``index``."""
        if index is None or not 0 <= index < len(self.metadata.layers):
            return None
        layer = self.metadata.layers[index]
        return LayerRef(layer.index, layer.diff_id, layer.created_by)

    def from_base_image(self, layer: LayerRef | None) -> bool | None:
        """True when ``layer`` belongs to the base image; None when unknown."""
        if layer is None or self.base_layer_count is None:
            return None
        return layer.index < self.base_layer_count
