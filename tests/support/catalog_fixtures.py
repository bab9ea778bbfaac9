"""pytest plugin: the catalog test image and syft's reading of it (session-scoped).

Fixtures:

* ``catalog_image``       -> :class:`CatalogImage` for ``catalog:1`` (built once, cached under
  ``.test-cache/catalog-image``; the build lock keeps pytest-xdist workers from racing)
* ``catalog_image_facts`` -> its :class:`CatalogFacts`
* ``catalog_syft``        -> ``catalog_syft(format, scope="squashed")``: syft's syft-json
  document of it; syft runs lazily, at most once per session for each (format, scope);
  ``format`` is ``"oci-dir"`` or ``"docker-archive"``, ``scope`` ``"squashed"`` or
  ``"all-layers"``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest

from tests.support.catalog_image import CatalogFacts, CatalogImage, CatalogImageError
from tests.support.catalog_image import catalog_image as build_catalog_image
from tests.support.debian_base import DebootstrapUnavailableError
from tests.support.syft import SyftScope, SyftUnavailableError, run_syft
from tests.support.unavailable import unavailable

SyftFormat = Literal["oci-dir", "docker-archive"]
SyftRunner = Callable[[SyftFormat, SyftScope], dict[str, Any]]


@pytest.fixture(scope="session")
def catalog_image() -> CatalogImage:
    """``catalog:1``: Debian base, venv, node_modules, jars, Go binary, added+removed npm."""
    try:
        return build_catalog_image()
    except (DebootstrapUnavailableError, CatalogImageError) as error:
        unavailable(f"catalog image unavailable: {error}")


@pytest.fixture(scope="session")
def catalog_image_facts(catalog_image: CatalogImage) -> CatalogFacts:
    """What a correct cataloger must find in ``catalog:1``."""
    return catalog_image.facts


@pytest.fixture(scope="session")
def catalog_syft(catalog_image: CatalogImage) -> SyftRunner:
    """``catalog_syft(format, scope)``: syft's syft-json document of ``catalog:1`` (memoized)."""
    done: dict[tuple[str, str], dict[str, Any]] = {}
    targets = {
        "oci-dir": f"oci-dir:{catalog_image.layout}",
        "docker-archive": f"docker-archive:{catalog_image.docker_archive}",
    }

    def runner(image_format: SyftFormat, scope: SyftScope = "squashed") -> dict[str, Any]:
        key = (image_format, scope)
        if key not in done:
            try:
                done[key] = run_syft(targets[image_format], scope=scope)
            except SyftUnavailableError as error:
                unavailable(str(error))
        return done[key]

    return runner
