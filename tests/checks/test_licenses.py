"""License normalisation to SPDX expressions."""

from __future__ import annotations

import pytest

from hullscan.catalog.package import Package
from hullscan.checks.licenses import license_expressions, normalise_license


@pytest.mark.parametrize(("text", "expected"), [
    ("mit", "MIT"),
    ("GPL-2.0+", "GPL-2.0-or-later"),
    ("Apache-2.0 AND (mit OR bsd-3-clause)", "Apache-2.0 AND (MIT OR BSD-3-Clause)"),
    ("GPL-2.0-only WITH Classpath-exception-2.0",
     "GPL-2.0-only WITH Classpath-exception-2.0"),
    ("MIT OR Foo_Bar", "MIT OR LicenseRef-Foo-Bar"),
    ("GPLv2+", "LicenseRef-GPLv2-or-later"),
    ("GPL version 2 or later", "LicenseRef-GPL-version-2-or-later"),
    ("public domain", "LicenseRef-public-domain"),
    ("LicenseRef-custom", "LicenseRef-custom"),
    ("   ", ""),
])
def test_normalise_license(text: str, expected: str) -> None:
    assert normalise_license(text) == expected


def test_license_expressions_dedupes_and_drops_blanks() -> None:
    package = Package("p", "1", "deb", "pkg:deb/debian/p@1",
                      licenses=("mit", "MIT", "", "GPLv2+"))
    assert license_expressions(package) == ("MIT", "LicenseRef-GPLv2-or-later")
