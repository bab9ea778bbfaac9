"""Run the real ``hullscan`` console script in a child process and measure it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HULLSCAN = Path(sys.executable).with_name("hullscan")
GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class CliRun:
    """What one run printed, returned and cost."""

    code: int
    stdout: str
    stderr: str
    max_rss_mib: float


def run_hullscan(*args: str, cwd: Path, tmpdir: Path | None = None,
                 env: dict[str, str] | None = None, timeout: float = 300) -> CliRun:
    """Run ``hullscan ARGS`` in ``cwd`` (with a private ``HULLSCAN_TMPDIR`` if given)."""
    environment = {**os.environ, **(env or {})}
    if tmpdir is not None:
        environment["HULLSCAN_TMPDIR"] = str(tmpdir)
    completed = subprocess.run([str(HULLSCAN), *args], cwd=cwd, env=environment,
                               capture_output=True, timeout=timeout, check=False)
    return CliRun(completed.returncode, completed.stdout.decode(), completed.stderr.decode(), 0.0)


def run_measured(*args: str, cwd: Path, tmpdir: Path, timeout: float = 300,
                 env: dict[str, str] | None = None) -> CliRun:
    """Like :func:`run_hullscan`, under GNU ``time`` to read the child's own peak RSS.

    ``os.wait4`` on a child forked from pytest would report pytest's resident pages too.
    """
    report = tmpdir.parent / f"{tmpdir.name}.rusage"
    environment = {**os.environ, "HULLSCAN_TMPDIR": str(tmpdir), **(env or {})}
    completed = subprocess.run([GNU_TIME, "-f", "%M", "-o", str(report), str(HULLSCAN), *args],
                               cwd=cwd, env=environment, capture_output=True, timeout=timeout,
                               check=False)
    lines = report.read_text().strip().splitlines()
    report.unlink()
    return CliRun(completed.returncode, completed.stdout.decode(), completed.stderr.decode(),
                  int(lines[-1]) / 1024)
