"""Each atheris target runs briefly (its seeds plus up to 200 inputs) without a crash.

Long runs are by hand: ``fuzz/run_all.sh 600`` (see fuzz/README.md).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz.targets import TARGETS

from tests.support.unavailable import unavailable

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_target_runs_without_crash(target: str, tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is None:
        unavailable("atheris not installed (pip install atheris==3.0.0)")
    # New inputs go to tmp_path (the first corpus directory); the seeds are only read.
    # A fixed seed keeps CI reproducible; exploring belongs to the long runs.
    result = subprocess.run(
        [sys.executable, str(FUZZ / f"fuzz_{target}.py"), "-runs=200", "-seed=1", "-timeout=10",
         "-rss_limit_mb=2048", "-max_len=131072", f"-artifact_prefix={tmp_path}/",
         str(tmp_path), str(FUZZ / "corpus" / target)],
        capture_output=True, text=True, timeout=120, check=False)
    crashes = sorted(path.name for path in tmp_path.iterdir() if "-" in path.name)
    report = "\n".join(line for line in result.stderr.splitlines()
                       if not line.startswith(("#", "INFO:")))
    assert result.returncode == 0, f"{crashes}\n{report[-6000:]}"
    assert "Done" in result.stderr
