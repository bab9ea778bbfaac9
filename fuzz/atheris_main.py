"""Run one target of :mod:`fuzz.targets` under atheris (libFuzzer flags pass through).

Each ``fuzz/fuzz_<name>.py`` script calls :func:`run`. hullscan and the pure-Python standard
library parsers it relies on (tarfile, zipfile, tomllib, email) are instrumented, so coverage
guidance reaches inside them too.
"""

from __future__ import annotations

import sys
from pathlib import Path

INSTRUMENTED = ("hullscan", "fuzz", "tarfile", "zipfile", "tomllib", "email", "yaml", "packaging")


def run(name: str) -> None:
    """Fuzz target ``name`` with the command line's libFuzzer flags and corpus directories."""
    import atheris  # only the fuzz scripts need it; the targets themselves do not

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    with atheris.instrument_imports(include=list(INSTRUMENTED)):
        from fuzz.targets import TARGETS
    atheris.Setup(sys.argv, TARGETS[name])
    atheris.Fuzz()
