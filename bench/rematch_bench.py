"""Re-matching 1,000 stored inventories after a vulnerability database update.

Three real images are analysed once (``vulnerable:1`` and ``clean:1`` from
``tests.support.vulnerable_image``, and the ~150 MB Debian bookworm image of
``inspect_bench.py`` when its cache exists); their inventories are stored under N distinct
synthetic digests (round robin), each with an image name and first results computed against
database A (the shared feed data). Then database B (a build from a modified copy of the feed
files, see ``tests/service/test_rematch.py``) replaces it and :func:`rematch_all` is timed:
that is the figure. A ``vuln_update`` subscription for ``*`` makes every changed digest
queue a notification too (not delivered).

    .venv/bin/python bench/rematch_bench.py                      # 1,000 inventories, SQLite
    .venv/bin/python bench/rematch_bench.py --workers 2          # a process pool
    .venv/bin/python bench/rematch_bench.py --images debian      # only the Debian image
    .venv/bin/python bench/rematch_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/DB
    .venv/bin/python bench/rematch_bench.py --profile 20         # cProfile of a serial run

Writes ``bench/results/rematch-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import CACHE, RESULTS, machine  # noqa: E402
from tests.service.test_rematch import modified_feeds  # noqa: E402
from tests.support.build_steps import shared_vulndata  # noqa: E402
from tests.support.vulnerable_image import vulnerable_image  # noqa: E402

from hullscan.image.sources.interface import AcquireOptions  # noqa: E402
from hullscan.service.inventory import analyse_inventory, dumps  # noqa: E402
from hullscan.service.operations import Service  # noqa: E402
from hullscan.service.rematch import rematch_all  # noqa: E402
from hullscan.service.sealing import SecretBox  # noqa: E402
from hullscan.service.store.database import Store  # noqa: E402
from hullscan.service.store.models import (  # noqa: E402
    Analysis,
    AnalysisStatus,
    Image,
    Subscription,
    SubscriptionKind,
    WebhookDelivery,
)
from hullscan.vuln.db.build import build_database  # noqa: E402

DEBIAN_ARCHIVE = CACHE / "image" / "image.oci.tar"


def databases(work: Path) -> tuple[Path, Path]:
    """Database A (the shared data) and B (the modified copy), cached in bench/.cache."""
    folder = CACHE / "rematch"
    folder.mkdir(parents=True, exist_ok=True)
    first, second = folder / "a.db", folder / "b.db"
    if not first.is_file():
        build_database([shared_vulndata()], first)
    if not second.is_file():
        build_database([modified_feeds(shared_vulndata(), work / "feeds")], second)
    return first, second


def inventories() -> dict[str, bytes]:
    """Label -> stored inventory of each real image analysed once."""
    image = vulnerable_image()
    targets = {"vulnerable": image.target, "clean": image.clean_target}
    if DEBIAN_ARCHIVE.is_file():
        targets["debian"] = f"oci-archive:{DEBIAN_ARCHIVE}:bench"
    else:
        print(f"note: {DEBIAN_ARCHIVE} missing (run bench/inspect_bench.py once); "
              "using the two small images only", file=sys.stderr)
    return {label: dumps(analyse_inventory(target, AcquireOptions()))
            for label, target in targets.items()}


def populate(service: Service, blobs: dict[str, bytes], count: int) -> dict[str, int]:
    """``count`` analysed digests, round robin over the inventories; label -> how many."""
    labels = sorted(blobs)
    mix = dict.fromkeys(labels, 0)
    with service.store.session() as session:
        for n in range(count):
            label = labels[n % len(labels)]
            mix[label] += 1
            digest = "sha256:" + hashlib.sha256(f"bench-{n}".encode()).hexdigest()
            session.add(Analysis(digest=digest, reference=f"bench.example/team{n % 20}/"
                                 f"{label}{n}@{digest}", status=AnalysisStatus.ANALYSED,
                                 inventory=blobs[label], analysis_count=1))
            session.add(Image(registry_host="bench.example", repository=f"team{n % 20}/"
                              f"{label}{n}", tag="1", digest=digest))
        session.add(Subscription(kind=SubscriptionKind.VULN_UPDATE, target="*",
                                 webhook_url="http://127.0.0.1:9/never-delivered"))
    return mix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--images", default="",
                        help="comma-separated subset of vulnerable,clean,debian (default all)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="print the top N functions of a cProfile'd serial re-match")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rematch-bench-") as tmp:
        work = Path(tmp)
        first, second = databases(work)
        blobs = inventories()
        if args.images:
            blobs = {k: v for k, v in blobs.items() if k in args.images.split(",")}
        url = args.database_url or f"sqlite:///{work / 'service.db'}"
        store = Store(url)
        service = Service(store, first, SecretBox(SecretBox.generate_key()), work / "data")
        mix = populate(service, blobs, args.count)

        started = time.perf_counter()
        rematch_all(service, first, notify=False, workers=args.workers)
        initial = time.perf_counter() - started

        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        changes = rematch_all(service, second, workers=args.workers)
        if profiler is not None:
            profiler.disable()
        after_update = time.perf_counter() - started

        started = time.perf_counter()
        unchanged = rematch_all(service, second, workers=args.workers)
        again = time.perf_counter() - started
        with service.store.session() as session:
            queued = session.query(WebhookDelivery).count()
        store.close()

    result: dict[str, Any] = {
        "count": args.count, "workers": args.workers,
        "store": url.split(":", 1)[0] if args.database_url else "sqlite",
        "mix": mix, "inventory_bytes": {k: len(v) for k, v in blobs.items()},
        "first_match_seconds": round(initial, 2),
        "rematch_after_update_seconds": round(after_update, 2),
        "rematch_unchanged_seconds": round(again, 2),
        "changed_digests": len(changes), "unchanged_run_changes": len(unchanged),
        "notifications_queued": queued, "machine": machine(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"rematch-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("| inventories | mix | workers | store | first match | re-match after update | "
          "unchanged re-match | changed | notifications |")
    print("|---:|---|---:|---|---:|---:|---:|---:|---:|")
    print(f"| {args.count:,} | {', '.join(f'{k} {v}' for k, v in mix.items())} | "
          f"{args.workers} | {result['store']} | {initial:.1f} s | {after_update:.1f} s | "
          f"{again:.1f} s | {len(changes)} | {queued} |")
    print(f"wrote {out}")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
