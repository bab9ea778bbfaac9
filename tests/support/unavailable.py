"""A missing tool or package skips a test on a developer's machine and fails it in CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    """CI installs everything the suite needs (``.ci/run``): there, absence is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)", pytrace=False)
    pytest.skip(reason)
