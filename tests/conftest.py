pytest_plugins = ["tests.support.registry_fixtures", "tests.support.image_fixtures",
                  "tests.support.fault_proxy", "tests.support.catalog_fixtures",
                  "tests.support.vulnerable_fixtures"]
