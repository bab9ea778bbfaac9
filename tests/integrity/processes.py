"""Run ``hullscan`` in a child process and kill it (SIGKILL) at a chosen moment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.cli.run_cli import HULLSCAN


def start(*args: str, cwd: Path, env: dict[str, str] | None = None,
          command: Sequence[str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``hullscan ARGS`` (or ``command``) with its output captured."""
    return subprocess.Popen([*(command or [str(HULLSCAN)]), *args], cwd=cwd,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool],
              timeout: float = 60.0) -> bool:
    """SIGKILL ``process`` as soon as ``ready()`` holds; False if it exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            process.send_signal(signal.SIGKILL)
            process.communicate()
            return process.returncode == -signal.SIGKILL
        if process.poll() is not None:
            process.communicate()
            return False
        time.sleep(0.002)
    process.kill()
    process.communicate()
    raise AssertionError(f"{process.args!r}: the moment to kill never came")


def finish(process: subprocess.Popen[bytes], timeout: float = 120.0) -> tuple[int, str, str]:
    """Wait for ``process``; its exit code, stdout and stderr."""
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out.decode(), err.decode()


def findings(output: str) -> dict[str, Any]:
    """A ``scan --format json`` document without what names the database build."""
    document: dict[str, Any] = json.loads(output)
    document.pop("database", None)
    return document


def size_of(path: Path) -> int:
    """The size of ``path``, 0 when it is absent."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
