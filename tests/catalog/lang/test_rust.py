from __future__ import annotations

import pytest

from hullscan.catalog.lang.rust import parse_cargo_lock
from hullscan.errors import CorruptContentError
from tests.catalog.lang import FIXTURES


def test_cargo_lock_fixture() -> None:
    packages = parse_cargo_lock("Cargo.lock", (FIXTURES / "rust/Cargo.lock").read_bytes())
    assert len(packages) == 14
    first = packages[0]
    assert (first.name, first.version, first.ecosystem) == ("ansi_term", "0.12.1", "cargo")
    assert first.extra["checksum"] == (
        "d52a9bb7ec0cf484c551830a7ce27bd20d67eac647e1befb56b0be4ee39a55d2"
    )
    assert first.extra["source"] == "registry+https://github.com/rust-lang/crates.io-index"
    assert first.dependencies == ("winapi",)
    errno = packages[1]
    assert (errno.name, errno.version) == ("errno", "0.3.9")
    assert errno.dependencies == ("windows-sys",)


CARGO_V1 = b"""\
[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "libc 0.2.62 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "libc"
version = "0.2.62"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum libc 0.2.62 (registry+https://github.com/rust-lang/crates.io-index)" = "34fc"
"""


def test_cargo_lock_v1_keeps_local_crates_and_reads_metadata_checksums() -> None:
    app, libc = parse_cargo_lock("Cargo.lock", CARGO_V1)
    assert (app.name, app.version, app.dependencies) == ("app", "0.1.0", ("libc",))
    assert "source" not in app.extra
    assert libc.extra["checksum"] == "34fc"


@pytest.mark.parametrize("content", [b"[[package]\n", b'[[package]]\nname = "x"\n'])
def test_malformed(content: bytes) -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_cargo_lock("src/Cargo.lock", content)
    assert info.value.subject == "src/Cargo.lock"
