"""Which layers came from the base image (``FROM``) and which the image's own build added.

Precedence: ``--base-layers N`` as given; else the history: a base image ends with metadata
steps (``CMD``/``ENTRYPOINT`` set by its own Dockerfile, which make no layer), so the layers
before the last such step that is followed by more layers are the base's. Images whose
history shows no such boundary are left unknown rather than guessed. The OCI annotations
``org.opencontainers.image.base.name``/``.digest`` (labels, in practice) only name the base;
they are reported but cannot count its layers without fetching it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hullscan.checks.config.steps import parse_created_by
from hullscan.image.config import ImageConfig

BASE_NAME_LABEL = "org.opencontainers.image.base.name"
BASE_DIGEST_LABEL = "org.opencontainers.image.base.digest"
_BASE_ENDING = frozenset({"CMD", "ENTRYPOINT"})


@dataclass(frozen=True)
class BaseImage:
    """How many leading layers are the base image's, and how that was decided."""

    layer_count: int | None
    method: str
    """``--base-layers``, ``history`` or ``unknown``."""
    name: str | None = None
    """The base image's name or digest, when the image's labels say."""


def detect_base_image(config: ImageConfig | None, layer_count: int,
                      explicit: int | None = None) -> BaseImage:
    """The base-image boundary for an image with ``layer_count`` layers."""
    labels = config.labels if config is not None else {}
    name = labels.get(BASE_NAME_LABEL) or labels.get(BASE_DIGEST_LABEL)
    if explicit is not None:
        return BaseImage(min(max(explicit, 0), layer_count), "--base-layers", name)
    if config is None:
        return BaseImage(None, "unknown", name)
    total = min(layer_count, len(config.diff_ids))
    layers_before = 0
    boundaries: list[int] = []
    for entry in config.history:
        if not entry.empty_layer:
            layers_before += 1
            continue
        instruction, _ = parse_created_by(entry.created_by or "")
        if instruction in _BASE_ENDING and 0 < layers_before < total:
            boundaries.append(layers_before)
    if not boundaries:
        return BaseImage(None, "unknown", name)
    return BaseImage(max(boundaries), "history", name)
