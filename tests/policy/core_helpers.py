"""Small real contexts and gate registries for the policy core's tests."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hullscan.catalog.package import Catalog, LayerRef, Scope
from hullscan.image.config import parse_config
from hullscan.image.model import ImageMetadata, link_layers
from hullscan.image.reference import SourceKind
from hullscan.policy.context import EvaluationContext, ImageName
from hullscan.policy.gates.base import Fire, Gate, GateRegistry, Param, ParamKind, Trigger

NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.UTC)


def config_bytes(history: Sequence[tuple[str, bool]], labels: Mapping[str, str] | None = None
                 ) -> bytes:
    """An image config with one diff ID per non-empty history step."""
    layers = sum(1 for _, empty in history if not empty)
    return json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2026-11-01T00:00:00Z",
        "config": {"Labels": dict(labels or {})},
        "rootfs": {"type": "layers",
                   "diff_ids": [f"sha256:{i:064x}" for i in range(1, layers + 1)]},
        "history": [{"created_by": step, **({"empty_layer": True} if empty else {})}
                    for step, empty in history],
    }).encode()


def metadata(history: Sequence[tuple[str, bool]] = (("ADD rootfs.tar /", False),),
             name: str = "127.0.0.1:5000/staging/app:1",
             labels: Mapping[str, str] | None = None) -> ImageMetadata:
    """Image metadata as a registry source would produce it."""
    config = parse_config(config_bytes(history, labels), subject="test")
    blobs: list[tuple[str | None, str | None, int]] = [
        (f"sha256:{i:064x}", "application/vnd.oci.image.layer.v1.tar+gzip", 1000)
        for i in range(len(config.diff_ids))]
    return ImageMetadata(
        reference=name, source=SourceKind.REGISTRY, name=name,
        manifest_digest="sha256:" + "ab" * 32, index_digest=None,
        manifest_media_type="application/vnd.oci.image.manifest.v1+json",
        image_id="sha256:" + "cd" * 32, platform=None, config=config,
        layers=link_layers(config, blobs))


def context(image: ImageName | None = None, base_layer_count: int | None = None,
            meta: ImageMetadata | None = None) -> EvaluationContext:
    """A context with no findings (the test gates decide what fires)."""
    meta = meta or metadata()
    return EvaluationContext(
        image=image or ImageName("127.0.0.1:5000", "staging/app", "1", "sha256:" + "ab" * 32),
        metadata=meta, catalog=Catalog(meta, None, Scope.SQUASHED, ()),
        vulnerabilities=(), checks=(), base_layer_count=base_layer_count, now=NOW)


def fires_gate(name: str = "test") -> Gate:
    """A gate whose ``ids`` trigger fires once per id in its ``ids`` parameter, in layer 0
    when ``layer`` is true."""
    def ids(ctx: EvaluationContext, params: Mapping[str, Any]) -> Iterator[Fire]:
        layer = LayerRef(params["layer"], None, "RUN x") if params.get("layer") is not None \
            else None
        for item in params["ids"]:
            yield Fire(trigger_id=item, message=f"{item} fired", layer=layer)

    trigger = Trigger("ids", "Fires once per id.", (
        Param("ids", ParamKind.LIST, "ids to fire", required=True),
        Param("layer", ParamKind.INTEGER, "layer index of the fires")), ids)
    return Gate(name, "fires what it is told", (trigger,))


def registry() -> GateRegistry:
    """The test gate and the real ``always`` gate."""
    from hullscan.policy.gates import always

    return GateRegistry([fires_gate(), always.GATE])
