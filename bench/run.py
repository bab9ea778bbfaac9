#!/usr/bin/env python3
"""hullscan against its peers (syft, trivy) on the reference images, in one go.

Builds (or reuses from ``bench/.cache/reference/``) the reference images of
``reference_images.py``, then runs every selected comparison ``--runs`` times, alternating
tools and rounds (the order of the tools is reversed every other round), each command under
GNU ``/usr/bin/time`` (wall, peak RSS, CPU). It prints medians, peak memory and the ratios
hullscan/peer, checks the targets of issue 9, and writes everything with the machine
description to ``bench/results/run-*.json``.

Reference images (``--images``, default ``debian-180,large-1g,text-50``):

* ``debian-180``: Debian bookworm minbase + python3 (Debian packages) + an npm app, ~182 MB,
  3 layers; every comparison below except ``secrets``;
* ``large-1g``: ~1.2 GB, 29 layers, 319,000 tar entries (302,000 regular files);
  ``sbom`` (without syft unless ``--syft-on-large``: about 4 minutes and 4 GB per run),
  ``packages``, ``full``, ``warm``;
* ``text-50``: one 50 MB text file; ``secrets``;
* ``old-150``: the ~150 MB image of ``inspect_bench.py`` (not by default).

Comparisons (``--only`` picks keys; it also runs them on images whose default set lacks them):

* ``sbom``: ``hullscan sbom docker-archive:X -o cyclonedx-json --no-cache`` vs
  ``syft docker-archive:X -o cyclonedx-json`` vs ``trivy image --input X --format cyclonedx``;
  ``sbom-oci``: the same from the OCI layout; ``sbom-registry``: the same pulled from a local
  plain-HTTP ``docker-registry`` started for the run (the image pushed with skopeo);
* ``packages``: ``hullscan scan --scanners '' --no-policy --no-cache`` vs
  ``trivy image --scanners '' --list-all-pkgs --format json``;
* ``full``: ``hullscan scan --scanners vuln,secret,config --no-cache --db DB`` (default
  policy) vs ``trivy image --scanners secret,misconfig`` (trivy has no vulnerability
  database offline);
* ``warm``: the same two with their caches warmed once before the rounds;
* ``secrets``: ``hullscan scan --scanners secret`` (``secrets.max-file-size: 64MiB``, so the
  50 MB file is read) vs ``trivy image --scanners secret``.

Every cold run gets an empty cache of the tool's own (trivy ``--cache-dir``, syft
``SYFT_CACHE_DIR`` and ``TMPDIR``; hullscan ``--no-cache``). Trivy runs offline
(``peers.TRIVY_OFFLINE``) and skips ``/usr/share/java`` (``peers.TRIVY_SKIP_JARS``).

Rows without a peer (``--only`` keys too): ``db-build`` (``hullscan db build`` from the
shared feed data, timed like the comparisons), ``match`` (packages matched per second,
in-process, the samples of ``vuln_bench.py``) and ``rematch`` (re-matching ``--rematch-count``
stored inventories after a database update, as ``rematch_bench.py`` does).

Run from the project root (``pip install -e '.[test,bench]'`` for syft and trivy)::

    .venv/bin/python bench/run.py --runs 3                      # everything, ~15 min quiet
    .venv/bin/python bench/run.py --runs 1 --images debian-180 --only sbom,full
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common import CACHE, HULLSCAN, MB, RESULTS, ROOT, Run, machine, require_gnu_time, timed
from peers import (
    TRIVY_SKIP_JARS,
    require_syft,
    trivy_binary,
    trivy_image,
    trivy_remote,
    version,
)
from reference_images import BUILDERS, DEFAULT_IMAGES, ReferenceImage, build

MIB = 1024  # /usr/bin/time reports KiB
KIB_PER_MB = MB / 1024

COMPARISONS = ("sbom", "sbom-oci", "sbom-registry", "packages", "full", "warm", "secrets")
ROWS = ("db-build", "match", "rematch")
#: The comparisons each image runs unless ``--only`` says otherwise.
DEFAULTS: dict[str, tuple[str, ...]] = {
    "debian-180": ("sbom", "sbom-oci", "sbom-registry", "packages", "full", "warm"),
    "large-1g": ("sbom", "packages", "full", "warm"),
    "text-50": ("secrets",),
    "old-150": ("sbom", "sbom-oci", "packages", "full", "warm"),
}
#: (image, tool) pairs left out unless asked for: syft needs minutes and GBs on 1 GB.
SLOW = {("large-1g", "syft")}


@dataclass
class Contender:
    """One command of a comparison."""

    tool: str
    argv: list[str]
    #: Emptied (and made again) before every timed run: a cold cache of the tool's own.
    fresh: Path | None = None
    env: dict[str, str] | None = None
    #: Exit codes that are results, not failures.
    accept: tuple[int, ...] = (0,)
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    def run(self) -> None:
        """Time one run; a failure is recorded and ends this contender's rounds."""
        if self.error is not None:
            return
        if self.fresh is not None:
            shutil.rmtree(self.fresh, ignore_errors=True)
            self.fresh.mkdir(parents=True)
        try:
            self.runs.append(timed(self.tool, self.argv, env=self.env, accept=self.accept))
        except SystemExit as failure:
            self.error = str(failure)[-2000:]
            print(f"FAILED {self.tool}: {self.error}", file=sys.stderr, flush=True)


@dataclass
class Comparison:
    """hullscan (the first contender) against its peers on the same work, on one image."""

    key: str
    image: str
    title: str
    contenders: list[Contender]
    #: Run once, untimed, before the rounds (fills the warm caches).
    warm_up: bool = False

    @property
    def label(self) -> str:
        return f"{self.image}/{self.key}" if self.image else self.key


@dataclass(frozen=True)
class Tools:
    """What the comparisons call, and where their scratch files go."""

    hullscan: str
    syft: Path
    trivy: Path
    db: Path
    scratch: Path
    large_files: Path
    registry: str | None
    """``HOST:PORT`` of the local registry, when one runs."""


def syft_env(workdir: Path, registry: bool = False) -> dict[str, str]:
    """syft offline (``tests.support.syft.syft_env``), its cache and temp dir in ``workdir``."""
    from tests.support.syft import syft_env as offline

    env: dict[str, str] = dict(offline(workdir))
    if registry:
        env["SYFT_REGISTRY_INSECURE_USE_HTTP"] = "true"
    return env


def image_comparisons(image: ReferenceImage, keys: list[str], tools: Tools,
                      slow: bool) -> list[Comparison]:
    """The comparisons ``keys`` on ``image``, with cache directories under the scratch dir."""
    hullscan, trivy = tools.hullscan, tools.trivy
    docker = f"docker-archive:{image.docker_archive}"
    full = ["--scanners", "vuln,secret,config", "--db", str(tools.db), "--format", "json"]
    packages = ["--scanners", "", "--no-policy", "--format", "json"]
    secrets = ["--scanners", "secret", "--no-policy", "--format", "json", "--config",
               str(tools.large_files)]
    scan = [hullscan, "scan", docker]

    def cold(name: str) -> Path:
        return tools.scratch / image.key / name

    def archive(name: str, *extra: str) -> Contender:
        return Contender("trivy", trivy_image(trivy, image.docker_archive, cold(name),
                                              *TRIVY_SKIP_JARS, *extra), fresh=cold(name))

    def syft(name: str, source: str, registry: bool = False) -> Contender:
        return Contender("syft", [str(tools.syft), "-q", source, "-o", "cyclonedx-json"],
                         fresh=cold(name), env=syft_env(cold(name), registry))

    made: dict[str, Callable[[], Comparison]] = {
        "sbom": lambda: Comparison("sbom", image.key, "SBOM (CycloneDX JSON) from a "
                                   "docker-archive, cold", [
            Contender("hullscan", [hullscan, "sbom", docker, "-o", "cyclonedx-json",
                                   "--no-cache"]),
            syft("syft-sbom", docker), archive("trivy-sbom", "--format", "cyclonedx")]),
        "sbom-oci": lambda: Comparison("sbom-oci", image.key, "SBOM (CycloneDX JSON) from an "
                                       "OCI layout, cold", [
            Contender("hullscan", [hullscan, "sbom", f"oci-dir:{image.oci_dir}:{image.ref}",
                                   "-o", "cyclonedx-json", "--no-cache"]),
            syft("syft-sbom-oci", f"oci-dir:{image.oci_dir}"),
            Contender("trivy", trivy_image(trivy, image.oci_dir, cold("trivy-sbom-oci"),
                                           *TRIVY_SKIP_JARS, "--format", "cyclonedx"),
                      fresh=cold("trivy-sbom-oci"))]),
        "sbom-registry": lambda: Comparison("sbom-registry", image.key, "SBOM (CycloneDX "
                                            "JSON) from a local plain-HTTP registry, cold", [
            Contender("hullscan", [hullscan, "sbom", f"registry:{tools.registry}/{image.tag}",
                                   "--insecure", "-o", "cyclonedx-json", "--no-cache"]),
            syft("syft-sbom-registry", f"registry:{tools.registry}/{image.tag}", True),
            Contender("trivy", trivy_remote(trivy, f"{tools.registry}/{image.tag}",
                                            cold("trivy-sbom-registry"), *TRIVY_SKIP_JARS,
                                            "--format", "cyclonedx"),
                      fresh=cold("trivy-sbom-registry"))]),
        "packages": lambda: Comparison("packages", image.key, "packages only "
                                       "(--scanners ''), cold", [
            Contender("hullscan", [*scan, *packages, "--no-cache"]),
            archive("trivy-pkg", "--scanners", "", "--list-all-pkgs", "--format", "json")]),
        "full": lambda: Comparison("full", image.key, "hullscan vuln,secret,config vs trivy "
                                   "secret,misconfig, cold", [
            Contender("hullscan", [*scan, *full, "--no-cache"], accept=(0, 1)),
            archive("trivy-full", "--scanners", "secret,misconfig", "--format", "json")]),
        "warm": lambda: Comparison("warm", image.key, "the same full scans, warm cache", [
            Contender("hullscan", [*scan, *full, "--cache-dir", str(cold("hullscan-warm"))],
                      accept=(0, 1)),
            Contender("trivy", trivy_image(trivy, image.docker_archive, cold("trivy-warm"),
                                           *TRIVY_SKIP_JARS, "--scanners", "secret,misconfig",
                                           "--format", "json"))], warm_up=True),
        "secrets": lambda: Comparison("secrets", image.key, "secrets only (hullscan "
                                      "max-file-size 64MiB), cold", [
            Contender("hullscan", [*scan, *secrets, "--no-cache"]),
            archive("trivy-secret", "--scanners", "secret", "--format", "json")]),
    }
    out = []
    for key in keys:
        comparison = made[key]()
        comparison.contenders = [c for c in comparison.contenders
                                 if slow or (image.key, c.tool) not in SLOW]
        out.append(comparison)
    return out


def db_build(tools: Tools) -> Comparison:
    """``hullscan db build`` from the shared feed data into an empty directory."""
    from tests.support.build_steps import shared_vulndata

    folder = tools.scratch / "db-build"
    return Comparison("db-build", "", "hullscan db build from the shared feed data", [
        Contender("hullscan", [tools.hullscan, "db", "build", "--from", str(shared_vulndata()),
                               "--db", str(folder / "vulnerability.db")], fresh=folder)])


def warm_up(comparison: Comparison) -> None:
    """Run each contender once, untimed, just before its first timed run: hullscan's cache
    key includes a digest of the analysers' source, so an edit to ``src/`` in between would
    make the "warm" runs cold."""
    for contender in comparison.contenders:
        try:
            timed(f"{contender.tool} (warm-up)", contender.argv, env=contender.env,
                  accept=contender.accept)
        except SystemExit as failure:
            contender.error = f"warm-up: {str(failure)[-2000:]}"


# --------------------------------------------------------------------------- registry


@contextmanager
def registry_with(images: list[ReferenceImage], workdir: Path) -> Iterator[str | None]:
    """``HOST:PORT`` of a fresh local plain-HTTP registry holding ``images`` (their ``tag``);
    None, with a note, when ``docker-registry`` or ``skopeo`` is missing."""
    if not images:
        yield None
        return
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        print("docker-registry or skopeo not installed: no registry comparisons",
              file=sys.stderr)
        yield None
        return
    from tests.support.registry_servers import run_skopeo, start_registry

    running = start_registry("plain", workdir)
    try:
        server = running.server
        for image in images:
            started = time.monotonic()
            run_skopeo(["copy", *server.skopeo_flags("dest"), "--quiet",
                        f"oci:{image.oci_dir}:{image.ref}", server.ref(image.tag)],
                       timeout=1800)
            print(f"pushed {image.key} to {server.host} ({time.monotonic() - started:.0f} s)",
                  file=sys.stderr, flush=True)
        yield server.host
    finally:
        running.stop()


# --------------------------------------------------------------------------- in-process rows


def match_row(db: Path, count: int, runs: int) -> dict[str, Any]:
    """Packages matched per second (``vuln_bench.py``'s samples), median of ``runs``."""
    import vuln_bench

    samples = {"each package at its latest fixed version": vuln_bench.latest_packages(db, count),
               "10% at affected versions": vuln_bench.sample_packages(db, count, 0.1)}
    out: dict[str, Any] = {}
    for label, packages in samples.items():
        timings = [vuln_bench.match_seconds(db, packages) for _ in range(runs)]
        median = statistics.median(t[0] for t in timings)
        out[label] = {"packages": len(packages), "findings": timings[0][1],
                      "median_s": median, "runs_s": [t[0] for t in timings],
                      "packages_per_second": len(packages) / median}
    return out


def rematch_row(count: int, runs: int, debian: ReferenceImage | None) -> dict[str, Any]:
    """Re-matching ``count`` stored inventories after a database update (``rematch_bench``):
    the test suite's vulnerable and clean images and, when built, ``debian-180``, round robin.
    Each run fills a fresh SQLite store; only :func:`rematch_all` is timed."""
    import rematch_bench as rb
    from tests.support.vulnerable_image import vulnerable_image

    from hullscan.image.sources.interface import AcquireOptions
    from hullscan.service.inventory import analyse_inventory, dumps
    from hullscan.service.operations import Service
    from hullscan.service.rematch import rematch_all
    from hullscan.service.sealing import SecretBox
    from hullscan.service.store.database import Store

    image = vulnerable_image()
    targets = {"vulnerable": image.target, "clean": image.clean_target}
    if debian is not None:
        targets["debian-180"] = f"oci-dir:{debian.oci_dir}:{debian.ref}"
    blobs = {label: dumps(analyse_inventory(target, AcquireOptions()))
             for label, target in targets.items()}
    seconds, changed, mix = [], 0, {}
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="rematch-") as tmp:
        first, second = rb.databases(Path(tmp))
        for run in range(runs):
            work = Path(tmp) / f"run-{run}"
            work.mkdir()
            store = Store(f"sqlite:///{work / 'service.db'}")
            service = Service(store, first, SecretBox(SecretBox.generate_key()), work / "data")
            mix = rb.populate(service, blobs, count)
            rematch_all(service, first, notify=False)
            started = time.perf_counter()
            changed = len(rematch_all(service, second))
            seconds.append(time.perf_counter() - started)
            store.close()
    median = statistics.median(seconds)
    return {"inventories": count, "mix": mix, "changed_digests": changed,
            "median_s": median, "runs_s": seconds, "inventories_per_second": count / median}


# --------------------------------------------------------------------------- results


def summary(comparison: Comparison) -> dict[str, Any]:
    """Medians, peak RSS and the ratios hullscan/peer of one comparison."""
    rows: dict[str, dict[str, Any]] = {}
    for contender in comparison.contenders:
        row: dict[str, Any] = {"argv": contender.argv}
        if contender.error is not None:
            row["error"] = contender.error
        if contender.runs:
            walls = [r.wall for r in contender.runs]
            row |= {"median_s": statistics.median(walls), "runs_s": walls,
                    "cpu_s": statistics.median(r.user + r.sys for r in contender.runs),
                    "peak_rss_mib": max(r.rss_kb for r in contender.runs) / MIB}
        rows[contender.tool] = row
    ours = rows.get("hullscan", {})
    for tool, row in rows.items():
        if tool != "hullscan" and "median_s" in row and "median_s" in ours:
            row["ratio_time"] = ours["median_s"] / row["median_s"]
            row["ratio_rss"] = ours["peak_rss_mib"] / row["peak_rss_mib"]
    return {"image": comparison.image, "key": comparison.key, "title": comparison.title,
            "tools": rows}


def print_summary(label: str, result: dict[str, Any]) -> None:
    print(f"\n{label}: {result['title']}")
    print(f"  {'tool':<9}{'median':>9}{'CPU':>9}{'peak RSS':>12}{'time ratio':>12}"
          f"{'RSS ratio':>11}")
    for tool, row in result["tools"].items():
        if "median_s" not in row:
            print(f"  {tool:<9} FAILED: {row.get('error', '?').splitlines()[0]}")
            continue
        ratios = (f"{row['ratio_time']:>11.2f}x{row['ratio_rss']:>10.2f}x"
                  if "ratio_time" in row else "")
        print(f"  {tool:<9}{row['median_s']:>8.2f}s{row['cpu_s']:>8.2f}s"
              f"{row['peak_rss_mib']:>8.0f} MiB{ratios}")


def targets(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 9's targets that this run measured (a target whose rows were not run is left
    out). Memory limits are in MB (10^6 bytes)."""
    def tool(label: str, name: str) -> dict[str, Any] | None:
        row = results.get(label, {}).get("tools", {}).get(name)
        return row if row is not None and "median_s" in row else None

    def ratio(label: str, peer: str, limit: float, metric: str = "median_s"
              ) -> tuple[float, float] | None:
        ours, theirs = tool(label, "hullscan"), tool(label, peer)
        if ours is None or theirs is None:
            return None
        return ours[metric] / theirs[metric], limit

    def warm() -> tuple[float, float] | None:
        ours = tool("debian-180/warm", "hullscan")
        return None if ours is None else (ours["median_s"], 0.5)

    def worst_rss_ratio(image: str) -> tuple[float, float] | None:
        found = [ours["peak_rss_mib"] / theirs["peak_rss_mib"]
                 for label, result in results.items() if result["image"] == image
                 for ours, theirs in [(tool(label, "hullscan"), tool(label, "trivy"))]
                 if ours is not None and theirs is not None]
        return (max(found), 1.0) if found else None

    def peak_mb(image: str) -> tuple[float, float] | None:
        found = [row["peak_rss_mib"] * MIB / KIB_PER_MB
                 for label, result in results.items() if result["image"] == image
                 for row in [tool(label, "hullscan")] if row is not None]
        return (max(found), 500.0) if found else None

    checks: list[tuple[str, str, Callable[[], tuple[float, float] | None]]] = [
        ("180 MB: SBOM docker-archive, cold", "<=", lambda: ratio("debian-180/sbom", "syft",
                                                                  0.5)),
        ("180 MB: SBOM docker-archive, cold, vs trivy", "<=",
         lambda: ratio("debian-180/sbom", "trivy", 1.5)),
        ("180 MB: full scan cold vs trivy secret,misconfig", "<=",
         lambda: ratio("debian-180/full", "trivy", 1.0)),
        ("180 MB: full scan warm, seconds", "<", warm),
        ("180 MB: peak memory vs trivy's (worst comparison)", "<=",
         lambda: worst_rss_ratio("debian-180")),
        ("1 GB: hullscan peak memory, MB (every run)", "<", lambda: peak_mb("large-1g")),
        ("1 GB: full scan cold vs trivy secret,misconfig", "<=",
         lambda: ratio("large-1g/full", "trivy", 2.0)),
        ("1 GB: packages only vs trivy", "<=", lambda: ratio("large-1g/packages", "trivy",
                                                             2.0)),
        ("1 GB: SBOM docker-archive vs trivy", "<=", lambda: ratio("large-1g/sbom", "trivy",
                                                                   2.0)),
    ]
    out: list[dict[str, Any]] = []
    for name, relation, check in checks:
        measured = check()
        if measured is None:
            continue
        value, limit = measured
        out.append({"target": name, "relation": relation, "value": value, "limit": limit,
                    "met": value <= limit if relation == "<=" else value < limit})
    return out


# --------------------------------------------------------------------------- main


def selection(args: argparse.Namespace) -> tuple[dict[str, list[str]], list[str]]:
    """Image -> comparison keys to run, and the peerless rows to run."""
    images = [key for key in args.images.split(",") if key]
    unknown = set(images) - set(BUILDERS)
    only = None if args.only is None else [key for key in args.only.split(",") if key]
    unknown |= set(only or ()) - set(COMPARISONS) - set(ROWS)
    if unknown:
        raise SystemExit(f"unknown: {', '.join(sorted(unknown))} (images: "
                         f"{', '.join(BUILDERS)}; keys: {', '.join(COMPARISONS + ROWS)})")
    plan = {image: [key for key in COMPARISONS
                    if (key in only if only is not None else key in DEFAULTS[image])]
            for image in images}
    rows = [key for key in ROWS if only is None or key in only]
    return {image: keys for image, keys in plan.items() if keys}, rows


def compile_hullscan() -> None:
    """Byte-compile hullscan's modules first, as installing a wheel does: an editable install
    run with ``PYTHONDONTWRITEBYTECODE`` set (as on this machine) would otherwise compile
    every imported module again on every run (0.2 s of a warm scan)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "hullscan")],
                   check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--only", help=f"comma-separated keys of {', '.join(COMPARISONS)}, "
                        f"{', '.join(ROWS)} (default: each image's own set, and every row)")
    parser.add_argument("--images", default=",".join(DEFAULT_IMAGES),
                        help=f"comma-separated, of {', '.join(BUILDERS)} (default "
                        f"{','.join(DEFAULT_IMAGES)})")
    parser.add_argument("--syft-on-large", action="store_true",
                        help="also run syft on large-1g (minutes and GBs per run)")
    parser.add_argument("--rematch-count", type=int, default=200,
                        help="stored inventories re-matched by the rematch row (default 200)")
    parser.add_argument("--match-packages", type=int, default=10_000,
                        help="packages per sample of the match row (default 10,000)")
    args = parser.parse_args()
    plan, rows = selection(args)
    require_gnu_time()
    compile_hullscan()
    from checks_bench import database

    trivy, syft = trivy_binary(), require_syft()
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.time()
    db = database()
    wanted = list(plan)
    if "rematch" in rows and "debian-180" not in wanted and "debian-180" in args.images:
        wanted.append("debian-180")
    images = build(wanted)
    build_s = time.time() - started
    load_before = os.getloadavg()
    loads: list[float] = []
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="run-") as directory:
        scratch = Path(directory)
        large_files = scratch / "large-files.yaml"
        large_files.write_text("secrets:\n  max-file-size: 64MiB\n", encoding="utf-8")
        pushed = [images[key] for key, keys in plan.items() if "sbom-registry" in keys]
        with registry_with(pushed, scratch / "registry") as registry:
            tools = Tools(str(HULLSCAN), syft, trivy, db, scratch, large_files, registry)
            todo = [c for key, keys in plan.items()
                    for c in image_comparisons(images[key], keys, tools, args.syft_on_large)
                    if c.key != "sbom-registry" or registry is not None]
            if "db-build" in rows:
                todo.append(db_build(tools))
            for index in range(args.runs):
                for comparison in todo:
                    if comparison.warm_up and index == 0:
                        warm_up(comparison)
                    order = (comparison.contenders if index % 2 == 0
                             else comparison.contenders[::-1])
                    for contender in order:
                        contender.run()
                    print(f"  {comparison.label}: " + ", ".join(
                        f"{c.tool} {c.runs[-1].wall:.1f}s" for c in comparison.contenders
                        if c.runs and c.error is None), file=sys.stderr, flush=True)
                loads.append(os.getloadavg()[0])
                print(f"round {index + 1}/{args.runs} done, load {loads[-1]:.2f}", flush=True)
        results = {c.label: summary(c) for c in todo}
        extra: dict[str, Any] = {}
        if "match" in rows:
            extra["match"] = match_row(db, args.match_packages, args.runs)
        if "rematch" in rows:
            extra["rematch"] = rematch_row(args.rematch_count, args.runs,
                                           images.get("debian-180"))
    for label, result in results.items():
        print_summary(label, result)
    for label, figures in extra.get("match", {}).items():
        print(f"\nmatch ({label}): {figures['packages']:,} packages in "
              f"{figures['median_s']:.2f} s, {figures['packages_per_second']:,.0f} packages/s")
    if "rematch" in extra:
        rematch = extra["rematch"]
        print(f"\nrematch: {rematch['inventories']:,} stored inventories re-matched after a "
              f"database update in {rematch['median_s']:.2f} s "
              f"({rematch['inventories_per_second']:.0f}/s, {rematch['changed_digests']} "
              f"changed)")
    checked = targets(results)
    print("\ntargets (issue 9):")
    for target in checked:
        print(f"  {'met   ' if target['met'] else 'MISSED'} {target['target']}: "
              f"{target['value']:.2f} ({target['relation']} {target['limit']})")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"run-{time.strftime('%Y-%m-%dT%H%M%S')}.json"
    out.write_text(json.dumps({
        "machine": machine(), "load_average_before": load_before,
        "load_average_after": os.getloadavg(), "load_1min_per_round": loads,
        "elapsed_s": time.time() - started, "build_and_setup_s": build_s, "runs": args.runs,
        "argv": sys.argv[1:],
        "versions": {"trivy": version([str(trivy), "--version"]),
                     "syft": version([str(syft), "version"]),
                     "hullscan": version([str(HULLSCAN), "--version"]) or "?"},
        "images": {key: image.facts() | {"layer_list": image.layers}
                   for key, image in images.items()},
        "results": results, "rows": extra, "targets": checked,
        "contenders": {c.label: [asdict(x) for x in c.contenders] for c in todo}},
        indent=2, default=str) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
