"""Small steps the test-image builders share: a cross-process lock, running a packaging
tool, fresh folders, best-effort JSON, and where the shared data lives."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_PROJECT = Path(__file__).resolve().parents[2]
TOOL_TIMEOUT = 900


@contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (pytest-xdist workers build once)."""
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_tool(command: list[str], *, what: str, error: type[Exception],
             cwd: Path | None = None, timeout: float = TOOL_TIMEOUT) -> str:
    """Run pip, npm, apt-get ...; a failure raises ``error`` with the tool's last output."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "npm_config_update_notifier": "false"}
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                                timeout=timeout, check=False, env=env)
    except (OSError, subprocess.TimeoutExpired) as failure:
        raise error(f"{what}: {' '.join(command)} failed: {failure}") from failure
    if result.returncode != 0:
        raise error(f"{what}: {' '.join(command)} exited {result.returncode}: "
                    f"{(result.stderr or result.stdout).strip()[-1500:]}")
    return result.stdout


def fresh_dir(path: Path) -> Path:
    """An empty folder at ``path``."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or ``{}`` when it is missing or not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def shared_vulndata() -> Path:
    """The shared vulnerability data folder (``$HULLSCAN_VULNDATA`` overrides), laid beside
    the project as CI lays it."""
    override = os.environ.get("HULLSCAN_VULNDATA")
    return Path(override) if override else _PROJECT.parent / "shared" / "vulndata"


def npm_app(folder: Path, *, name: str, version: str, description: str,
            dependencies: dict[str, str], main_js: str, error: type[Exception]) -> Path:
    """``folder``: a ``package.json`` and a real ``npm install`` of the pinned packages."""
    app = fresh_dir(folder)
    manifest = {"name": name, "version": version, "private": True,
                "description": description, "main": "index.js",
                "dependencies": dependencies}
    (app / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (app / "index.js").write_text(main_js, encoding="utf-8")
    run_tool(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact"],
             cwd=app, what="npm install", error=error)
    return app
