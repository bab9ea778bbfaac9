"""pytest plugin: the scan test images ``vulnerable:1`` and ``clean:1`` (session-scoped).

Fixtures:

* ``vulnerable_image`` -> :class:`VulnerableImage`: one OCI layout holding both images (built
  once, cached under ``.test-cache/vulnerable-image``; the build lock keeps pytest-xdist
  workers from racing), with the advisories every planted package must be reported with
"""

from __future__ import annotations

import pytest

from tests.support.unavailable import unavailable
from tests.support.vulnerable_image import VulnerableImage, VulnerableImageError
from tests.support.vulnerable_image import vulnerable_image as build_vulnerable_image


@pytest.fixture(scope="session")
def vulnerable_image() -> VulnerableImage:
    """``vulnerable:1`` (Alpine 3.11 apk db, old PyPI and npm packages) and ``clean:1``."""
    try:
        return build_vulnerable_image()
    except VulnerableImageError as error:
        unavailable(f"vulnerable test image unavailable: {error}")
