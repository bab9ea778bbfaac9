"""Which Dockerfile line built a layer: its history ``created_by`` matched to an instruction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hullscan.catalog.package import LayerRef
from hullscan.checks.config.steps import dockerfile_steps, parse_created_by


@dataclass(frozen=True)
class DockerfileLines:
    """The instructions of one Dockerfile, searchable by build step."""

    instructions: tuple[tuple[str, str, int], ...]
    """``(instruction, whitespace-normalised arguments, line)`` in file order."""

    @classmethod
    def read(cls, path: Path | None) -> DockerfileLines:
        """The Dockerfile at ``path``; empty when there is none or it cannot be read."""
        if path is None:
            return cls(())
        try:
            steps = dockerfile_steps(path)
        except (OSError, ValueError, UnicodeDecodeError):
            return cls(())
        return cls(tuple((s.instruction, _normalise(s.arguments), s.line or 1) for s in steps))

    def line_of(self, layer: LayerRef | None) -> int | None:
        """The line of the instruction that made ``layer``; None when no instruction matches.

        The last match wins: in a multi-stage Dockerfile the final stage comes last.
        """
        if layer is None or not layer.created_by:
            return None
        instruction, arguments = parse_created_by(layer.created_by)
        wanted = _normalise(arguments)
        same = [(args, line) for kind, args, line in self.instructions if kind == instruction]
        exact = [line for args, line in same if args == wanted]
        if exact:
            return exact[-1]
        # COPY/ADD history shows ``file:<hash> in /dest``: match the destination.
        if instruction in ("COPY", "ADD") and " in " in wanted:
            destination = wanted.rsplit(" in ", 1)[1]
            ends = [line for args, line in same if args.split(" ")[-1] == destination]
            if ends:
                return ends[-1]
        return None


def _normalise(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())
