pytest_plugins = ["tests.support.registry_fixtures", "tests.support.image_fixtures",
                  "tests.support.fault_proxy", "tests.support.catalog_fixtures",
                  "tests.support.vulnerable_fixtures"]


def pytest_configure(config: object) -> None:
    """CLI runs in the tests use a private layer cache, never the user's."""
    import os
    import tempfile

    if "HULLSCAN_CACHE_DIR" not in os.environ:
        os.environ["HULLSCAN_CACHE_DIR"] = tempfile.mkdtemp(prefix="hullscan-test-cache-")
