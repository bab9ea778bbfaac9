"""How fast the dashboard's pages answer with 1,000 images in the store.

One analysed inventory (the vulnerable test image of ``tests.support.vulnerable_image``) is
copied under 1,000 synthetic digests, each with its Image, ImageResult and
VulnerabilityIndex rows (copied from the one real computation), on SQLite. Each page is then
requested in-process (FastAPI's TestClient, logged in with a read token), once untimed and
``--rounds`` times timed; the script prints median and worst server response per page.

    .venv/bin/python bench/dashboard_bench.py [--images 1000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import CACHE  # noqa: E402
from tests.support.build_steps import shared_vulndata  # noqa: E402
from tests.support.vulnerable_image import vulnerable_image  # noqa: E402

from hullscan.image.sources.interface import AcquireOptions  # noqa: E402
from hullscan.service.api import create_app  # noqa: E402
from hullscan.service.inventory import analyse_inventory, dumps  # noqa: E402
from hullscan.service.operations import Service  # noqa: E402
from hullscan.service.queue import InProcessQueue  # noqa: E402
from hullscan.service.sealing import SecretBox  # noqa: E402
from hullscan.service.store.database import Store  # noqa: E402
from hullscan.service.store.models import (  # noqa: E402
    Analysis,
    AnalysisStatus,
    Image,
    ImageResult,
    VulnerabilityIndex,
)
from hullscan.service.tokens import Scope, create_token  # noqa: E402
from hullscan.vuln.db.build import build_database  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TARGET_MS = 300.0


def database() -> Path:
    """The vulnerability database of the shared data, cached in bench/.cache."""
    path = CACHE / "dashboard" / "vulnerability.db"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        build_database([shared_vulndata()], path)
    return path


def populate(service: Service, count: int) -> tuple[int, str]:
    """``count`` analysed digests copied from one real analysis; (an image id, a CVE)."""
    blob = dumps(analyse_inventory(vulnerable_image().target, AcquireOptions()))
    first = "sha256:" + hashlib.sha256(b"dashboard-0").hexdigest()
    with service.store.session() as session:
        session.add(Analysis(digest=first, reference=f"bench.example/team0/app0@{first}",
                             status=AnalysisStatus.ANALYSED, inventory=blob, analysis_count=1))
        session.add(Image(registry_host="bench.example", repository="team0/app0", tag="1",
                          digest=first))
    service.refresh_results(first)
    with service.store.session() as session:
        result = session.get(ImageResult, first)
        assert result is not None
        index = session.query(VulnerabilityIndex).filter_by(digest=first).all()
        for n in range(1, count):
            digest = "sha256:" + hashlib.sha256(f"dashboard-{n}".encode()).hexdigest()
            session.add(Analysis(digest=digest, reference=f"bench.example/x@{digest}",
                                 status=AnalysisStatus.ANALYSED, inventory=blob,
                                 analysis_count=1))
            session.add(Image(registry_host="bench.example", repository=f"team{n % 20}/app{n}",
                              tag=str(n % 3 + 1), digest=digest))
            session.add(ImageResult(
                digest=digest, vulnerabilities=result.vulnerabilities,
                final_action=("STOP", "WARN", "GO")[n % 3], policy_id=result.policy_id,
                database_built_at=result.database_built_at, evaluation=result.evaluation))
            session.add_all(VulnerabilityIndex(
                vulnerability_id=row.vulnerability_id, digest=digest, package=row.package,
                version=row.version, severity=row.severity, fix_versions=row.fix_versions)
                for row in index)
        image_id = session.query(Image.id).filter_by(digest=first).scalar()
        cve = next(row.vulnerability_id for row in index
                   if row.vulnerability_id.startswith("CVE-"))
    return int(image_id), cve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        store = Store(f"sqlite:///{Path(work) / 'service.db'}")
        service = Service(store, database(), SecretBox(SecretBox.generate_key()),
                          Path(work) / "data")
        started = time.perf_counter()
        image_id, cve = populate(service, options.images)
        print(f"populated {options.images} images in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        token = create_token(store, "bench", [Scope.READ]).secret
        pages = {
            "overview `/`": "/",
            "images `/images`": "/images",
            "images, filtered by CVE and severity, sorted by vulnerabilities":
                f"/images?cve={cve}&severity=High&sort=vulnerabilities&order=desc",
            "images, page 10": "/images?page=10",
            "image detail `/images/{id}`": f"/images/{image_id}",
            f"vulnerability `/vulnerabilities/{cve}` (1,000 affected)": f"/vulnerabilities/{cve}",
            "policies `/policies`": "/policies",
            "subscriptions `/subscriptions`": "/subscriptions",
        }
        queue = InProcessQueue(service, workers=1)
        print(f"| page | median ms | max ms | (n={options.rounds}, {options.images} images) |")
        print("|---|---:|---:|---|")
        with TestClient(create_app(service, queue)) as client:
            client.post("/login", data={"token": token}, follow_redirects=False)
            for label, path in pages.items():
                assert client.get(path).status_code == 200, path  # untimed: warm caches
                times = []
                for _ in range(options.rounds):
                    begun = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - begun) * 1000)
                    assert response.status_code == 200
                median = statistics.median(times)
                flag = "" if median < TARGET_MS else " over target"
                print(f"| {label} | {median:.0f} | {max(times):.0f} |{flag} |")
        queue.close()
        store.close()


if __name__ == "__main__":
    main()
