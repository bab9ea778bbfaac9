"""An inventory round-trips through storage and gives the same results as a direct scan."""

from __future__ import annotations

import pytest

from hullscan.errors import CorruptContentError
from hullscan.image.sources.interface import AcquireOptions
from hullscan.policy.load import load_default_bundle
from hullscan.service.inventory import analyse_inventory, dumps, image_results, loads
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.matcher import match_catalog
from tests.support.vulnerable_image import VulnerableImage

# The session database of the vulnerability tests (built once from ../shared/vulndata).
from tests.vuln.conftest import BuiltDatabase, built_database, vulndata  # noqa: F401


def test_round_trip_gives_the_same_results(vulnerable_image: VulnerableImage,
                                           built_database: BuiltDatabase) -> None:  # noqa: F811
    inventory = analyse_inventory(vulnerable_image.target, AcquireOptions())
    stored = dumps(inventory)
    restored = loads(stored)
    assert restored.catalog.packages == inventory.catalog.packages
    assert restored.catalog.image == inventory.catalog.image
    assert restored.checks == inventory.checks
    assert restored.files == inventory.files and len(restored.files) > 100
    assert restored.file_contents.keys() == {"etc/passwd", "etc/group"}
    assert len(stored) < 200_000  # compressed: small enough to keep for every digest

    with VulnerabilityDatabase.open(built_database.path) as database:
        direct = match_catalog(inventory.catalog, database).findings
        results = image_results(restored, database, load_default_bundle())
    assert {(f.id, f.package.purl) for f in results.findings} == {
        (f.id, f.package.purl) for f in direct}
    assert results.findings  # the vulnerable image has findings
    assert results.evaluation is not None
    assert results.evaluation.bundle_id == "hullscan-default"


def test_corrupt_inventory_is_refused() -> None:
    with pytest.raises(CorruptContentError, match="unreadable inventory"):
        loads(b"not zlib")
