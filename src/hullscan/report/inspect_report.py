"""What ``hullscan inspect`` prints: identity, platform, distro, config highlights, layers."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from hullscan.image.distro import Distro
from hullscan.image.layer import LayerContents
from hullscan.image.model import ImageMetadata
from hullscan.report.json_text import dumps_indented


def inspect_document(metadata: ImageMetadata, distro: Distro | None,
                     layers: tuple[LayerContents, ...]) -> dict[str, Any]:
    """The JSON document of ``inspect --format json`` (stable field names)."""
    config = metadata.config
    return {
        "reference": metadata.reference,
        "source": str(metadata.source),
        "name": metadata.name,
        "manifest_digest": metadata.manifest_digest,
        "index_digest": metadata.index_digest,
        "manifest_media_type": metadata.manifest_media_type,
        "image_id": metadata.image_id,
        "platform": str(metadata.platform) if metadata.platform else None,
        "distro": None if distro is None else {
            "id": distro.id, "version_id": distro.version_id, "pretty_name": distro.pretty_name,
            "codename": distro.codename, "support_ends": distro.support_ends,
            "end_of_life": distro.end_of_life},
        "config": None if config is None else {
            "user": config.user,
            "env_names": list(config.env_names),
            "exposed_ports": list(config.exposed_ports),
            "entrypoint": list(config.entrypoint) if config.entrypoint else None,
            "cmd": list(config.cmd) if config.cmd else None,
            "working_dir": config.working_dir,
            "labels": config.labels,
            "healthcheck": list(config.healthcheck) if config.healthcheck else None,
            "created": config.created,
        },
        "size": metadata.total_size,
        "layers": [
            {
                "index": contents.layer.index,
                "digest": contents.layer.digest,
                "diff_id": contents.layer.diff_id,
                "media_type": contents.layer.media_type,
                "compression": contents.compression,
                "size": contents.layer.size,
                "uncompressed_size": contents.uncompressed_size,
                "files": len(contents.entries),
                "whiteouts": len(contents.whiteouts) + len(contents.opaque_dirs),
                "created_by": contents.layer.created_by,
                "history_index": contents.layer.history_index,
                "anomalies": list(contents.anomalies),
            }
            for contents in layers
        ],
    }


def render_json(document: dict[str, Any]) -> str:
    """Pretty JSON with a trailing newline."""
    return dumps_indented(document) + "\n"


def render_table(document: dict[str, Any], console: Console) -> None:
    """The human-readable form."""
    def line(label: str, value: object) -> None:
        if value not in (None, "", [], {}):
            console.print(f"[bold]{label:<14}[/bold] {value}", highlight=False, soft_wrap=True)

    line("Reference", document["reference"])
    line("Name", document["name"])
    line("Source", document["source"])
    line("Digest", document["manifest_digest"])
    line("Index digest", document["index_digest"])
    line("Image ID", document["image_id"])
    line("Platform", document["platform"])
    distro = document["distro"]
    line("Distro", _distro_text(distro))
    config = document["config"]
    if config:
        line("User", config["user"] or "(unset: root)")
        line("Env", ", ".join(config["env_names"]))
        line("Ports", ", ".join(config["exposed_ports"]))
        line("Entrypoint", json.dumps(config["entrypoint"]) if config["entrypoint"] else None)
        line("Cmd", json.dumps(config["cmd"]) if config["cmd"] else None)
        line("Workdir", config["working_dir"])
        line("Healthcheck", " ".join(config["healthcheck"]) if config["healthcheck"] else None)
    line("Size", _human(document["size"]))
    table = Table(title="Layers", title_justify="left", expand=False)
    table.add_column("#", justify="right")
    table.add_column("Size", justify="right")
    table.add_column("Files", justify="right")
    table.add_column("Diff ID")
    table.add_column("Created by", overflow="fold")
    for layer in document["layers"]:
        diff_id = layer["diff_id"] or "-"
        table.add_row(str(layer["index"]), _human(layer["size"] or layer["uncompressed_size"]),
                      str(layer["files"]), diff_id[:19], (layer["created_by"] or "")[:200])
    console.print(table)
    for layer in document["layers"]:
        for anomaly in layer["anomalies"]:
            console.print(f"[yellow]layer {layer['index']}: {anomaly}[/yellow]", highlight=False)


def _distro_text(distro: dict[str, Any] | None) -> str:
    if not distro:
        return "unknown"
    text = str(distro["pretty_name"] or distro["id"])
    if distro["end_of_life"]:
        text += f" [red](end of life: support ended {distro['support_ends']})[/red]"
    elif distro["support_ends"]:
        text += f" (supported until {distro['support_ends']})"
    return text


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"
