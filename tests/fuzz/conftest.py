"""The seed corpora are written from ../shared/fixtures and the tests' own inputs, not
committed (the shared fixtures stay outside the repository): made once per checkout, when
this conftest is first imported (each xdist worker imports it; a lock lets one write)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.build_steps import locked

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fuzz" / "corpus"
COMPLETE = CORPUS / ".complete"


def _ensure_corpus() -> None:
    if COMPLETE.is_file():
        return
    CORPUS.mkdir(parents=True, exist_ok=True)
    with locked(CORPUS.parent / ".corpus.lock"):
        if COMPLETE.is_file():
            return
        sys.path.insert(0, str(ROOT))
        from fuzz import make_corpus

        make_corpus.main()
        COMPLETE.touch()


_ensure_corpus()
