"""How reports name a layer: its index and build step, shortened, and whether it is the base's."""

from __future__ import annotations

from hullscan.catalog.package import LayerRef
from hullscan.checks.config.steps import parse_created_by


def build_step(layer: LayerRef, width: int = 48) -> str:
    """``RUN apt-get install -y curl`` (at most ``width`` characters); empty when unknown."""
    if not layer.created_by:
        return ""
    instruction, arguments = parse_created_by(layer.created_by)
    text = " ".join(f"{instruction} {arguments}".split())
    return text if len(text) <= width else text[:width - 1] + "…"


def origin(from_base_image: bool | None) -> str:
    """``base``, ``own`` or empty (unknown)."""
    return {True: "base", False: "own", None: ""}[from_base_image]


def is_base_layer(layer: LayerRef | None, base_layer_count: int | None) -> bool | None:
    """True when ``layer`` came from the base image; None when unknown."""
    if layer is None or base_layer_count is None:
        return None
    return layer.index < base_layer_count


def layer_label(layer: LayerRef | None, from_base_image: bool | None = None,
                width: int = 48, marker: str = "#") -> str:
    """``#3 RUN apt-get… (own)``; ``-`` for no layer. ``marker`` precedes the index."""
    if layer is None:
        return "-"
    text = f"{marker}{layer.index}"
    step = build_step(layer, width)
    if step:
        text += f" {step}"
    where = origin(from_base_image)
    return f"{text} ({where})" if where else text
