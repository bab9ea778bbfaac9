"""Build steps, from an image's history or a Dockerfile, in one shape the rules read.

History ``created_by`` strings come in two forms:

* Docker classic: ``/bin/sh -c #(nop)  ADD file:ab12 in /`` for metadata and copy steps,
  ``/bin/sh -c apt-get update`` (or ``|2 A=1 B=2 /bin/sh -c ...`` with build args) for RUN;
* BuildKit: ``RUN /bin/sh -c apt-get update # buildkit``, ``ADD https://x/y /y # buildkit``,
  ``USER app``, ``EXPOSE map[22/tcp:{}]``.

Strings in neither form (other builders) become an ``UNKNOWN`` step that no rule reads.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

from hullscan.catalog.package import LayerRef
from hullscan.image.config import ImageConfig

_SHELL = re.compile(r"^(?:\|\d+\s+(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)?"
                    r"(?:/usr)?/bin/(?:ba|da|a)?sh\s+-c\s+(.*)$", re.DOTALL)
_NOP = re.compile(r"^#\(nop\)\s*(.*)$", re.DOTALL)
_INSTRUCTION = re.compile(r"^([A-Z]+)(?:\s+(.*))?$", re.DOTALL)
_BUILDKIT_SUFFIX = "# buildkit"


@dataclass(frozen=True)
class Step:
    """One build instruction."""

    instruction: str
    """Upper-case Dockerfile instruction (``RUN``, ``ADD``, ...) or ``UNKNOWN``."""
    arguments: str
    """For RUN, the shell command; otherwise the instruction's arguments."""
    config_key: str
    """``history[7].created_by`` or ``Dockerfile:12``."""
    layer: LayerRef | None = None
    line: int | None = None
    first_layer: bool = False
    """The step made the image's first layer (the base root filesystem)."""


def parse_created_by(created_by: str) -> tuple[str, str]:
    """``(instruction, arguments)`` of one history ``created_by`` string."""
    text = created_by.strip()
    if text.endswith(_BUILDKIT_SUFFIX):
        text = text[:-len(_BUILDKIT_SUFFIX)].rstrip()
    shell = _SHELL.match(text)
    if shell:
        body = shell.group(1).strip()
        nop = _NOP.match(body)
        if nop is None:
            return "RUN", body
        text = nop.group(1).strip()
    match = _INSTRUCTION.match(text)
    if match is None:
        return "UNKNOWN", text
    instruction, arguments = match.group(1), (match.group(2) or "").strip()
    if instruction == "RUN":
        shell = _SHELL.match(arguments)
        if shell:
            arguments = shell.group(1).strip()
    return instruction, arguments


def history_steps(config: ImageConfig) -> tuple[Step, ...]:
    """Every history entry with a ``created_by``, linked to the layer it made (if any)."""
    layers: dict[int, LayerRef] = {}
    for layer_index, pair in enumerate(config.layer_history()):
        if pair is not None:
            diff_id = config.diff_ids[layer_index] if layer_index < len(config.diff_ids) else None
            layers[pair[0]] = LayerRef(layer_index, diff_id, pair[1].created_by)
    steps = []
    for index, entry in enumerate(config.history):
        if not entry.created_by:
            continue
        instruction, arguments = parse_created_by(entry.created_by)
        layer = layers.get(index)
        steps.append(Step(instruction, arguments, f"history[{index}].created_by", layer,
                          first_layer=layer is not None and layer.index == 0))
    return tuple(steps)


def dockerfile_steps(path: Path) -> tuple[Step, ...]:
    """The instructions of a Dockerfile (all stages), with 1-based line numbers."""
    parser = DockerfileParser(fileobj=io.BytesIO(path.read_bytes()), env_replace=False)
    steps = []
    for item in parser.structure:
        line = int(item["startline"]) + 1
        instruction = str(item["instruction"]).upper()
        if instruction == "COMMENT":
            continue
        steps.append(Step(instruction, str(item["value"]).strip(), f"Dockerfile:{line}",
                          line=line))
    return tuple(steps)
