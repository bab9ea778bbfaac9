"""The seed corpora are written from ../shared/fixtures and the tests' own inputs, not
committed (the shared fixtures stay outside the repository): made once per run, by the
controlling process before any xdist worker starts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    corpus = ROOT / "fuzz" / "corpus"
    if corpus.is_dir() and any(corpus.iterdir()):
        return
    sys.path.insert(0, str(ROOT))
    from fuzz import make_corpus

    make_corpus.main()
