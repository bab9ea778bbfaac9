"""Fixtures for the vulnerability stage: one database built from the shared data per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from hullscan.vuln.db.build import BuildReport, build_database
from tests.support.build_steps import shared_vulndata


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
