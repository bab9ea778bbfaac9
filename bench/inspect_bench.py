#!/usr/bin/env python3
"""Time ``hullscan inspect`` on a ~150 MB (uncompressed) image from every kind of source.

``inspect`` reads every layer of an image once: it checks each blob against its digest,
decompresses it, parses the tar and checks the uncompressed stream against its diff ID.
This script builds one image (cached in ``bench/.cache/``), writes it as an OCI layout, an
OCI archive and a legacy ``docker save`` archive, optionally pushes it to a local plain-HTTP
``docker-registry``, and then times, alternating sources, N runs of::

    .venv/bin/hullscan inspect SOURCE --format json > /dev/null

under ``/usr/bin/time`` (wall time, peak RSS, user and system CPU). Two stdlib-only
baselines set the floor: ``tarfile`` streaming every gzip blob of the OCI layout, and
``tarfile`` streaming every uncompressed ``layer.tar`` of the docker archive (no digest or
diff-ID checks in either). ``hullscan --version`` times interpreter start-up and imports.

Run from the project root::

    .venv/bin/python bench/inspect_bench.py --runs 5

Results are printed and written as JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import statistics
import string
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import (  # also puts the project root on sys.path, for tests.support
    CACHE,
    HULLSCAN,
    MB,
    PYTHON,
    RESULTS,
    ROOT,
    Run,
    machine,
    require_gnu_time,
    timed,
)

if TYPE_CHECKING:
    from tests.support.image_builder import Entry, LayerSpec

REF = "bench"
TAG = "bench/image:1"
#: Bump when the image recipe changes, so the cached build is redone.
RECIPE = "inspect-bench-v1"
SEED = 20261127
#: Where the text layer goes. ``checks_bench.py`` also builds a variant with it under an
#: application path, where the secret scanner cannot skip it as package documentation.
DOCS_ROOT = "usr/share/doc/bench"

GZIP_BASELINE = "baseline: tarfile + gzip"
TAR_BASELINE = "baseline: tarfile"
STARTUP = "startup: hullscan --version"
#: The floor for gzip sources: stdlib tarfile streaming every gzip blob of the OCI layout.
GZIP_BASELINE_CODE = """
import sys, tarfile
files = 0
for blob in sys.argv[1:]:
    with tarfile.open(blob, "r|gz") as archive:
        for member in archive:
            files += 1
print(files)
"""
#: The floor for the docker-archive: stdlib tarfile streaming each uncompressed layer.tar.
TAR_BASELINE_CODE = """
import sys, tarfile
files = 0
with tarfile.open(sys.argv[1]) as outer:
    for layer in outer:
        if layer.name.endswith("/layer.tar"):
            with tarfile.open(fileobj=outer.extractfile(layer), mode="r|") as archive:
                for member in archive:
                    files += 1
print(files)
"""


@dataclass(frozen=True)
class BenchImage:
    """The written image in all its forms, and its sizes."""

    oci_dir: Path
    oci_archive: Path
    docker_archive: Path
    layer_blobs: list[str]
    """Paths of the gzip layer blobs of the OCI layout, base first."""
    compressed_bytes: int
    uncompressed_bytes: int
    files: int
    layers: list[dict[str, Any]]


# --------------------------------------------------------------------------- the image


def _text(rng: random.Random, vocabulary: list[str], size: int) -> bytes:
    """Deterministic prose-like text of ``size`` bytes (gzip: about 2.4:1)."""
    words = rng.choices(vocabulary, k=max(size // 6, 1))
    lines = (" ".join(words[i : i + 12]) for i in range(0, len(words), 12))
    return ("\n".join(lines) + "\n").encode()[:size]


def _binary(rng: random.Random, size: int) -> bytes:
    """Deterministic object-file-like bytes: random runs, zero padding, repeated tables.

    gzip gets about 1.6:1 out of it.
    """
    data = bytearray()
    while len(data) < size:
        data += rng.randbytes(rng.randint(256, 4096))
        data += bytes(rng.randint(64, 1024))
        data += rng.randbytes(16) * rng.randint(8, 64)
    return bytes(data[:size])


def _extra_layers(docs_root: str = DOCS_ROOT) -> list[LayerSpec]:
    """Two application layers: ~20 MB of text docs (under ``docs_root``) and ~10 MB of
    binary libraries."""
    from tests.support.image_builder import File, LayerSpec, Symlink

    rng = random.Random(SEED)
    letters = string.ascii_lowercase
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(2, 11))) for _ in range(4000)]
    docs = [File(f"{docs_root}/d{i % 60:02d}/page{i:04d}.txt",
                 _text(rng, vocabulary, rng.randint(1_000, 12_000))) for i in range(3000)]
    libs: list[Entry] = []
    for i in range(600):
        name = f"opt/bench/lib/m{i % 20:02d}/libbench{i:03d}.so"
        libs.append(File(f"{name}.1", _binary(rng, rng.randint(4_000, 30_000)), mode=0o755))
        libs.append(Symlink(name, f"libbench{i:03d}.so.1"))
    return [LayerSpec(docs, created_by=f"COPY docs /{docs_root}"),
            LayerSpec(libs, created_by="COPY lib /opt/bench/lib")]


def _tar_facts(data: bytes | Path) -> tuple[int, int]:
    """(size in bytes, member count) of an uncompressed tar, as a file or bytes."""
    if isinstance(data, Path):
        with tarfile.open(data, "r:") as archive:
            return data.stat().st_size, sum(1 for _ in archive)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return len(data), sum(1 for _ in archive)


def build_image(rebuild: bool = False, docs_root: str = DOCS_ROOT) -> BenchImage:
    """Build (or reuse from ``bench/.cache/``) the benchmark image in three formats.

    With another ``docs_root`` the image (otherwise the same bytes) is cached apart, in
    ``bench/.cache/image-<docs_root with / as ->``.
    """
    from tests.support.debian_base import debian_base
    from tests.support.image_builder import (
        ImageSpec,
        RawLayer,
        WrittenImage,
        layer_tar_bytes,
        tar_directory,
        write_docker_archive,
        write_oci_layout,
    )

    base = debian_base()
    if docs_root == DOCS_ROOT:  # the default image keeps its cache key and directory
        key, work = f"{RECIPE} {base.diff_id}", CACHE / "image"
    else:
        key = f"{RECIPE} docs={docs_root} {base.diff_id}"
        work = CACHE / f"image-{docs_root.strip('/').replace('/', '-')}"
    info_path = work / "info.json"
    if not rebuild and info_path.is_file():
        info = json.loads(info_path.read_text(encoding="utf-8"))
        if info.get("key") == key:
            return _image_from_info(work, info)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print("building the benchmark image in bench/.cache/ ...", file=sys.stderr)
    extra = _extra_layers(docs_root)
    spec = ImageSpec(
        layers=[RawLayer(base.layer_tar, created_by="debootstrap --variant=minbase bookworm"),
                *extra],
        cmd=["/bin/bash"], env=["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"])
    written = write_oci_layout(work / "oci", {REF: spec})[REF]
    assert isinstance(written, WrittenImage)
    # An oci-archive is a tar of the layout; tar it rather than compress every layer again.
    tar_directory(work / "oci", work / "image.oci.tar")
    write_docker_archive(work / "image.docker.tar", {TAG: spec}, style="legacy")
    tar_facts = [_tar_facts(base.layer_tar)] + [_tar_facts(layer_tar_bytes(layer))
                                                 for layer in extra]
    layers = [{"digest": layer.blob.digest, "compressed": layer.blob.size,
               "uncompressed": size, "files": count, "created_by": spec_layer.created_by}
              for layer, (size, count), spec_layer
              in zip(written.layers, tar_facts, spec.layers, strict=True)]
    info = {"key": key, "layers": layers}
    info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return _image_from_info(work, info)


def _image_from_info(work: Path, info: dict[str, Any]) -> BenchImage:
    layers = info["layers"]
    return BenchImage(
        oci_dir=work / "oci", oci_archive=work / "image.oci.tar",
        docker_archive=work / "image.docker.tar",
        layer_blobs=[str(work / "oci" / "blobs" / "sha256" / layer["digest"][7:])
                     for layer in layers],
        compressed_bytes=sum(layer["compressed"] for layer in layers),
        uncompressed_bytes=sum(layer["uncompressed"] for layer in layers),
        files=sum(layer["files"] for layer in layers), layers=layers)


# --------------------------------------------------------------------------- running


@contextlib.contextmanager
def registry_with_image(image: BenchImage) -> Iterator[str | None]:
    """Yield ``HOST/bench/image:1`` pushed to a fresh local registry (None: no docker-registry)."""
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        print("docker-registry or skopeo not installed: skipping the registry source",
              file=sys.stderr)
        yield None
        return
    from tests.support.registry_servers import skopeo_copy, start_registry

    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="registry-") as workdir:
        running = start_registry("plain", Path(workdir))
        try:
            server = running.server
            skopeo_copy(f"oci:{image.oci_dir}:{REF}", server.ref(TAG), dest_server=server,
                        extra_args=["--quiet"])
            yield f"{server.host}/{TAG}"
        finally:
            running.stop()


def commands(image: BenchImage, registry: str | None) -> dict[str, list[str]]:
    """The commands to time, by label."""
    inspect = [str(HULLSCAN), "inspect", "--format", "json"]
    found = {
        "oci-dir": [*inspect, f"oci-dir:{image.oci_dir}:{REF}"],
        "oci-archive": [*inspect, f"oci-archive:{image.oci_archive}:{REF}"],
        "docker-archive": [*inspect, f"docker-archive:{image.docker_archive}"],
    }
    if registry is not None:
        found["registry"] = [*inspect, f"registry:{registry}"]
    found[GZIP_BASELINE] = [str(PYTHON), "-c", GZIP_BASELINE_CODE, *image.layer_blobs]
    found[TAR_BASELINE] = [str(PYTHON), "-c", TAR_BASELINE_CODE, str(image.docker_archive)]
    found[STARTUP] = [str(HULLSCAN), "--version"]
    return found


def check_output(label: str, argv: list[str], image: BenchImage) -> None:
    """Run a command once untimed (warms caches) and check that it saw the whole image."""
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    if label == STARTUP:
        return
    if label.startswith("baseline"):
        seen, expected = int(out), image.files
    else:
        seen = sum(layer["uncompressed_size"] for layer in json.loads(out)["layers"])
        expected = image.uncompressed_bytes
    if seen != expected:
        raise SystemExit(f"{label}: saw {seen} (files or bytes), expected {expected}")


def profile(image: BenchImage, top: int) -> str:
    """cProfile one ``inspect`` of the OCI layout; return the top functions by own time."""
    argv = [str(PYTHON), "-m", "cProfile", "-s", "tottime", "-m", "hullscan", "inspect",
            "--format", "json", f"oci-dir:{image.oci_dir}:{REF}"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(lines[start - 3 : start + 1 + top])


# --------------------------------------------------------------------------- reporting


def summarise(runs: list[Run], image: BenchImage) -> dict[str, dict[str, float | None]]:
    """Median/min/max wall time, median RSS and CPU, throughput and ratio to the baseline.

    The docker-archive (uncompressed layers) is compared with the plain-tar baseline, every
    other source (gzip layers) with the tar+gzip one.
    """
    summary: dict[str, dict[str, float | None]] = {}
    medians: dict[str, float] = {}
    for source in dict.fromkeys(run.source for run in runs):
        mine = [run for run in runs if run.source == source]
        median = medians[source] = statistics.median(run.wall for run in mine)
        summary[source] = {
            "median_s": median, "min_s": min(run.wall for run in mine),
            "max_s": max(run.wall for run in mine),
            "rss_mib": statistics.median(run.rss_kb for run in mine) / 1024,
            "cpu_s": statistics.median(run.user + run.sys for run in mine),
            "mb_per_s": None if source == STARTUP else image.uncompressed_bytes / MB / median,
        }
    for source, figures in summary.items():
        floor = TAR_BASELINE if source in ("docker-archive", TAR_BASELINE) else GZIP_BASELINE
        figures["vs_baseline"] = None if source == STARTUP else medians[source] / medians[floor]
    return summary


def print_table(summary: dict[str, dict[str, float | None]], image: BenchImage,
                runs: int) -> None:
    """Print the figures as a Markdown table."""
    print(f"\nimage: {len(image.layers)} layers, {image.files} tar entries, "
          f"{image.compressed_bytes / MB:.1f} MB gzip-compressed, "
          f"{image.uncompressed_bytes / MB:.1f} MB uncompressed; "
          f"docker-archive {image.docker_archive.stat().st_size / MB:.1f} MB, "
          f"oci-archive {image.oci_archive.stat().st_size / MB:.1f} MB; {runs} runs each\n")
    print("| source | median s | min s | max s | MB/s (uncompr.) | peak RSS MiB | CPU s | "
          "× baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")

    def cell(value: float | None, digits: int) -> str:
        return "–" if value is None else f"{value:.{digits}f}"

    for source, f in summary.items():
        print(f"| {source} | {cell(f['median_s'], 2)} | {cell(f['min_s'], 2)} | "
              f"{cell(f['max_s'], 2)} | {cell(f['mb_per_s'], 0)} | {cell(f['rss_mib'], 0)} | "
              f"{cell(f['cpu_s'], 2)} | {cell(f['vs_baseline'], 2)} |")


def main() -> None:
    """Build, run, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per source (default 5)")
    parser.add_argument("--no-registry", action="store_true", help="skip the registry source")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached image")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="also cProfile one oci-dir run and print its top N functions")
    args = parser.parse_args()
    require_gnu_time()

    image = build_image(args.rebuild)
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    load_before = os.getloadavg()
    registry_cm = (contextlib.nullcontext(None) if args.no_registry
                   else registry_with_image(image))
    with registry_cm as registry:
        plan = commands(image, registry)
        for label, argv in plan.items():
            check_output(label, argv, image)
        runs: list[Run] = []
        for i in range(args.runs):
            for label, argv in plan.items():
                runs.append(timed(label, argv))
                print(f"run {i + 1}/{args.runs} {label}: {runs[-1].wall:.2f}s "
                      f"{runs[-1].rss_kb / 1024:.0f} MiB", file=sys.stderr)
    summary = summarise(runs, image)
    print_table(summary, image, args.runs)
    profiled = profile(image, args.profile) if args.profile else None
    if profiled:
        print(f"\ncProfile of one oci-dir inspect (top {args.profile} by own time):\n{profiled}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "started": started, "machine": machine(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "image": {k: v for k, v in asdict(image).items() if k != "layer_blobs"}
        | {"docker_archive_bytes": image.docker_archive.stat().st_size,
           "oci_archive_bytes": image.oci_archive.stat().st_size},
        "runs_per_source": args.runs, "summary": summary,
        "runs": [asdict(run) for run in runs], "profile": profiled,
    }
    out = RESULTS / f"inspect-{started.replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
