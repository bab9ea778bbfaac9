from __future__ import annotations

import pytest

from hullscan.catalog.lang.dotnet import parse_deps_json
from hullscan.errors import CorruptContentError
from tests.catalog.lang import FIXTURES


def _parse(name: str) -> list[tuple[str, str]]:
    packages = parse_deps_json(name, (FIXTURES / "dotnet" / name).read_bytes())
    assert all(p.ecosystem == "nuget" and p.path == name for p in packages)
    return [(p.name, p.version) for p in packages]


def test_test_library_skips_projects() -> None:
    found = _parse("TestLibrary.deps.json")
    assert len(found) == 12  # 14 libraries, 2 of them projects
    assert found[0] == ("AWSSDK.Core", "3.7.10.6")
    assert ("TestLibrary", "1.0.0") not in found


def test_net8_single_file_skips_runtime_pack() -> None:
    found = _parse("net8-app-single-file.deps.json")
    assert len(found) == 51  # 53 libraries: 1 project, 1 runtimepack
    assert ("Humanizer", "2.14.1") in found
    assert not any(name.startswith("runtimepack.") for name, _ in found)


def test_without_runtime() -> None:
    found = _parse("without-runtime.deps.json")
    assert len(found) == 7
    assert found[0] == ("JsonDiffPatch", "2.0.61")


def test_sha512_in_extra() -> None:
    content = (FIXTURES / "dotnet/TestLibrary.deps.json").read_bytes()
    first = parse_deps_json("x", content)[0]
    assert first.extra["sha512"].startswith("sha512-kHBB+Qmos")
    assert first.extra["path"] == "awssdk.core/3.7.10.6"


@pytest.mark.parametrize(
    "content", [b"{", b'{"libraries": []}', b'{"libraries": {"x": {"type": "package"}}}']
)
def test_malformed(content: bytes) -> None:
    with pytest.raises(CorruptContentError) as info:
        parse_deps_json("app/app.deps.json", content)
    assert info.value.subject == "app/app.deps.json"
