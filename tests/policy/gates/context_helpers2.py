"""Evaluation contexts from real parts: a parsed config, layers read by the layer reader, a
parsed Dockerfile, check findings from the real scanners."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hullscan.catalog.package import Catalog, LayerRef, Scope
from hullscan.checks.config import dockerfile_steps
from hullscan.checks.finding import CheckFinding
from hullscan.image.config import ImageConfig, parse_config
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import (
    CapturePaths,
    CompositeVisitor,
    LayerContents,
    LayerInfo,
    LayerVisitor,
)
from hullscan.image.model import ImageMetadata, link_layers
from hullscan.image.reference import SourceKind
from hullscan.policy.context import DockerfileInstruction, EvaluationContext, ImageName
from hullscan.policy.gates.base import Fire, Trigger
from tests.image.layer_helpers import read_blob
from tests.support.image_builder import LayerSpec, layer_tar_bytes

IMAGE = ImageName("docker.io", "library/app", "1.0", None)


def image_config(*, history: Sequence[str | tuple[str, bool]] = (), layers: int = 1,
                 **runtime: Any) -> ImageConfig:
    """A config parsed from JSON: ``history`` of ``created_by`` (or ``(created_by, empty)``);
    one layer per non-empty step (``layers`` when there is no history); ``runtime`` keys are
    the config's (``User``, ``ExposedPorts``, ``Env``)."""
    entries = []
    for item in history:
        created_by, empty = item if isinstance(item, tuple) else (item, False)
        entries.append({"created_by": created_by, **({"empty_layer": True} if empty else {})})
    count = sum(1 for e in entries if not e.get("empty_layer")) if entries else layers
    diff_ids = [f"sha256:{i + 1:064x}" for i in range(count)]
    document = {"architecture": "amd64", "os": "linux", "config": runtime,
                "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": entries}
    return parse_config(json.dumps(document).encode(), subject="test")


def metadata(config: ImageConfig | None, layers: int = 1) -> ImageMetadata:
    """Image metadata around ``config`` (``layers`` layers when there is no config)."""
    if config is not None:
        infos = link_layers(config, [(None, None, 100)] * len(config.diff_ids))
    else:
        infos = tuple(LayerInfo(i, f"sha256:{i + 1:064x}", None, None, 100)
                      for i in range(layers))
    return ImageMetadata("app:1.0", SourceKind.OCI_DIR, "app:1.0", None, None, None, None, None,
                         config, infos)


def context(config: ImageConfig | None = None, *, layers: int = 1,
            checks: Sequence[CheckFinding] = (), filesystem: SquashedFilesystem | None = None,
            file_contents: Mapping[str, bytes] | None = None,
            content_matches: Mapping[str, tuple[str, ...]] | None = None,
            dockerfile: tuple[DockerfileInstruction, ...] | None = None) -> EvaluationContext:
    """An evaluation context; files (and etc/passwd) come from ``filesystem`` when given."""
    image = metadata(config, layers)
    contents = dict(file_contents or {})
    if filesystem is not None and (passwd := filesystem.read("etc/passwd")) is not None:
        contents.setdefault("etc/passwd", passwd)
    return EvaluationContext(
        image=IMAGE, metadata=image, catalog=Catalog(image, None, Scope.SQUASHED, ()),
        vulnerabilities=None, checks=tuple(checks),
        files=tuple(filesystem) if filesystem is not None else (),
        file_contents=contents, content_matches=dict(content_matches or {}),
        dockerfile=dockerfile)


def read_layers(specs: Sequence[LayerSpec], visitor: LayerVisitor | None = None,
                wanted: tuple[str, ...] = ("etc/passwd",)) -> list[LayerContents]:
    """Build each layer's tar with the image builder and read it with the layer reader."""
    capture = CapturePaths(wanted.__contains__)
    both = capture if visitor is None else CompositeVisitor([visitor, capture])
    out = []
    for index, spec in enumerate(specs):
        tar = layer_tar_bytes(spec)
        info = LayerInfo(index, "sha256:" + hashlib.sha256(tar).hexdigest(), None, None,
                         len(tar), created_by=spec.created_by or None)
        out.append(read_blob(tar, info, visitor=both))
    return out


def layer_refs(layers: Sequence[LayerContents]) -> list[LayerRef]:
    """The :class:`LayerRef` of each layer read."""
    return [LayerRef(c.layer.index, c.layer.diff_id, c.layer.created_by) for c in layers]


def dockerfile(text: str, directory: Path) -> tuple[DockerfileInstruction, ...]:
    """A Dockerfile's instructions, parsed as ``--dockerfile`` parses them."""
    path = directory / "Dockerfile"
    path.write_text(text)
    return tuple(DockerfileInstruction(s.instruction, s.arguments, s.line or 0)
                 for s in dockerfile_steps(path))


def valid(trigger: Trigger, **raw: Any) -> dict[str, Any]:
    """The trigger's typed parameters; fails the test on any problem."""
    values, problems = trigger.validate(raw)
    assert problems == [], problems
    return values


def fires(trigger: Trigger, ctx: EvaluationContext, **raw: Any) -> list[Fire]:
    """What the trigger yields for ``raw`` parameters (validated first)."""
    return list(trigger.evaluate(ctx, valid(trigger, **raw)))


def fire_ids(trigger: Trigger, ctx: EvaluationContext, **raw: Any) -> list[str]:
    """The trigger ids fired, sorted."""
    return sorted(f.trigger_id for f in fires(trigger, ctx, **raw))


def problems(trigger: Trigger, **raw: Any) -> dict[str, str]:
    """``{param name: problem}`` of validating ``raw``."""
    return dict(trigger.validate(raw)[1])
