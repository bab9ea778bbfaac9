"""Load test of the service: 50 clients reading for minutes while the workers analyse new images.

``hullscan serve`` runs in its own process (real uvicorn on loopback, in-process pool of
``--workers`` analysis workers, no scheduler) on a SQLite store (and PostgreSQL on
127.0.0.1:5432 with ``--stores sqlite,postgresql``: a fresh database, dropped afterwards). The
store is seeded with ``--count`` analysed images (``api_bench.populate``: real inventories and
results). A real ``docker-registry`` on loopback holds new images (an Alpine root with old
packages and one unique layer each); during the run one pusher pushes one every
``--push-every`` seconds and adds it with ``POST /v1/images``, so the workers analyse while
``--clients`` asyncio clients (httpx, one connection each) loop over: image lists (pages,
repository and verdict filters), one image, its vulnerabilities, its SBOM and its checks.
Every answer must be 2xx. Recorded: requests and errors per route, latency p50/p95/p99 per
route, server RSS (process and children, sampled from /proc every 0.5 s), analyses completed
during the run and the load average.

    .venv/bin/python bench/load_bench.py                        # SQLite, 180 s
    .venv/bin/python bench/load_bench.py --duration 120 --stores sqlite,postgresql

Writes ``bench/results/load-<timestamp>.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from bench.api_bench import TEAMS, percentile, populate, serve_process, store_url  # noqa: E402
from bench.common import RESULTS, machine  # noqa: E402
from bench.rematch_bench import databases, inventories  # noqa: E402
from tests.support.image_builder import File, ImageSpec, LayerSpec, write_oci_layout  # noqa: E402
from tests.support.registry_servers import running_registry  # noqa: E402
from tests.support.vulnerable_image import ALPINE_VULNERABLE, alpine_layer  # noqa: E402

from hullscan.image.acquire import open_image  # noqa: E402
from hullscan.image.push import PushTarget, push_image  # noqa: E402
from hullscan.image.registry.client import RegistryClient, RegistryOptions  # noqa: E402
from hullscan.service.operations import Service  # noqa: E402
from hullscan.service.sealing import SecretBox  # noqa: E402
from hullscan.service.store.database import Store  # noqa: E402
from hullscan.service.tokens import Scope, create_token  # noqa: E402


def rss_of_tree(pid: int) -> int:
    """Resident bytes of ``pid`` and its children (from /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds ``pid`` has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """Samples the server's RSS every 0.5 s and the load average every 5 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.rss: list[int] = []
        self.load: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        ticks = 0
        while not self.stopping.wait(0.5):
            self.rss.append(rss_of_tree(self.pid))
            if ticks % 10 == 0:
                self.load.append(os.getloadavg()[0])
            ticks += 1


@contextmanager
def server(url: str, database_path: Path, data_dir: Path, key: str, workers: int
           ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``hullscan serve`` with analysis workers, allowed to reach loopback registries."""
    with (data_dir.parent / "serve.log").open("wb") as log, \
            serve_process(url, database_path, data_dir, key, workers=workers,
                          extra=("--allow-network", "127.0.0.0/8"), log=log) as running:
        yield running


def new_images(layout: Path, count: int) -> list[str]:
    """``count`` images with one shared Alpine layer and one unique layer each."""
    base = alpine_layer(ALPINE_VULNERABLE, "ADD alpine-minirootfs.tar.gz /")
    specs = {f"push:{n}": ImageSpec([base, LayerSpec(
        [File("/srv/app/id.txt", f"{n} {uuid.uuid4()}\n".encode()),
         File("/srv/app/settings.ini", f"password = load-bench-{n:05d}-secret\n".encode())],
        created_by=f"COPY app /srv/app # {n}")]) for n in range(count)}
    write_oci_layout(layout, specs)
    return sorted(specs, key=lambda ref: int(ref.split(":")[1]))


def routes(count: int, rng: random.Random) -> tuple[str, str]:
    """One request: (route label, path)."""
    image = 1 + rng.randrange(count)
    choice = rng.randrange(8)
    if choice == 0:
        return "list ?limit=50&offset", f"/v1/images?limit=50&offset={rng.randrange(count)}"
    if choice == 1:
        team = rng.randrange(TEAMS)
        return "list ?repository", f"/v1/images?limit=50&repository=team{team}/vulnerable"
    if choice == 2:
        return "list ?final_action=STOP", "/v1/images?limit=50&final_action=STOP"
    if choice == 3:
        return "list ?status=analysed", "/v1/images?limit=20&status=analysed"
    if choice == 4:
        return "get /images/{id}", f"/v1/images/{image}"
    if choice == 5:
        return "vulnerabilities", f"/v1/images/{image}/vulnerabilities"
    if choice == 6:
        return "sbom (cyclonedx)", f"/v1/images/{image}/sbom"
    return "checks", f"/v1/images/{image}/checks"


async def client(number: int, base: str, token: str, count: int, until: float,
                 latencies: dict[str, list[float]], errors: dict[str, list[str]]) -> None:
    rng = random.Random(number)
    async with httpx.AsyncClient(base_url=base, timeout=120,
                                 headers={"Authorization": f"Bearer {token}"},
                                 limits=httpx.Limits(max_connections=1)) as http:
        while time.monotonic() < until:
            label, path = routes(count, rng)
            started = time.perf_counter()
            try:
                response = await http.get(path)
                await response.aread()
                ok = response.is_success
                detail = f"{response.status_code} {path} {response.text[:200]}"
            except httpx.HTTPError as error:
                ok, detail = False, f"{type(error).__name__} {path}: {error}"
            latencies.setdefault(label, []).append(time.perf_counter() - started)
            if not ok:
                errors.setdefault(label, []).append(detail)


def pusher(registry_host: str, layout: Path, refs: list[str], base: str, token: str,
           every: float, until: float, added: list[int], failures: list[str]) -> None:
    """Push one new image every ``every`` seconds and add it to the service."""
    with RegistryClient(registry_host, options=RegistryOptions()) as registry, \
            httpx.Client(base_url=base, timeout=60,
                         headers={"Authorization": f"Bearer {token}"}) as http:
        for ref in refs:
            if time.monotonic() >= until:
                return
            started = time.monotonic()
            tag = ref.split(":")[1]
            with open_image(f"oci-dir:{layout}:{ref}") as source:
                push_image(source, PushTarget(registry, "load/app", tag))
            response = http.post("/v1/images",
                                 json={"reference": f"{registry_host}/load/app:{tag}"})
            if response.status_code != 202:
                failures.append(f"POST /v1/images {response.status_code} {response.text[:200]}")
            else:
                added.append(int(response.json()["id"]))
            time.sleep(max(0.0, every - (time.monotonic() - started)))


def analysed(base: str, token: str, ids: list[int]) -> dict[str, int]:
    """Status -> how many of ``ids`` are in it."""
    counts: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        for image_id in ids:
            status = http.get(f"/v1/images/{image_id}").json()["status"]
            counts[status] = counts.get(status, 0) + 1
    return counts


def bench_store(kind: str, args: argparse.Namespace, blobs: dict[str, bytes],
                database_path: Path, registry_host: str, layout: Path, refs: list[str]
                ) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp, \
            store_url(kind, Path(tmp)) as url:
        work = Path(tmp)
        key = SecretBox.generate_key()
        store = Store(url)
        service = Service(store, database_path, SecretBox(key), work / "data")
        populate(service, blobs, args.count, database_path)
        reader = create_token(store, "load-read", [Scope.READ]).secret
        admin = create_token(store, "load-admin", [Scope.ADMIN]).secret
        store.close()
        latencies: dict[str, list[float]] = {}
        errors: dict[str, list[str]] = {}
        added: list[int] = []
        push_failures: list[str] = []
        with server(url, database_path, work / "data", key, args.workers) as (base, process):
            httpx.post(f"{base}/v1/registries", json={"host": registry_host, "insecure": True},
                       headers={"Authorization": f"Bearer {admin}"},
                       timeout=30).raise_for_status()
            sampler = Sampler(process.pid)
            sampler.start()
            cpu_before = cpu_seconds(process.pid)
            started = time.monotonic()
            until = started + args.duration
            push = threading.Thread(target=pusher, args=(
                registry_host, layout, refs, base, admin, args.push_every, until, added,
                push_failures), daemon=True)
            push.start()

            async def run_clients() -> None:
                await asyncio.gather(*(client(n, base, reader, args.count, until, latencies,
                                              errors) for n in range(args.clients)))

            asyncio.run(run_clients())
            wall = time.monotonic() - started
            server_cpu = cpu_seconds(process.pid) - cpu_before
            push.join(timeout=120)
            sampler.stopping.set()
            sampler.join()
            statuses = analysed(base, admin, added)
            # Analyses still running at the end are given a grace period (not counted above).
            grace_until = time.monotonic() + 60
            after = statuses
            while after.get("queued", 0) + after.get("analysing", 0) and \
                    time.monotonic() < grace_until:
                time.sleep(2)
                after = analysed(base, admin, added)
    per_route = {
        label: {"requests": len(values), "errors": len(errors.get(label, [])),
                "p50_ms": round(percentile(values, 0.50) * 1000, 1),
                "p95_ms": round(percentile(values, 0.95) * 1000, 1),
                "p99_ms": round(percentile(values, 0.99) * 1000, 1),
                "max_ms": round(max(values) * 1000, 1)}
        for label, values in sorted(latencies.items())}
    total = sum(len(values) for values in latencies.values())
    return {
        "store": kind, "duration_s": round(wall, 1), "requests": total,
        "per_second": round(total / wall, 1),
        "errors": sum(len(values) for values in errors.values()),
        "error_samples": {label: values[:5] for label, values in errors.items()},
        "routes": per_route,
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_share": round(server_cpu / wall, 2),
        "rss_peak_mib": round(max(sampler.rss, default=0) / 2**20, 1),
        "rss_last_mib": round((sampler.rss or [0])[-1] / 2**20, 1),
        "images_pushed": len(added), "push_failures": push_failures,
        "analyses_at_end": statuses, "analyses_after_grace": after,
        "load_average_samples": [round(x, 2) for x in sampler.load],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--count", type=int, default=300, help="stored (seeded) images")
    parser.add_argument("--workers", type=int, default=2, help="in-process analysis workers")
    parser.add_argument("--push-every", type=float, default=3.0,
                        help="seconds between new images pushed during the run")
    parser.add_argument("--stores", default="sqlite", help="sqlite,postgresql")
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="load-bench-db-") as tmp:
        first, _second = databases(Path(tmp))
    blobs = inventories()
    runs = []
    with tempfile.TemporaryDirectory(prefix="load-bench-registry-") as tmp:
        layout = Path(tmp) / "layout"
        refs = new_images(layout, int(args.duration / args.push_every) + 5)
        with running_registry("plain", Path(tmp) / "registry") as registry:
            for kind in args.stores.split(","):
                runs.append(bench_store(kind, args, blobs, first, registry.host, layout, refs))
    result: dict[str, Any] = {
        "duration": args.duration, "clients": args.clients, "count": args.count,
        "workers": args.workers, "push_every": args.push_every,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "runs": runs, "machine": machine()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"load-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("| store | route | requests | errors | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for run in runs:
        for label, figure in run["routes"].items():
            print(f"| {run['store']} | `{label}` | {figure['requests']} | {figure['errors']} | "
                  f"{figure['p50_ms']:.1f} | {figure['p95_ms']:.1f} | {figure['p99_ms']:.1f} |")
    for run in runs:
        print(f"{run['store']}: {run['requests']} requests in {run['duration_s']} s "
              f"({run['per_second']}/s), {run['errors']} errors; "
              f"server CPU {run['server_cpu_s']} s "
              f"({run['server_cpu_share']} of a core); RSS peak "
              f"{run['rss_peak_mib']} MiB; pushed {run['images_pushed']}, analyses at end "
              f"{run['analyses_at_end']}, after grace {run['analyses_after_grace']}; "
              f"load {run['load_average_samples']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
