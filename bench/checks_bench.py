#!/usr/bin/env python3
"""What secret scanning adds to ``hullscan scan``.

Runs ``hullscan scan IMAGE --scanners vuln,config,file`` and the same with ``secret`` added,
alternating, on the ~150 MB image of ``inspect_bench.py`` (docker-archive) and on a small
image holding one 50 MB text file. The vulnerability database is built once from
``../shared/vulndata``. Prints medians and the ratio; writes ``bench/results/checks-*.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import time
from pathlib import Path

from common import CACHE, HULLSCAN, RESULTS, ROOT, Run, machine, require_gnu_time, timed
from inspect_bench import build_image

VULNDATA = ROOT.parent / "shared" / "vulndata"
WITHOUT = "vuln,config,file"
WITH = "vuln,config,file,secret"


def text_image() -> Path:
    """An OCI layout with one 50 MB text file of dictionary-like words (cached)."""
    from tests.support.image_builder import File, ImageSpec, LayerSpec, write_oci_layout

    layout = CACHE / "text-image"
    if (layout / "index.json").is_file():
        return layout
    rng = random.Random(20261127)
    words = ["config", "value", "service", "request", "timeout", "token_count", "user", "path",
             "secretary", "password_policy", "key", "access", "lorem", "ipsum", "42", "=", ":"]
    lines = []
    size = 0
    while size < 50_000_000:
        line = " ".join(rng.choice(words) for _ in range(12)) + "\n"
        lines.append(line)
        size += len(line)
    spec = ImageSpec(layers=[LayerSpec([File("/var/log/app/big.log", "".join(lines).encode())],
                                       created_by="COPY big.log /var/log/app/")])
    write_oci_layout(layout, {"text:1": spec})
    return layout


def database() -> Path:
    """The vulnerability database, built once."""
    db = CACHE / "vulnerability.db"
    if not db.is_file():
        subprocess.run([str(HULLSCAN), "db", "build", "--from", str(VULNDATA), "--db", str(db)],
                       check=True, capture_output=True)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    require_gnu_time()
    db = database()
    large_files = CACHE / "large-files.yaml"
    large_files.write_text("secrets:\n  max-file-size: 64MiB\n", encoding="utf-8")
    text = f"oci-dir:{text_image()}:text:1"
    images = {"150 MB image (docker-archive)": (f"docker-archive:{build_image().docker_archive}",
                                                []),
              "50 MB text file, default 10 MiB file limit (skipped)": (text, []),
              "50 MB text file, secrets.max-file-size: 64MiB (scanned)":
                  (text, ["--config", str(large_files)])}
    results: dict[str, dict[str, object]] = {}
    for label, (target, extra) in images.items():
        runs: dict[str, list[Run]] = {WITHOUT: [], WITH: []}
        for index in range(args.runs):
            order = (WITHOUT, WITH) if index % 2 == 0 else (WITH, WITHOUT)
            for scanners in order:
                runs[scanners].append(timed(scanners, [str(HULLSCAN), "scan", target, "--db",
                                                       str(db), "--scanners", scanners,
                                                       "--format", "json", *extra]))
        medians = {s: statistics.median(r.wall for r in rs) for s, rs in runs.items()}
        results[label] = {
            "without_secret_s": medians[WITHOUT], "with_secret_s": medians[WITH],
            "added": medians[WITH] / medians[WITHOUT] - 1,
            "runs": {s: [r.wall for r in rs] for s, rs in runs.items()},
            "rss_mib": {s: max(r.rss_kb for r in rs) / 1024 for s, rs in runs.items()}}
        print(f"{label}: without secret {medians[WITHOUT]:.2f} s, with {medians[WITH]:.2f} s "
              f"(+{results[label]['added']:.0%})")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"checks-{time.strftime('%Y-%m-%dT%H%M%S')}.json"
    out.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
