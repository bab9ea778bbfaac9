#!/usr/bin/env python3
"""What secret scanning adds to ``hullscan scan``.

Runs ``hullscan scan IMAGE --scanners vuln,config,file`` and the same with ``secret`` added,
alternating, on the ~150 MB image of ``inspect_bench.py`` (docker-archive), on the same image
with its 20 MB text layer under an application path (``srv/app/docs``, where the secret
scanner reads it; under ``usr/share/doc`` it is skipped as package documentation) and on a
small image holding one 50 MB text file. The vulnerability database is built once from
``../shared/vulndata``. Prints medians and the ratio; writes ``bench/results/checks-*.json``.

``--cpu N`` also measures, in this process, the CPU time (``time.process_time``, best of N,
secret visitor on and off alternating) of the layer pass plus the checks on both 150 MB
images: steadier than wall time on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import time
from pathlib import Path

from common import CACHE, HULLSCAN, RESULTS, ROOT, Run, machine, require_gnu_time, timed
from inspect_bench import build_image

#: Where the variant image puts the text layer: an application's directory.
APP_DOCS_ROOT = "srv/app/docs"

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


def process_cpu(target: str, secret: bool) -> float:
    """CPU seconds of one in-process layer pass plus checks (``vuln`` matching excluded)."""
    from hullscan.catalog.run import analyse_image
    from hullscan.checks.finding import Category
    from hullscan.checks.run import CheckOptions, CheckRun
    from hullscan.image.acquire import open_image

    categories = {Category.CONFIG, Category.FILE} | ({Category.SECRET} if secret else set())
    started = time.process_time()
    checks = CheckRun(CheckOptions(frozenset(categories)))
    with open_image(target) as source:
        analysis = analyse_image(source, visitors=checks.visitors, keep=checks.keep)
        checks.findings(analysis)
    return time.process_time() - started


def cpu_added(targets: dict[str, str], runs: int) -> dict[str, dict[str, float]]:
    """Best-of-``runs`` in-process CPU time without and with the secret visitor."""
    out: dict[str, dict[str, float]] = {}
    for label, target in targets.items():
        best = {False: float("inf"), True: float("inf")}
        for index in range(runs):
            for secret in ((False, True) if index % 2 == 0 else (True, False)):
                best[secret] = min(best[secret], process_cpu(target, secret))
        out[label] = {"without_secret_cpu_s": best[False], "with_secret_cpu_s": best[True],
                      "added_cpu_s": best[True] - best[False],
                      "added": best[True] / best[False] - 1}
        print(f"{label}: in-process CPU without secret {best[False]:.2f} s, with "
              f"{best[True]:.2f} s (+{best[True] - best[False]:.2f} s, "
              f"+{out[label]['added']:.0%})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpu", type=int, metavar="N", default=0,
                        help="also measure in-process CPU time, best of N (150 MB images)")
    parser.add_argument("--only", metavar="TEXT",
                        help="only the images whose label contains TEXT")
    args = parser.parse_args()
    require_gnu_time()
    db = database()
    large_files = CACHE / "large-files.yaml"
    large_files.write_text("secrets:\n  max-file-size: 64MiB\n", encoding="utf-8")
    text = f"oci-dir:{text_image()}:text:1"
    app_docs = build_image(docs_root=APP_DOCS_ROOT).docker_archive
    images = {"150 MB image (docker-archive)": (f"docker-archive:{build_image().docker_archive}",
                                                []),
              f"150 MB image, text layer under {APP_DOCS_ROOT} (docker-archive)":
                  (f"docker-archive:{app_docs}", []),
              "50 MB text file, default 10 MiB file limit (skipped)": (text, []),
              "50 MB text file, secrets.max-file-size: 64MiB (scanned)":
                  (text, ["--config", str(large_files)])}
    if args.only:
        images = {label: image for label, image in images.items() if args.only in label}
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
        # user + system CPU of the whole process: less moved by other load than wall time.
        cpu = {s: statistics.median(r.user + r.sys for r in rs) for s, rs in runs.items()}
        results[label] = {
            "without_secret_s": medians[WITHOUT], "with_secret_s": medians[WITH],
            "added": medians[WITH] / medians[WITHOUT] - 1,
            "cpu_s": cpu, "added_cpu": cpu[WITH] / cpu[WITHOUT] - 1,
            "runs": {s: [r.wall for r in rs] for s, rs in runs.items()},
            "rss_mib": {s: max(r.rss_kb for r in rs) / 1024 for s, rs in runs.items()}}
        print(f"{label}: without secret {medians[WITHOUT]:.2f} s, with {medians[WITH]:.2f} s "
              f"(+{results[label]['added']:.0%}); CPU {cpu[WITHOUT]:.2f} s, "
              f"{cpu[WITH]:.2f} s (+{results[label]['added_cpu']:.0%})")
    cpu = cpu_added({label: target for label, (target, extra) in images.items()
                     if label.startswith("150 MB")}, args.cpu) if args.cpu else {}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"checks-{time.strftime('%Y-%m-%dT%H%M%S')}.json"
    out.write_text(json.dumps({"machine": machine(), "load_average": os.getloadavg(),
                               "results": results, "in_process_cpu": cpu}, indent=2))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
