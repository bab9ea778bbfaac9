"""Fixtures for the vulnerability stage: one database built from the shared data per session."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from hullscan.vuln.db.build import BuildReport, build_database

_PROJECT = Path(__file__).resolve().parents[2]


def shared_vulndata() -> Path:
    """The shared vulnerability data folder (``$HULLSCAN_VULNDATA`` overrides)."""
    override = os.environ.get("HULLSCAN_VULNDATA")
    if override:
        return Path(override)
    for candidate in (_PROJECT.parent / "shared" / "vulndata", Path("/work/shared/vulndata")):
        if candidate.is_dir():
            return candidate
    return Path("/work/shared/vulndata")


@dataclass(frozen=True)
class BuiltDatabase:
    """The session's database and the report of its build."""

    path: Path
    report: BuildReport


@pytest.fixture(scope="session")
def vulndata() -> Path:
    """The shared vulnerability data folder; skips when it is absent."""
    path = shared_vulndata()
    if not path.is_dir():
        pytest.skip(f"shared vulnerability data not found at {path}")
    return path


@pytest.fixture(scope="session")
def built_database(vulndata: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltDatabase:
    """A database built once per session from all of the shared vulnerability data."""
    destination = tmp_path_factory.mktemp("vulndb") / "vulnerability.db"
    report = build_database([vulndata], destination)
    return BuiltDatabase(destination, report)
