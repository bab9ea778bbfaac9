"""Fixtures of the integrity tests."""

from __future__ import annotations

import pytest

from tests.integrity.images import BigImages, build_big_images


@pytest.fixture(scope="session")
def big_images(tmp_path_factory: pytest.TempPathFactory) -> BigImages:
    """Two images sharing a large base layer, with their cold scans."""
    return build_big_images(tmp_path_factory.mktemp("big-images"))
