"""Secrets never reach an output: image metadata (history steps, ENV, labels) is redacted
before any report or SBOM is written. The image still holds them; the scan says so."""

from __future__ import annotations

from dataclasses import replace

from hullscan.catalog.package import Catalog, LayerRef, Package
from hullscan.checks.finding import CheckFinding
from hullscan.checks.secrets import redact_text
from hullscan.image.config import ImageConfig
from hullscan.image.layer import LayerContents
from hullscan.image.model import ImageMetadata


def redact_layer_ref(ref: LayerRef | None) -> LayerRef | None:
    """A layer reference whose build step shows no secret."""
    if ref is None or ref.created_by is None:
        return ref
    return replace(ref, created_by=redact_text(ref.created_by))


def redact_config(config: ImageConfig) -> ImageConfig:
    """ENV values, labels and history with secrets (and secret-named values) redacted."""
    return replace(
        config,
        env=tuple(redact_text(item) for item in config.env),
        labels={name: redact_text(f"{name}={value}").partition("=")[2]
                for name, value in config.labels.items()},
        history=tuple(replace(entry, created_by=redact_text(entry.created_by))
                      if entry.created_by else entry for entry in config.history))


def redact_image(image: ImageMetadata) -> ImageMetadata:
    """Image metadata safe to print."""
    layers = tuple(replace(layer, created_by=redact_text(layer.created_by))
                   if layer.created_by else layer for layer in image.layers)
    config = redact_config(image.config) if image.config is not None else None
    return replace(image, layers=layers, config=config)


def redact_layers(layers: tuple[LayerContents, ...]) -> tuple[LayerContents, ...]:
    """Per-layer results whose build steps show no secret."""
    return tuple(replace(contents, layer=replace(contents.layer, created_by=redact_text(
        contents.layer.created_by))) if contents.layer.created_by else contents
        for contents in layers)


def redact_catalog(catalog: Catalog) -> Catalog:
    """A catalog safe to print or export."""
    def package(item: Package) -> Package:
        return replace(item, layer=redact_layer_ref(item.layer),
                       deleted_by=redact_layer_ref(item.deleted_by))

    return replace(catalog, image=redact_image(catalog.image),
                   packages=tuple(package(p) for p in catalog.packages))


def redact_check(finding: CheckFinding) -> CheckFinding:
    """A check finding whose layer references show no secret."""
    return replace(finding, layer=redact_layer_ref(finding.layer),
                   deleted_by=redact_layer_ref(finding.deleted_by))


__all__ = [
    "redact_catalog",
    "redact_check",
    "redact_config",
    "redact_image",
    "redact_layer_ref",
    "redact_layers",
]
