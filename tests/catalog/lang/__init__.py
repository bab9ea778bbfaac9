"""Tests of the language-ecosystem parsers; ``FIXTURES`` is the shared read-only fixture tree."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures"
