#!/usr/bin/env python3
"""Cold against warm per-layer cache: ``hullscan scan`` of the ~150 MB image.

Builds (or reuses) the image of ``inspect_bench.py`` and the vulnerability database of
``checks_bench.py``, then times, N rounds each::

    hullscan scan IMAGE --db DB --format json --cache-dir DIR     # cold: DIR emptied first
    hullscan scan IMAGE --db DB --format json --cache-dir DIR     # warm: DIR filled
    hullscan scan IMAGE --db DB --format json --no-cache          # no cache at all

alternating the order per round, on the docker-archive and (with ``docker-registry`` and
``skopeo`` installed) a local plain-HTTP registry, where a warm scan fetches only the manifest
and the config. Checks that the warm output equals the cold one (policy time excepted).
Prints medians, peak RSS and the cache's size; writes ``bench/results/cache-*.json``.

Run from the project root::

    .venv/bin/python bench/cache_bench.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from checks_bench import database
from common import CACHE, HULLSCAN, RESULTS, ROOT, Run, machine, require_gnu_time, timed
from inspect_bench import REF, build_image, registry_with_image

COLD, WARM, NONE = "cold cache", "warm cache", "--no-cache"
_EVALUATED_AT = re.compile(r'"evaluated_at": "[^"]*"')


def _scan(target: str, db: Path, cache: Path | None) -> list[str]:
    where = ["--no-cache"] if cache is None else ["--cache-dir", str(cache)]
    return [str(HULLSCAN), "scan", target, "--db", str(db), "--format", "json", *where]


def _output(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{argv}: exit {done.returncode}\n{done.stderr}")
    return _EVALUATED_AT.sub("", done.stdout)


def measure(label: str, target: str, db: Path, runs: int) -> dict[str, object]:
    """``runs`` rounds of cold, warm and uncached scans of ``target``."""
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="layer-cache-") as directory:
        cache = Path(directory) / "layers"
        cold_out = _output(_scan(target, db, cache))
        if _output(_scan(target, db, cache)) != cold_out:
            raise SystemExit(f"{label}: the warm scan's output differs from the cold one")
        size = sum(p.stat().st_size for p in cache.glob("??/*.layer"))
        entries = len(list(cache.glob("??/*.layer")))
        timings: dict[str, list[Run]] = {COLD: [], WARM: [], NONE: []}
        for index in range(runs):
            order = (COLD, WARM, NONE) if index % 2 == 0 else (NONE, WARM, COLD)
            for kind in order:
                if kind == COLD:
                    shutil.rmtree(cache, ignore_errors=True)
                argv = _scan(target, db, None if kind == NONE else cache)
                timings[kind].append(timed(kind, argv))
    medians = {kind: statistics.median(r.wall for r in rs) for kind, rs in timings.items()}
    result: dict[str, object] = {
        "median_s": medians, "runs": {k: [r.wall for r in rs] for k, rs in timings.items()},
        "cpu_s": {k: statistics.median(r.user + r.sys for r in rs) for k, rs in timings.items()},
        "rss_mib": {k: max(r.rss_kb for r in rs) / 1024 for k, rs in timings.items()},
        "cache_entries": entries, "cache_bytes": size}
    print(f"{label}: no cache {medians[NONE]:.2f} s, cold {medians[COLD]:.2f} s, "
          f"warm {medians[WARM]:.2f} s ({medians[NONE] / medians[WARM]:.1f}x faster); "
          f"cache {entries} entries, {size / 1e6:.1f} MB")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-registry", action="store_true", help="skip the registry source")
    args = parser.parse_args()
    require_gnu_time()
    CACHE.mkdir(parents=True, exist_ok=True)
    db = database()
    image = build_image()
    results = {"150 MB image (docker-archive)": measure(
        "150 MB image (docker-archive)", f"docker-archive:{image.docker_archive}", db,
        args.runs)}
    results["150 MB image (oci-dir)"] = measure(
        "150 MB image (oci-dir)", f"oci-dir:{image.oci_dir}:{REF}", db, args.runs)
    if not args.no_registry:
        with registry_with_image(image) as registry:
            if registry is not None:
                results["150 MB image (registry)"] = measure(
                    "150 MB image (registry)", f"registry:{registry}", db, args.runs)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"cache-{time.strftime('%Y-%m-%dT%H%M%S')}.json"
    out.write_text(json.dumps({"machine": machine(), "load_average": os.getloadavg(),
                               "results": results}, indent=2))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
