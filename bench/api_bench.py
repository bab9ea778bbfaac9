"""API latency of image listing with 1,000 stored images.

A store (SQLite file; also PostgreSQL when 127.0.0.1:5432 answers: a fresh database, dropped
afterwards) gets N images: an ``Image`` name, an analysed ``Analysis`` with a real inventory,
an ``ImageResult`` and its ``VulnerabilityIndex`` rows. The inventories are those of
``rematch_bench.py`` (``vulnerable:1``, ``clean:1`` and the Debian image of
``inspect_bench.py`` when cached), round robin; each one's results are computed once against
database A of ``rematch_bench.py``, under a bundle that STOPs on high vulnerabilities, and
copied to its other digests (the rows ``refresh_results`` would write). Image names: 60
repositories ``teamT/LABEL`` (T = n mod 20), tag ``n``, so a repository holds about 17 tags.

The server is ``hullscan serve`` in its own process (uvicorn, in-process pool idle, no
scheduler), with a read token. The client (httpx, keep-alive) sends each kind of request
sequentially, then from C concurrent clients (threads, one connection each), and times
every request:

    .venv/bin/python bench/api_bench.py                        # SQLite, and PostgreSQL if up
    .venv/bin/python bench/api_bench.py --stores sqlite --requests 100
    .venv/bin/python bench/api_bench.py --images vulnerable,clean --clients 10

Writes ``bench/results/api-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from bench.common import HULLSCAN, RESULTS, machine  # noqa: E402
from bench.rematch_bench import databases, inventories  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from hullscan.service.operations import Service  # noqa: E402
from hullscan.service.sealing import SecretBox  # noqa: E402
from hullscan.service.store.database import Store  # noqa: E402
from hullscan.service.store.models import (  # noqa: E402
    Analysis,
    AnalysisStatus,
    Image,
    ImageResult,
    PolicyBundle,
    VulnerabilityIndex,
)
from hullscan.service.tokens import Scope, create_token  # noqa: E402
from hullscan.vuln.db.store import VulnerabilityDatabase  # noqa: E402

POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
TEAMS = 20
WARMUP = 10
BUNDLE = """\
version: "1"
id: api-bench
name: STOP on high vulnerabilities
policies:
  - id: bench
    name: Bench
    rules:
      - id: high
        gate: vulnerabilities
        trigger: package
        params: {severity_comparison: ">=", severity: high}
        action: STOP
"""
"""Active while results are computed, so that ``final_action=STOP`` selects the vulnerable
image's digests (the default bundle only WARNs on them)."""


def populate(service: Service, blobs: dict[str, bytes], count: int, database_path: Path
             ) -> dict[str, int]:
    """``count`` analysed images with results, round robin over the inventories."""
    labels = sorted(blobs)
    mix = dict.fromkeys(labels, 0)
    by_label: dict[str, list[str]] = {label: [] for label in labels}
    with service.store.session() as session:
        session.add(PolicyBundle(id="api-bench", document=BUNDLE, active=True))
        for n in range(count):
            label = labels[n % len(labels)]
            mix[label] += 1
            digest = "sha256:" + hashlib.sha256(f"api-bench-{n}".encode()).hexdigest()
            by_label[label].append(digest)
            repository = f"team{n % TEAMS}/{label}"
            session.add(Analysis(digest=digest, reference=f"bench.example/{repository}@{digest}",
                                 status=AnalysisStatus.ANALYSED, inventory=blobs[label],
                                 analysis_count=1))
            session.flush()  # the image's foreign key needs the analysis row first
            session.add(Image(registry_host="bench.example", repository=repository,
                              tag=str(n), digest=digest))
    with VulnerabilityDatabase.open(database_path) as database:
        for digests in by_label.values():
            service.refresh_results(digests[0], database)
            _copy_results(service, digests[0], digests[1:])
    return mix


def _copy_results(service: Service, template: str, digests: list[str]) -> None:
    """Give ``digests`` the stored results of ``template`` (bulk inserts)."""
    with service.store.session() as session:
        result = session.get(ImageResult, template)
        assert result is not None
        fields = {name: getattr(result, name) for name in (
            "vulnerabilities", "final_action", "policy_id", "database_built_at", "evaluation",
            "updated_at")}
        index = [{"vulnerability_id": row.vulnerability_id, "package": row.package,
                  "version": row.version, "severity": row.severity,
                  "fix_versions": row.fix_versions}
                 for row in session.scalars(select(VulnerabilityIndex).where(
                     VulnerabilityIndex.digest == template))]
        if not digests:
            return
        session.execute(insert(ImageResult), [{"digest": d, **fields} for d in digests])
        if index:
            session.execute(insert(VulnerabilityIndex),
                            [{"digest": d, **row} for d in digests for row in index])


def common_vulnerability(service: Service) -> tuple[str, int]:
    """The vulnerability id naming the most images, and how many."""
    with service.store.session() as session:
        row = session.execute(
            select(VulnerabilityIndex.vulnerability_id, func.count())
            .join(Image, Image.digest == VulnerabilityIndex.digest)
            .group_by(VulnerabilityIndex.vulnerability_id)
            .order_by(func.count().desc(), VulnerabilityIndex.vulnerability_id)).first()
    assert row is not None, "no stored vulnerabilities: is database A empty?"
    return row[0], row[1]


@contextmanager
def store_url(kind: str, work: Path) -> Iterator[str]:
    """A fresh SQLite file or PostgreSQL database; the database is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{work / 'service.db'}"
        return
    import psycopg

    name = f"hullscan_api_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(url: str, database_path: Path, data_dir: Path, key: str) -> Iterator[str]:
    """``hullscan serve`` in its own process; yields its base URL."""
    with serve_process(url, database_path, data_dir, key) as (base, _process):
        yield base


@contextmanager
def serve_process(url: str, database_path: Path, data_dir: Path, key: str, *,
                  workers: int = 1, extra: tuple[str, ...] = (), log: IO[bytes] | None = None
                  ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``hullscan serve`` (no scheduler) once it answers ``/health``: its URL and process."""
    port = free_port()
    process = subprocess.Popen(
        [str(HULLSCAN), "serve", "--database-url", url, "--db", str(database_path),
         "--data-dir", str(data_dir), "--port", str(port), "--workers", str(workers),
         "--no-scheduler", *extra],
        env={**os.environ, "HULLSCAN_SECRET_KEY": key},
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"hullscan serve exited with {process.returncode}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("hullscan serve did not start within 60 s")
            time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (seconds)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


def summary(latencies: list[float], wall: float, sizes: list[int]) -> dict[str, Any]:
    """Latency percentiles in milliseconds and requests per second of wall time."""
    return {"requests": len(latencies),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
            "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
            "max_ms": round(max(latencies) * 1000, 2),
            "per_second": round(len(latencies) / wall, 1),
            "response_bytes": round(statistics.fmean(sizes))}


def measure(base: str, token: str, paths: Callable[[int], str], requests: int,
            clients: int) -> dict[str, Any]:
    """``requests`` GETs split over ``clients`` threads, each with its own connection;
    every response must be 200."""
    latencies: list[float] = []
    sizes: list[int] = []
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}

    def client(offset: int, count: int) -> None:
        mine: list[float] = []
        got: list[int] = []
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            for n in range(WARMUP):
                http.get(paths(n)).raise_for_status()
            barrier.wait()
            for n in range(offset, offset + count):
                started = time.perf_counter()
                response = http.get(paths(n))
                mine.append(time.perf_counter() - started)
                response.raise_for_status()
                got.append(len(response.content))
        with lock:
            latencies.extend(mine)
            sizes.extend(got)

    share = requests // clients
    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=client, args=(i * share, share)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if len(latencies) != share * clients:
        raise SystemExit("a client failed (see the traceback above)")
    return summary(latencies, wall, sizes)


def scenarios(count: int, vulnerability: str) -> dict[str, Callable[[int], str]]:
    """Label -> the path of request ``n``."""
    pages = max(1, count // 100)
    return {
        "health (no auth, no query)": lambda n: "/health",
        "list ?limit=100": lambda n: f"/v1/images?limit=100&offset={(n % pages) * 100}",
        "list ?repository=R": lambda n: f"/v1/images?limit=100&repository=team{n % TEAMS}/"
                                        "vulnerable",
        "list ?final_action=STOP": lambda n: "/v1/images?limit=100&final_action=STOP",
        "get /v1/images/{id}": lambda n: f"/v1/images/{1 + (n * 37) % count}",
        f"vulnerability {vulnerability}": lambda n: f"/v1/vulnerabilities/{vulnerability}/images",
    }


def bench_store(kind: str, args: argparse.Namespace, blobs: dict[str, bytes],
                database_path: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp, \
            store_url(kind, Path(tmp)) as url:
        work = Path(tmp)
        key = SecretBox.generate_key()
        store = Store(url)
        service = Service(store, database_path, SecretBox(key), work / "data")
        started = time.perf_counter()
        mix = populate(service, blobs, args.count, database_path)
        populated = time.perf_counter() - started
        vulnerability, affected = common_vulnerability(service)
        token = create_token(store, "api-bench", [Scope.READ]).secret
        with service.store.session() as session:
            stop = session.scalar(select(func.count()).select_from(ImageResult)
                                  .where(ImageResult.final_action == "STOP"))
        store.close()
        figures: dict[str, Any] = {}
        with server(url, database_path, work / "data", key) as base:
            for label, paths in scenarios(args.count, vulnerability).items():
                figures[label] = {
                    "sequential": measure(base, token, paths, args.requests, 1),
                    f"{args.clients} clients": measure(base, token, paths,
                                                       args.requests * 2, args.clients)}
                print(f"{kind} {label}: {figures[label]}", file=sys.stderr)
    return {"store": kind, "mix": mix, "populate_seconds": round(populated, 1),
            "vulnerability": vulnerability, "vulnerability_images": affected,
            "stop_images": stop, "scenarios": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="stored images")
    parser.add_argument("--requests", type=int, default=200,
                        help="timed sequential requests per scenario (twice that concurrent)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients")
    parser.add_argument("--images", default="",
                        help="comma-separated subset of vulnerable,clean,debian (default all)")
    parser.add_argument("--stores", default="",
                        help="sqlite,postgresql (default: SQLite, and PostgreSQL if it answers)")
    args = parser.parse_args()
    stores = args.stores.split(",") if args.stores else (
        ["sqlite", "postgresql"] if postgres_answers() else ["sqlite"])

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="api-bench-db-") as tmp:
        first, _second = databases(Path(tmp))
    blobs = inventories()
    if args.images:
        blobs = {k: v for k, v in blobs.items() if k in args.images.split(",")}
    runs = [bench_store(kind, args, blobs, first) for kind in stores]

    result: dict[str, Any] = {
        "count": args.count, "requests": args.requests, "clients": args.clients,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "runs": runs, "machine": machine()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"api-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("| store | request | clients | p50 ms | p95 ms | p99 ms | req/s | response KB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        for label, modes in run["scenarios"].items():
            for mode, figure in modes.items():
                clients = 1 if mode == "sequential" else args.clients
                print(f"| {run['store']} | `{label}` | {clients} | {figure['p50_ms']:.1f} | "
                      f"{figure['p95_ms']:.1f} | {figure['p99_ms']:.1f} | "
                      f"{figure['per_second']:.0f} | {figure['response_bytes'] / 1000:.1f} |")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
