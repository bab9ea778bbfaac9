#!/usr/bin/env python3
"""Time ``hullscan db build`` from the shared feed data and the matcher's throughput.

Matching uses 10,000 real packages drawn (seeded) from the database's own PyPI, Go,
crates.io, npm, AlmaLinux and Alpine rows, at versions taken from their range events: a
share at an introduced version (affected, often by many advisories: old kernels), the rest
at a fixed version (the miss path every scan mostly takes). Each share is timed separately.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import machine  # noqa: E402

from hullscan.catalog.package import Catalog, Package, Scope  # noqa: E402
from hullscan.image.distro import Distro  # noqa: E402
from hullscan.image.model import ImageMetadata  # noqa: E402
from hullscan.image.reference import SourceKind  # noqa: E402
from hullscan.vuln.db.store import VulnerabilityDatabase  # noqa: E402
from hullscan.vuln.matcher import match_catalog  # noqa: E402

VULNDATA = ROOT.parent / "shared" / "vulndata"
HULLSCAN = Path(sys.executable).with_name("hullscan")
_TYPES = {"pypi": "pypi", "go": "golang", "crates.io": "cargo", "npm": "npm"}


def build_times(runs: int, workdir: Path) -> list[float]:
    """Wall seconds of ``hullscan db build --from <shared vulndata>``, ``runs`` times."""
    times = []
    for run in range(runs):
        target = workdir / f"build-{run}.db"
        start = time.perf_counter()
        subprocess.run([str(HULLSCAN), "db", "build", "--from", str(VULNDATA), "--db",
                        str(target)], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def _version(events: list[dict[str, str]], affected: bool) -> str | None:
    wanted = "introduced" if affected else "fixed"
    values = [e[wanted] for e in events if e.get(wanted) not in (None, "0")]
    return values[0] if values else None


def sample_packages(db: Path, count: int, affected_share: float = 0.5
                    ) -> list[tuple[str, Package]]:
    """``count`` distinct packages (namespace, name, version) with versions taken from their
    own ranges; one name may appear at several versions, as across a fleet of images."""
    connection = sqlite3.connect(db)
    rows = connection.execute(
        "SELECT namespace, package, ranges_json FROM affected WHERE namespace IN "
        "('pypi','go','crates.io','npm','almalinux:9','alpine:3.11')").fetchall()
    random.Random(20261127).shuffle(rows)
    chosen: dict[tuple[str, str, str], tuple[str, Package]] = {}
    for index, (namespace, name, ranges) in enumerate(rows):
        events = [e for r in json.loads(ranges) if r.get("type") in ("ECOSYSTEM", "SEMVER")
                  for e in r.get("events", [])]
        version = _version(events, affected=(index % 100) < affected_share * 100)
        if version is None or (namespace, name, version) in chosen:
            continue
        chosen[(namespace, name, version)] = (namespace, _package(namespace, name, version))
        if len(chosen) == count:
            break
    return list(chosen.values())


def _package(namespace: str, name: str, version: str) -> Package:
    if namespace in _TYPES:
        kind = _TYPES[namespace]
        space, _, short = name.rpartition("/") if kind == "golang" else ("", "", name)
        return Package(name=short, version=version, type=kind, purl=f"pkg:{kind}/{name}@{version}",
                       namespace=space or None)
    kind = "rpm" if namespace.startswith("almalinux") else "apk"
    # Distinct purls per release: the same rpm name exists in AlmaLinux 8, 9 and 10.
    return Package(name=name, version=version, type=kind,
                   purl=f"pkg:{kind}/{namespace.replace(':', '-')}/{name}@{version}")


def latest_packages(db: Path, count: int) -> list[tuple[str, Package]]:
    """``count`` packages, each at the highest fixed version its rows name: the up-to-date
    fleet, where nearly every lookup is a miss."""
    from hullscan.versions import compare, get_scheme
    from hullscan.vuln.db.namespaces import version_scheme

    connection = sqlite3.connect(db)
    rows = connection.execute(
        "SELECT namespace, package, ranges_json FROM affected WHERE namespace IN "
        "('pypi','go','crates.io','npm','almalinux:8','almalinux:9','almalinux:10','alpine:3.11')"
        ).fetchall()
    latest: dict[tuple[str, str], str] = {}
    for namespace, name, ranges in rows:
        scheme = version_scheme(namespace)
        for version in (e["fixed"] for r in json.loads(ranges)
                        if r.get("type") in ("ECOSYSTEM", "SEMVER")
                        for e in r.get("events", []) if isinstance(e.get("fixed"), str)):
            if not get_scheme(scheme).validate(version):
                continue
            current = latest.get((namespace, name))
            if current is None or compare(scheme, version, current) > 0:
                latest[(namespace, name)] = version
    keys = sorted(latest)
    random.Random(20261127).shuffle(keys)
    chosen = keys[:count]
    return [(namespace, _package(namespace, name, latest[(namespace, name)]))
            for namespace, name in chosen]


def match_seconds(db: Path, packages: list[tuple[str, Package]]) -> tuple[float, int, int]:
    """Match the sample, one catalog per distro (as a scan would); seconds, findings, warnings."""
    image = ImageMetadata("bench", SourceKind.DIRECTORY, None, None, None, None, None, None,
                          None, ())
    distros = {"almalinux:8": Distro("almalinux", "8.10", None),
               "almalinux:9": Distro("almalinux", "9.4", None),
               "almalinux:10": Distro("almalinux", "10.0", None),
               "alpine:3.11": Distro("alpine", "3.11.6", None)}
    groups: dict[str, list[Package]] = {}
    for namespace, package in packages:
        groups.setdefault(namespace if namespace in distros else "lang", []).append(package)
    findings = warnings = 0
    with VulnerabilityDatabase.open(db) as database:
        start = time.perf_counter()
        for key, group in groups.items():
            catalog = Catalog(image, distros.get(key), Scope.SQUASHED, tuple(group))
            result = match_catalog(catalog, database)
            findings += len(result.findings)
            warnings += len(result.warnings)
        elapsed = time.perf_counter() - start
    return elapsed, findings, warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument("--affected-shares", type=float, nargs="+", default=[0.0, 0.1, 0.5],
                        help="share of packages drawn at an introduced (affected) version")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        builds = build_times(args.runs, workdir)
        db = workdir / "build-0.db"
        mixes = {}
        fleet = latest_packages(db, args.packages)
        runs = [match_seconds(db, fleet) for _ in range(args.runs)]
        median = statistics.median(r[0] for r in runs)
        mixes["each package at its latest fixed version"] = {
            "packages": len(fleet), "findings": runs[0][1], "warnings": runs[0][2],
            "median_seconds": median, "runs": [r[0] for r in runs],
            "packages_per_second": len(fleet) / median}
        for share in args.affected_shares:
            packages = sample_packages(db, args.packages, share)
            runs = [match_seconds(db, packages) for _ in range(args.runs)]
            median = statistics.median(r[0] for r in runs)
            mixes[f"{share:.0%} at affected versions"] = {
                "packages": len(packages), "findings": runs[0][1], "warnings": runs[0][2],
                "median_seconds": median, "runs": [r[0] for r in runs],
                "packages_per_second": len(packages) / median}
    result = {
        "machine": machine(),
        "db_build_seconds": {"median": statistics.median(builds), "runs": builds},
        "match": mixes,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H%M%S")
    (out / f"vuln-{stamp}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
