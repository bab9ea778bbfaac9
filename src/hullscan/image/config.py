"""The image configuration blob: runtime settings, diff IDs and build history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hullscan.errors import CorruptContentError, LimitExceededError
from hullscan.image.digest import validate_digest
from hullscan.image.manifest import load_json_object

MAX_CONFIG_BYTES = 8 * 1024 * 1024
"""Larger configs are refused before parsing: JSON of small objects takes ~25 times its size
in memory (8 MiB of ``{},`` is ~220 MB), and real configs stay far below."""
MAX_CONFIG_ENTRIES = 10_000
"""Entries in one list or map of a config (history, Env, Labels, ...): every one is handled
(and scanned for secrets) later, so a long list costs time as well as memory."""


@dataclass(frozen=True)
class HistoryEntry:
    """One build step from the config's ``history``."""

    created_by: str | None
    created: str | None
    comment: str | None
    empty_layer: bool
    """True for steps that made no layer (ENV, CMD, ...)."""


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image config that scanning uses."""

    architecture: str | None
    os: str | None
    variant: str | None
    created: str | None
    user: str | None
    env: tuple[str, ...]
    """``NAME=value`` strings, as in the config."""
    exposed_ports: tuple[str, ...]
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    working_dir: str | None
    labels: dict[str, str]
    stop_signal: str | None
    healthcheck: tuple[str, ...] | None
    diff_ids: tuple[str, ...]
    history: tuple[HistoryEntry, ...]

    @property
    def env_names(self) -> tuple[str, ...]:
        """Environment variable names only (values may be secrets)."""
        return tuple(item.split("=", 1)[0] for item in self.env)

    def layer_history(self) -> tuple[tuple[int, HistoryEntry] | None, ...]:
        """For each layer (in diff-ID order), its history index and entry, when known."""
        pairs = [(i, h) for i, h in enumerate(self.history) if not h.empty_layer]
        return tuple(pairs[i] if i < len(pairs) else None for i in range(len(self.diff_ids)))


def parse_config(data: bytes, *, subject: str) -> ImageConfig:
    """Parse a config blob strictly enough that later stages can trust its types."""
    if len(data) > MAX_CONFIG_BYTES:
        raise CorruptContentError(f"config larger than {MAX_CONFIG_BYTES} bytes", subject=subject)
    document = load_json_object(data, what="image config", subject=subject)
    runtime = document.get("config")
    if runtime is None:
        runtime = document.get("container_config") or {}
    if not isinstance(runtime, dict):
        raise CorruptContentError("image config field 'config' is not an object", subject=subject)
    _check_sizes(document, runtime, subject)
    rootfs = document.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        raise CorruptContentError("image config has no rootfs.diff_ids", subject=subject)
    diff_ids = tuple(_string(d, "rootfs.diff_ids", subject) for d in rootfs["diff_ids"])
    for diff_id in diff_ids:
        validate_digest(diff_id, subject=subject)
    raw_history = document.get("history", [])
    if raw_history is None:
        raw_history = []
    if not isinstance(raw_history, list):
        raise CorruptContentError("image config field 'history' is not a list", subject=subject)
    healthcheck = runtime.get("Healthcheck")
    return ImageConfig(
        architecture=_optional_string(document.get("architecture")),
        os=_optional_string(document.get("os")),
        variant=_optional_string(document.get("variant")),
        created=_optional_string(document.get("created")),
        user=_optional_string(runtime.get("User")),
        env=_strings(runtime.get("Env")),
        exposed_ports=tuple(sorted(runtime.get("ExposedPorts") or {}))
        if isinstance(runtime.get("ExposedPorts") or {}, dict) else (),
        entrypoint=_strings(runtime["Entrypoint"]) if runtime.get("Entrypoint") else None,
        cmd=_strings(runtime["Cmd"]) if runtime.get("Cmd") else None,
        working_dir=_optional_string(runtime.get("WorkingDir")),
        labels={str(k): str(v) for k, v in (runtime.get("Labels") or {}).items()}
        if isinstance(runtime.get("Labels") or {}, dict) else {},
        stop_signal=_optional_string(runtime.get("StopSignal")),
        healthcheck=_strings(healthcheck.get("Test"))
        if isinstance(healthcheck, dict) and healthcheck.get("Test") else None,
        diff_ids=diff_ids,
        history=tuple(_history_entry(item) for item in raw_history if isinstance(item, dict)),
    )


def _check_sizes(document: dict[str, Any], runtime: dict[str, Any], subject: str) -> None:
    """Refuse lists and maps longer than :data:`MAX_CONFIG_ENTRIES`."""
    healthcheck = runtime.get("Healthcheck")
    fields = {
        "history": document.get("history"),
        **{f"config.{key}": runtime.get(key)
           for key in ("Env", "Labels", "ExposedPorts", "Entrypoint", "Cmd", "Volumes")},
        "config.Healthcheck.Test": healthcheck.get("Test")
        if isinstance(healthcheck, dict) else None,
    }
    for name, value in fields.items():
        if isinstance(value, list | dict) and len(value) > MAX_CONFIG_ENTRIES:
            raise LimitExceededError(
                f"image config field {name!r} has more than {MAX_CONFIG_ENTRIES} entries "
                f"({len(value)})", subject=subject)


def _history_entry(item: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        created_by=_optional_string(item.get("created_by")),
        created=_optional_string(item.get("created")),
        comment=_optional_string(item.get("comment")),
        empty_layer=item.get("empty_layer") is True,
    )


def _string(value: object, field_name: str, subject: str) -> str:
    if not isinstance(value, str):
        raise CorruptContentError(f"image config field {field_name} holds a non-string",
                                  subject=subject)
    return value


def _optional_string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()
