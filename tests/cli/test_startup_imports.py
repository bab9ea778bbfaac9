"""Lean start-up: ``--version`` and a warm JSON scan import none of the heavy stacks (web,
database, task queue, HTTP client, SBOM libraries, rich); read from ``python -X importtime``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.image_builder import File, ImageSpec, LayerSpec, write_oci_layout

HEAVY = ("httpx", "fastapi", "starlette", "pydantic", "sqlalchemy", "alembic", "celery",
         "cyclonedx", "spdx_tools", "jinja2", "rich")
_IMPORT = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", re.MULTILINE)


def _imported(*args: str, cwd: Path) -> set[str]:
    completed = subprocess.run([sys.executable, "-X", "importtime", "-m", "hullscan", *args],
                               cwd=cwd, capture_output=True, text=True, timeout=120,
                               check=False, env={**os.environ, "HULLSCAN_LAYER_WORKERS": "1"})
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    return {name.split(".")[0] for name in _IMPORT.findall(completed.stderr)}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    layout = tmp_path_factory.mktemp("startup") / "layout"
    write_oci_layout(layout, {"app:1": ImageSpec([LayerSpec([
        File("/etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
        File("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")])])})
    return f"oci-dir:{layout}:app:1"


def test_version_imports_no_heavy_stack(tmp_path: Path) -> None:
    imported = _imported("--version", cwd=tmp_path)
    assert "hullscan" in imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_warm_json_scan_imports_no_heavy_stack(image: str, tmp_path: Path) -> None:
    scan = ("scan", image, "--scanners", "secret,config", "--format", "json",
            "--cache-dir", str(tmp_path / "cache"))
    cold = _imported(*scan, cwd=tmp_path)
    warm = _imported(*scan, cwd=tmp_path)
    assert "hullscan" in warm and "yaml" in warm  # it did run: the default policy was read
    assert warm.isdisjoint(HEAVY), sorted(warm & set(HEAVY))
    assert cold.isdisjoint(HEAVY), sorted(cold & set(HEAVY))
