"""dpkg status, status.d, file lists and copyright files, read from the shared real fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.catalog.os import dpkg
from hullscan.catalog.os.dpkg import parse_copyright, parse_file_list, parse_status
from hullscan.errors import CorruptContentError

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "dpkg"


def _status(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def test_bookworm_minbase_counts() -> None:
    packages = parse_status("var/lib/dpkg/status", _status("bookworm-minbase/var/lib/dpkg/status"))
    assert len(packages) == 88
    assert sum(1 for package in packages if package.source_name) == 65
    assert all(package.ecosystem == "deb" for package in packages)
    by_name = {package.name: package for package in packages}
    bash = by_name["bash"]
    assert (bash.version, bash.source_name, bash.source_version) == (
        "5.2.15-2+b13",
        "bash",
        "5.2.15-2",
    )
    assert bash.architecture == "amd64"
    assert bash.supplier == "Matthias Klose <doko@debian.org>"
    assert "libc6" in bash.dependencies
    libcap = by_name["libcap-ng0"]
    assert (libcap.version, libcap.source_name, libcap.source_version) == (
        "0.8.3-1+b3",
        "libcap-ng",
        "0.8.3-1",
    )
    adduser = by_name["adduser"]
    assert adduser.source_name is None
    assert adduser.dependencies == ("passwd",)


def test_distroless_stanza_without_status_is_kept() -> None:
    (package,) = parse_status(
        "var/lib/dpkg/status.d/libsqlite3-0",
        _status("distroless/var/lib/dpkg/status.d/libsqlite3-0"),
    )
    assert package.name == "libsqlite3-0"
    assert package.version == "3.34.1-3"
    assert (package.source_name, package.source_version) == ("sqlite3", "3.34.1-3")
    assert package.architecture == "arm64"
    assert package.dependencies == ("libc6",)


def test_multiple_skips_nameless_stanza() -> None:
    packages = parse_status("status.d/multiple", _status("syft-status.d/multiple"))
    assert [package.name for package in packages] == ["no-version", "tzdata", "util-linux"]
    assert packages[0].version == ""
    tzdata = packages[1]
    assert (tzdata.source_name, tzdata.source_version) == ("tzdata-dev", "2020a-0+deb10u1")
    assert tzdata.dependencies == ("debconf", "debconf-2.0")


def test_deinstalled_packages_are_skipped() -> None:
    packages = parse_status("status.d/deinstall", _status("syft-status.d/deinstall"))
    assert [package.name for package in packages] == ["linux-image-6.14.0-1012-aws"]


def test_pre_depends_and_depends() -> None:
    packages = parse_status(
        "status.d/coreutils-relationships", _status("syft-status.d/coreutils-relationships")
    )
    by_name = {package.name: package for package in packages}
    assert by_name["coreutils"].dependencies == (
        "libacl1",
        "libattr1",
        "libc6",
        "libgmp10",
        "libselinux1",
    )
    assert by_name["libgcc-s1"].dependencies == ("gcc-12-base", "libc6")
    assert by_name["libselinux1"].source_version == "3.4-1"
    assert by_name["libattr1"].version == "1:2.5.1-4"


def test_corrupt_stanza_raises_naming_the_path() -> None:
    with pytest.raises(CorruptContentError) as caught:
        parse_status("var/lib/dpkg/status.d/corrupt", _status("syft-status.d/corrupt"))
    assert caught.value.subject == "var/lib/dpkg/status.d/corrupt"


def test_stray_continuation_line_raises() -> None:
    with pytest.raises(CorruptContentError):
        parse_status("status", b" continued\nPackage: x\n")


def test_file_list() -> None:
    content = b"/.\n/usr\n/usr/bin\n/usr/bin/bash\n\n"
    assert parse_file_list(content) == ("usr", "usr/bin", "usr/bin/bash")


def test_copyright_dep5() -> None:
    licences = parse_copyright(_status("copyright/libaudit-common"))
    assert licences == ("GPL-2.0-only", "LGPL-2.1-only", "GPL-1.0-only")


def test_copyright_free_text_forms() -> None:
    text = b"""
Licensed under the Apache License, Version 2.0 (the "License").
On Debian systems see /usr/share/common-licenses/Apache-2.0.
Parts: GNU General Public License as published by the Free Software Foundation;
either version 2 of the License, or (at your option) any later version.
See /usr/share/common-licenses/GPL-3 and /usr/share/common-licenses/LGPL-2.1+ too.
"""
    assert parse_copyright(text) == (
        "Apache-2.0",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "LGPL-2.1-or-later",
    )


def test_copyright_dep5_expressions_map_to_spdx() -> None:
    text = b"License: Expat or BSD-3-clause\n\nLicense: GPL-2+\n\nLicense: Custom-Thing\n"
    assert parse_copyright(text) == ("MIT", "BSD-3-Clause", "GPL-2.0-or-later", "Custom-Thing")


_FRAGMENTS = st.sampled_from([
    "License: GPL-2+\n", "License:\n", " License: MIT\n", "xLicense: BSD\n", "\n",
    "GNU General Public License as published; either version 2 of the License, or any later",
    "GNU Lesser General Public License, version 2.1 or (at your option) any later",
    "gnu library general public license version 2.1", "Apache License, Version 2.0",
    "APACHE LICENSE version 2.0", "MIT License", "the mit license.", "Licen\u017fe", "\u212a",
    "GNU GENERAL PUBL\u0130C L\u0130CENSE version 3", "GNU General Public \u212aicense 2",
    "caf\u00e9 \u00dcber ", "? ", "  ", ".",
    "/usr/share/common-licenses/GPL-2", "general public license"])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(_FRAGMENTS, max_size=14).map("".join))
def test_copyright_searches_find_what_plain_regex_searches_find(text: str) -> None:
    """The shortcuts of parse_copyright (a literal-prefix search for ``License:`` fields, the
    free-text patterns tried only where their literal is) against plain regex searches."""
    plain = re.finditer(r"^License:[ \t]*(\S[^\n]*)$", text, re.MULTILINE)
    assert [m.span() for m in dpkg._license_fields(text)] == [m.span() for m in plain]
    lower = dpkg._lower_for_search(text)
    for pattern, _, literal, offsets in dpkg._FREE_TEXT:
        assert "?" not in literal and literal.isascii()
        assert [m.span() for m in dpkg._free_text_matches(pattern, literal, offsets, text,
                                                          lower)] == \
            [m.span() for m in pattern.finditer(text)]
