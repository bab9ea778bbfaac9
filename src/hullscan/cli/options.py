"""Options shared by every command that reads an image."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hullscan.errors import HullscanError
from hullscan.image.limits import ReadLimits, parse_size

if TYPE_CHECKING:
    from hullscan.image.layer_cache import LayerCache
    from hullscan.image.sources.interface import AcquireOptions

# The registry client (httpx) and image sources are imported when options are built, not when
# the CLI starts: `hullscan --version`, `policy` and the service commands do not need them.

PlatformOption = Annotated[str | None, typer.Option(
    "--platform", help="Platform to pick from a multi-platform image (default linux/amd64).",
    envvar="HULLSCAN_PLATFORM")]
CredsOption = Annotated[str | None, typer.Option(
    "--creds", help="Registry credentials USER:PASSWORD (else HULLSCAN_REGISTRY_USERNAME/"
    "PASSWORD, then ~/.docker/config.json).", show_default=False)]
CaCertOption = Annotated[Path | None, typer.Option(
    "--ca-cert", help="PEM file of CA certificates to trust for registry TLS.",
    envvar="HULLSCAN_CA_CERT")]
InsecureOption = Annotated[bool, typer.Option(
    "--insecure", help="Use plain HTTP for the registry (automatic for localhost).",
    envvar="HULLSCAN_INSECURE")]
MaxBytesOption = Annotated[str | None, typer.Option(
    "--max-image-bytes", help="Refuse images decompressing to more than this (e.g. 8GiB).",
    envvar="HULLSCAN_MAX_IMAGE_BYTES")]
MaxFilesOption = Annotated[int | None, typer.Option(
    "--max-files", help="Refuse images with more files than this.", envvar="HULLSCAN_MAX_FILES",
    min=1)]
MaxLayersOption = Annotated[int | None, typer.Option(
    "--max-layers", help="Refuse images with more layers than this (default 1000).",
    envvar="HULLSCAN_MAX_LAYERS", min=1)]

CacheDirOption = Annotated[Path | None, typer.Option(
    "--cache-dir", help="Per-layer analysis cache (default $XDG_CACHE_HOME/hullscan/layers).",
    envvar="HULLSCAN_CACHE_DIR", show_default=False)]
NoCacheOption = Annotated[bool, typer.Option(
    "--no-cache", help="Neither read nor write the per-layer analysis cache.",
    envvar="HULLSCAN_NO_CACHE")]
CacheMaxSizeOption = Annotated[str, typer.Option(
    "--cache-max-size", help="Bound on the cache's size; least recently used layers go first.",
    envvar="HULLSCAN_CACHE_MAX_SIZE")]

PolicyOption = Annotated[Path | None, typer.Option(
    "--policy", help="Policy bundle (YAML or JSON); default: the built-in policy.",
    envvar="HULLSCAN_POLICY")]
NoPolicyOption = Annotated[bool, typer.Option(
    "--no-policy", help="Evaluate no policy (the exit code then follows --fail-on only).")]
BaseLayersOption = Annotated[int | None, typer.Option(
    "--base-layers", min=0, help="The first N layers are the base image's (default: detected "
    "from the history).")]
OutputJsonOption = Annotated[Path | None, typer.Option(
    "--output-json", help="Also write the JSON report (with the policy evaluation) here.")]
OutputSarifOption = Annotated[Path | None, typer.Option(
    "--output-sarif", help="Also write a SARIF 2.1.0 report here (GitHub code scanning).")]
OutputJunitOption = Annotated[Path | None, typer.Option(
    "--output-junit", help="Also write a JUnit XML report here.")]
OutputCycloneDxOption = Annotated[Path | None, typer.Option(
    "--output-cyclonedx", help="Also write a CycloneDX 1.6 SBOM with vulnerabilities here.")]
OutputMarkdownOption = Annotated[Path | None, typer.Option(
    "--output-markdown", help="Also write a Markdown summary here (pull-request comments).")]
OutputHtmlOption = Annotated[Path | None, typer.Option(
    "--output-html", help="Also write a self-contained HTML report here.")]


def report_paths(**paths: Path | None) -> dict[str, Path]:
    """``--output-FORMAT`` values by format name, only those given; one file per report."""
    chosen = {name: path for name, path in paths.items() if path is not None}
    seen: dict[Path, str] = {}
    for name, path in chosen.items():
        if path.resolve() in seen:
            raise HullscanError(f"also given for --output-{seen[path.resolve()]}",
                                subject=f"--output-{name} {path}")
        seen[path.resolve()] = name
    return chosen


def acquire_options(*, platform: str | None, creds: str | None, ca_cert: Path | None,
                    insecure: bool, max_image_bytes: str | None,
                    max_files: int | None, max_layers: int | None = None) -> AcquireOptions:
    """Turn command-line values into :class:`AcquireOptions`."""
    from hullscan.image.manifest import DEFAULT_PLATFORM, Platform
    from hullscan.image.registry.credentials import CredentialStore, parse_creds_option
    from hullscan.image.registry.options import RegistryOptions
    from hullscan.image.sources.interface import AcquireOptions

    limits = ReadLimits.from_environment()
    if max_image_bytes is not None:
        limits = _replace(limits, max_image_bytes=parse_size(max_image_bytes,
                                                             subject="--max-image-bytes"))
    if max_files is not None:
        limits = _replace(limits, max_files=max_files)
    if max_layers is not None:
        limits = _replace(limits, max_layers=max_layers)
    if ca_cert is not None and not ca_cert.is_file():
        raise HullscanError("no such file", subject=f"--ca-cert {ca_cert}")
    explicit = parse_creds_option(creds) if creds is not None else None
    return AcquireOptions(
        platform=Platform.parse(platform) if platform else DEFAULT_PLATFORM,
        platform_explicit=platform is not None,
        registry=RegistryOptions(insecure=insecure, ca_cert=ca_cert),
        credentials=CredentialStore.from_process(explicit),
        limits=limits, **layer_worker_settings())


DEFAULT_MAX_LAYER_WORKERS = 4
"""Beyond four processes the layer pass of real images gains little (few large layers)."""


def layer_worker_settings(environ: Mapping[str, str] = os.environ) -> dict[str, int]:
    """``layer_workers`` and ``parallel_min_bytes`` for a command-line run:
    ``HULLSCAN_LAYER_WORKERS`` (default: the usable CPUs, at most four; 1 turns workers off)
    and ``HULLSCAN_PARALLEL_MIN_BYTES`` (default 16MiB)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    settings = {"layer_workers": min(cpus or 1, DEFAULT_MAX_LAYER_WORKERS)}
    if text := environ.get("HULLSCAN_LAYER_WORKERS"):
        if not text.strip().isdigit() or int(text) < 1:
            raise HullscanError("not a whole number of 1 or more",
                                subject=f"HULLSCAN_LAYER_WORKERS={text}")
        settings["layer_workers"] = int(text)
    if text := environ.get("HULLSCAN_PARALLEL_MIN_BYTES"):
        settings["parallel_min_bytes"] = parse_size(text, subject="HULLSCAN_PARALLEL_MIN_BYTES")
    return settings


def layer_cache(*, cache_dir: Path | None, no_cache: bool,
                cache_max_size: str) -> LayerCache | None:
    """The per-layer cache the options name (None with ``--no-cache``)."""
    from hullscan.image.layer_cache import LayerCache, default_cache_dir

    max_bytes = parse_size(cache_max_size, subject="--cache-max-size")
    if no_cache:
        return None
    return LayerCache(cache_dir or default_cache_dir(), max_bytes)


def _replace(limits: ReadLimits, **changes: int) -> ReadLimits:
    from dataclasses import replace
    return replace(limits, **changes)
