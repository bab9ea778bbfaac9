"""Helpers shared by the benchmark scripts in ``bench/``.

* paths (project root, cache, results, the venv's interpreter and ``hullscan``)
* :func:`timed`: run one command under GNU ``/usr/bin/time`` and return a :class:`Run`
* :func:`machine`: what the figures were measured on

Importing this module puts the project root on ``sys.path``, so ``tests.support`` (the image
builders and the syft helpers) can be imported next.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results"
PYTHON = ROOT / ".venv" / "bin" / "python"
HULLSCAN = ROOT / ".venv" / "bin" / "hullscan"
MB = 1_000_000

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.support holds the image builders


@dataclass(frozen=True)
class Run:
    """One timed command."""

    source: str
    wall: float
    rss_kb: int
    user: float
    sys: float


def timed(source: str, argv: list[str], *, env: Mapping[str, str] | None = None,
          stdout: IO[Any] | int = subprocess.DEVNULL, accept: Collection[int] = (0,)) -> Run:
    """Run ``argv`` under ``/usr/bin/time -f "%e %M %U %S"``; fail loudly on errors.

    stdout goes to ``/dev/null`` unless ``stdout`` (an open file) is given. ``accept``: the
    exit codes that are not errors (``hullscan scan`` exits 1 when the policy says STOP).
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        result = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%e %M %U %S", *argv],
            stdout=stdout, stderr=subprocess.PIPE, text=True, check=False,
            env=None if env is None else dict(env))
        if result.returncode not in accept:
            raise SystemExit(f"{source}: exit {result.returncode}\n{result.stderr}")
        wall, rss, user, system = report.read().split()[-4:]
    return Run(source, float(wall), int(rss), float(user), float(system))


def require_gnu_time() -> None:
    """Stop with a hint if GNU time is missing."""
    if not Path("/usr/bin/time").is_file():
        raise SystemExit("needs GNU time at /usr/bin/time (Debian package `time`)")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor())
    python = subprocess.run([str(PYTHON), "-c", "import sys; print(sys.version.split()[0])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "python": python,
            "kernel": platform.release(), "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}
