#!/usr/bin/env python3
"""Time ``hullscan sbom`` against ``syft scan`` on the same images, and compare what they find.

For each image both tools write a CycloneDX JSON SBOM::

    .venv/bin/hullscan sbom SOURCE -o cyclonedx-json > FILE
    .venv/bin/syft scan SOURCE -o cyclonedx-json -q > FILE

syft runs offline, with the environment of ``tests.support.syft.syft_env`` (no update check,
no remote license or POM lookups) and a fresh cache and ``TMPDIR`` for every run. Each
command runs once untimed (page cache, and the package counts), then the two tools take turns,
N rounds, each run under ``/usr/bin/time`` (wall time, peak RSS, user and system CPU). The
tool that goes first swaps every round.

Images:

* ``catalog``: ``tests.support.catalog_image`` (Debian base, Python venv, node_modules,
  Debian jars, a Go binary), as a ``docker-archive:`` and as an ``oci-dir:``
* ``bench``: the ~150 MB image of ``inspect_bench.py`` (Debian base plus ~30 MB of files
  without packages), as a ``docker-archive:``

Every SBOM's component purls are counted per purl type, so a faster tool is not faster just
because it found less. Run from the project root::

    .venv/bin/python bench/sbom_bench.py --runs 5
    .venv/bin/python bench/sbom_bench.py --runs 5 --profile 25   # + cProfile of one run

Results are printed and written as JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
from inspect_bench import build_image as build_bench_image

TOOLS = ("hullscan", "syft")
NO_PURL = "(no purl)"


@dataclass(frozen=True)
class Target:
    """One image in one source form, as each tool spells it."""

    label: str
    hullscan: str
    syft: str
    bytes_on_disk: int
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Counts:
    """What one CycloneDX SBOM lists."""

    components: int
    """Every component, nested ones included."""
    by_type: dict[str, int]
    """Components per purl type (those without a purl under ``(no purl)``)."""
    keys: dict[str, list[str]]
    """Distinct ``name@version`` per purl type (the identity the test suite compares by)."""


# --------------------------------------------------------------------------- the images


def _tree_bytes(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def targets() -> list[Target]:
    """Build (or reuse) both images and return the sources to time."""
    from tests.support.catalog_image import catalog_image

    catalog = catalog_image()
    bench = build_bench_image()
    notes = {"layers": catalog.facts.layer_count, "ref": catalog.ref}
    return [
        Target("catalog docker-archive", f"docker-archive:{catalog.docker_archive}",
               f"docker-archive:{catalog.docker_archive}",
               catalog.docker_archive.stat().st_size, notes),
        Target("catalog oci-dir", f"oci-dir:{catalog.layout}:{catalog.ref}",
               f"oci-dir:{catalog.layout}", _tree_bytes(catalog.layout), notes),
        Target("bench docker-archive", f"docker-archive:{bench.docker_archive}",
               f"docker-archive:{bench.docker_archive}", bench.docker_archive.stat().st_size,
               {"layers": len(bench.layers), "files": bench.files,
                "uncompressed_bytes": bench.uncompressed_bytes}),
    ]


# --------------------------------------------------------------------------- the SBOMs


def _components(items: Any) -> Iterator[dict[str, Any]]:
    for item in items or ():
        if isinstance(item, dict):
            yield item
            yield from _components(item.get("components"))


def count_sbom(path: Path) -> Counts:
    """Count a CycloneDX JSON document's components per purl type."""
    from tests.support.syft import parse_purl

    doc = json.loads(path.read_text(encoding="utf-8"))
    by_type: Counter[str] = Counter()
    keys: dict[str, set[str]] = {}
    components = list(_components(doc.get("components")))
    for component in components:
        if not component.get("purl"):
            by_type[NO_PURL] += 1
            continue
        purl = parse_purl(component["purl"])
        by_type[purl.type] += 1
        keys.setdefault(purl.type, set()).add(f"{purl.full_name}@{purl.version or ''}")
    return Counts(len(components), dict(sorted(by_type.items())),
                  {kind: sorted(found) for kind, found in sorted(keys.items())})


# --------------------------------------------------------------------------- running


def run_tool(tool: str, target: Target, out: Path) -> Run:
    """Time one SBOM of ``target`` by ``tool``, written to ``out``."""
    from tests.support.syft import syft_binary, syft_env

    with out.open("w", encoding="utf-8") as sink:
        if tool == "hullscan":
            return timed(tool, [str(HULLSCAN), "sbom", target.hullscan, "-o", "cyclonedx-json"],
                         stdout=sink)
        with tempfile.TemporaryDirectory(dir=CACHE, prefix="syft-") as scratch:
            return timed(tool, [str(syft_binary()), "scan", target.syft, "-o", "cyclonedx-json",
                                "-q"], env=syft_env(Path(scratch)), stdout=sink)


def versions() -> dict[str, str]:
    """hullscan's and syft's versions."""
    from tests.support.syft import syft_binary

    hullscan = subprocess.run([str(HULLSCAN), "--version"], capture_output=True, text=True,
                              check=True).stdout.strip()
    syft = subprocess.run([str(syft_binary()), "version"], capture_output=True, text=True,
                          check=True, env=os.environ | {"SYFT_CHECK_FOR_APP_UPDATE": "false"})
    found = dict(line.split(":", 1) for line in syft.stdout.splitlines() if ":" in line)
    return {"hullscan": hullscan, "syft": found.get("Version", "?").strip()}


def profile(target: Target, top: int) -> dict[str, str]:
    """cProfile one ``hullscan sbom`` of ``target``; top ``top`` functions by cumtime/tottime."""
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="profile-") as scratch:
        stats_file = Path(scratch) / "sbom.prof"
        subprocess.run([str(PYTHON), "-m", "cProfile", "-o", str(stats_file), "-m", "hullscan",
                        "sbom", target.hullscan, "-o", "cyclonedx-json"],
                       stdout=subprocess.DEVNULL, check=True)
        result = {}
        for order in ("cumulative", "tottime"):
            text = _stats_text(stats_file, order, top)
            lines = text.splitlines()
            start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
            result[order] = "\n".join(lines[start - 3 : start + 1 + top])
    return result


def _stats_text(stats_file: Path, order: str, top: int) -> str:
    import io

    buffer = io.StringIO()
    stats = pstats.Stats(str(stats_file), stream=buffer)
    stats.strip_dirs().sort_stats(order).print_stats(top)
    return buffer.getvalue()


# --------------------------------------------------------------------------- reporting


def summarise(runs: list[Run]) -> dict[str, dict[str, float]]:
    """Median/min/max wall time, median peak RSS and CPU per tool; hullscan/syft of the medians."""
    summary: dict[str, dict[str, float]] = {}
    for tool in TOOLS:
        mine = [run for run in runs if run.source == tool]
        summary[tool] = {
            "median_s": statistics.median(run.wall for run in mine),
            "min_s": min(run.wall for run in mine), "max_s": max(run.wall for run in mine),
            "rss_mib": statistics.median(run.rss_kb for run in mine) / 1024,
            "cpu_s": statistics.median(run.user + run.sys for run in mine),
        }
    ours, theirs = summary["hullscan"], summary["syft"]
    summary["ratio"] = {key: ours[key] / theirs[key] for key in ("median_s", "rss_mib", "cpu_s")}
    return summary


def compare_counts(counts: dict[str, Counts]) -> list[dict[str, Any]]:
    """Per purl type: components and distinct name@version of both tools, and the difference."""
    ours, theirs = counts["hullscan"], counts["syft"]
    rows = []
    for kind in sorted(set(ours.by_type) | set(theirs.by_type)):
        mine, other = set(ours.keys.get(kind, ())), set(theirs.keys.get(kind, ()))
        rows.append({
            "type": kind,
            "hullscan": ours.by_type.get(kind, 0), "syft": theirs.by_type.get(kind, 0),
            "hullscan_distinct": len(mine), "syft_distinct": len(other),
            "only_hullscan": sorted(mine - other), "only_syft": sorted(other - mine),
        })
    return rows


def print_tables(target: Target, summary: dict[str, dict[str, float]],
                 rows: list[dict[str, Any]], runs: int) -> None:
    """Print one image's figures as two Markdown tables."""
    print(f"\n### {target.label} ({target.bytes_on_disk / MB:.1f} MB on disk; {runs} runs each)"
          "\n")
    print("| tool | median s | min s | max s | peak RSS MiB | CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for tool in TOOLS:
        f = summary[tool]
        print(f"| {tool} | {f['median_s']:.2f} | {f['min_s']:.2f} | {f['max_s']:.2f} | "
              f"{f['rss_mib']:.0f} | {f['cpu_s']:.2f} |")
    r = summary["ratio"]
    print(f"| **hullscan / syft** | **{r['median_s']:.2f}** | – | – | **{r['rss_mib']:.2f}** | "
          f"{r['cpu_s']:.2f} |")
    print("\n| purl type | hullscan | syft | only in hullscan | only in syft |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['type']} | {row['hullscan']} | {row['syft']} | "
              f"{len(row['only_hullscan'])} | {len(row['only_syft'])} |")
    print(f"| **total** | {sum(row['hullscan'] for row in rows)} | "
          f"{sum(row['syft'] for row in rows)} | "
          f"{sum(len(row['only_hullscan']) for row in rows)} | "
          f"{sum(len(row['only_syft']) for row in rows)} |")
    for row in rows:
        for tool in TOOLS:
            if row[f"only_{tool}"]:
                print(f"- {row['type']}, only {tool}: {', '.join(row[f'only_{tool}'][:8])}"
                      + (" ..." if len(row[f"only_{tool}"]) > 8 else ""))


def main() -> None:
    """Build, run, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool and image "
                        "(default 5)")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="also cProfile one hullscan sbom of the catalog docker-archive and "
                             "print its top N functions (by cumulative and by own time)")
    args = parser.parse_args()
    require_gnu_time()

    plan = targets()
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    load_before = os.getloadavg()
    CACHE.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[Run]] = {target.label: [] for target in plan}
    counts: dict[str, dict[str, Counts]] = {target.label: {} for target in plan}
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="sbom-") as scratch:
        for target in plan:  # untimed: warms the page cache, gives the package counts
            for tool in TOOLS:
                out = Path(scratch) / f"{tool}.json"
                run_tool(tool, target, out)
                counts[target.label][tool] = count_sbom(out)
        for i in range(args.runs):
            order = TOOLS if i % 2 == 0 else TOOLS[::-1]
            for target in plan:
                for tool in order:
                    out = Path(scratch) / f"{tool}.json"
                    run = run_tool(tool, target, out)
                    if count_sbom(out).by_type != counts[target.label][tool].by_type:
                        raise SystemExit(f"{target.label}: {tool} found different packages in "
                                         f"run {i + 1} than in the untimed run")
                    runs[target.label].append(run)
                    print(f"run {i + 1}/{args.runs} {target.label} {tool}: {run.wall:.2f}s "
                          f"{run.rss_kb / 1024:.0f} MiB", file=sys.stderr)
    load_after = os.getloadavg()

    results: dict[str, Any] = {}
    for target in plan:
        summary = summarise(runs[target.label])
        rows = compare_counts(counts[target.label])
        print_tables(target, summary, rows, args.runs)
        results[target.label] = {
            "hullscan_source": target.hullscan, "syft_source": target.syft,
            "bytes_on_disk": target.bytes_on_disk, "image": target.notes,
            "summary": summary, "packages": rows,
            "components": {tool: counts[target.label][tool].components for tool in TOOLS},
            "runs": [asdict(run) for run in runs[target.label]],
        }
    profiled = profile(plan[0], args.profile) if args.profile else None
    if profiled:
        for order, text in profiled.items():
            print(f"\ncProfile of one hullscan sbom of {plan[0].label} "
                  f"(top {args.profile} by {order}):\n{text}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "started": started, "machine": machine() | versions(),
        "load_average_before": load_before, "load_average_after": load_after,
        "runs_per_tool": args.runs, "images": results, "profile": profiled,
    }
    out = RESULTS / f"sbom-{started.replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
