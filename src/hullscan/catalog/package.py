"""The catalog of an image: packages with their identifiers, locations and the layer that
added them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hullscan.image.distro import Distro
from hullscan.image.model import ImageMetadata


class Scope(enum.StrEnum):
    """Which packages a catalog holds."""

    SQUASHED = "squashed"
    """What the final image contains."""
    ALL_LAYERS = "all-layers"
    """Also packages that a later layer deleted (flagged)."""


@dataclass(frozen=True)
class LayerRef:
    """The layer that introduced (or deleted) a package."""

    index: int
    diff_id: str | None
    created_by: str | None


@dataclass(frozen=True)
class Package:
    """One package of an image, as every report and the matcher see it."""

    name: str
    version: str
    type: str
    """Package URL type: ``deb``, ``apk``, ``rpm``, ``pypi``, ``npm``, ``maven``, ``golang``,
    ``cargo``, ``gem``, ``composer``, ``nuget``."""
    purl: str
    namespace: str | None = None
    """Maven group, Go module prefix, Composer vendor; distro id for OS packages."""
    source_name: str | None = None
    source_version: str | None = None
    architecture: str | None = None
    epoch: int | None = None
    release: str | None = None
    licenses: tuple[str, ...] = ()
    supplier: str | None = None
    cpes: tuple[str, ...] = ()
    """CPE 2.3 candidates, for optional NVD matching."""
    locations: tuple[str, ...] = ()
    """Files the package was found in (database, manifest, lock file, binary)."""
    layer: LayerRef | None = None
    """The layer that introduced the package (None for a root filesystem)."""
    deleted_by: LayerRef | None = None
    """In the all-layers scope: the layer that removed it (None if still present)."""
    found_by: str = ""
    """The cataloger that found it."""
    files: tuple[str, ...] = ()
    """Files the package owns, where its database lists them."""
    owner: str | None = None
    """purl of the OS package whose files contain this package (e.g. a Debian python3-* dist)."""
    development: bool = False
    dependencies: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Catalog:
    """Everything cataloguing found in one image."""

    image: ImageMetadata
    distro: Distro | None
    scope: Scope
    packages: tuple[Package, ...]
    anomalies: tuple[str, ...] = ()
    """Files that could not be parsed (named with the reason); never silently dropped."""
