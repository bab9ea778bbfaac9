"""The squashed view: whiteouts, opaque directories, layer attribution, confined symlinks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.image.filesystem import SquashedFilesystem, SymlinkLoopError
from tests.image.layer_helpers import Member, read

WANTED = ("etc/os-release", "usr/lib/os-release", "app/cfg/a.conf", "app/cfg/new.conf")


def _layers() -> SquashedFilesystem:
    base = read([Member("usr/lib/os-release", b"ID=debian\n"),
                 Member("etc/os-release", symlink="../usr/lib/os-release"),
                 Member("app/data/a.txt", b"a"), Member("app/data/b.txt", b"b"),
                 Member("app/cfg/a.conf", b"old"), Member("app/cfg/keep.conf", b"k"),
                 Member("app/dir/", directory=True), Member("app/dir/inner", b"i")],
                index=0, wanted=WANTED)
    middle = read([Member("app/data/.wh.a.txt", b""), Member("app/cfg/.wh..wh..opq", b""),
                   Member("app/cfg/new.conf", b"new"), Member("app/data/b.txt", b"B2"),
                   Member("app/dir", b"now a file")], index=1, wanted=WANTED)
    return SquashedFilesystem([base, middle])


def test_whiteouts_delete_and_later_layers_own_what_they_write() -> None:
    fs = _layers()
    assert fs.entry("app/data/a.txt") is None
    assert fs.layer_of("app/data/b.txt") == 1
    assert fs.layer_of("usr/lib/os-release") == 0
    assert fs.listdir("app/data") == ["b.txt"]


def test_opaque_directory_hides_everything_below_from_lower_layers() -> None:
    fs = _layers()
    assert fs.listdir("app/cfg") == ["new.conf"]
    assert fs.read("app/cfg/new.conf") == b"new"
    assert fs.read("app/cfg/a.conf") is None


def test_a_file_replacing_a_directory_removes_its_children() -> None:
    fs = _layers()
    assert fs.entry("app/dir/inner") is None
    assert fs.layer_of("app/dir") == 1


def test_symlinks_resolve_within_the_root() -> None:
    fs = _layers()
    assert fs.resolve("etc/os-release") == "usr/lib/os-release"
    assert fs.read("/etc/os-release") == b"ID=debian\n"


def test_escaping_symlinks_are_clamped_at_the_root() -> None:
    layer = read([Member("etc/passwd", symlink="../../../../../host/etc/passwd"),
                  Member("link", symlink="/tmp"), Member("abs", symlink="/etc/../../x")])
    fs = SquashedFilesystem([layer])
    assert fs.resolve("etc/passwd") == "host/etc/passwd"
    assert fs.resolve("link/pwned") == "tmp/pwned"
    assert fs.resolve("abs") == "x"
    assert fs.read("etc/passwd") is None


@pytest.mark.parametrize("path", ["a", "loop/x", "self"])
def test_symlink_loops_are_detected(path: str) -> None:
    layer = read([Member("a", symlink="b"), Member("b", symlink="a"),
                  Member("loop", symlink="loop/x"), Member("self", symlink="./self")])
    fs = SquashedFilesystem([layer], max_link_hops=40)
    with pytest.raises(SymlinkLoopError, match="too many levels"):
        fs.resolve(path)


def test_implied_parent_directories_exist() -> None:
    fs = SquashedFilesystem([read([Member("deep/er/file", b"x")])])
    assert fs.exists("deep") and fs.exists("deep/er/file") and not fs.exists("nope")
    assert len(fs) == 1


def _reference_resolve(fs: SquashedFilesystem, path: str, max_hops: int = 40) -> str:
    """Resolution component by component, with no memo (the definition resolve() must meet)."""
    from hullscan.image.layer import FileKind
    from hullscan.image.paths import join_confined

    pending = [p for p in path.split("/") if p]
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        entry = fs.entry("/".join([*resolved, part]))
        if entry is not None and entry.kind is FileKind.SYMLINK and entry.link_target:
            hops += 1
            if hops > max_hops:
                raise SymlinkLoopError(path)
            pending = join_confined("/".join(resolved), entry.link_target) + pending
            resolved = []
            continue
        resolved.append(part)
    return "/".join(resolved)


_NAMES = ("a", "b", "c", "..", ".")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.lists(st.sampled_from(_NAMES[:3]), min_size=1, max_size=3),
                          st.one_of(st.none(), st.lists(st.sampled_from(_NAMES), min_size=1,
                                                        max_size=4)), st.booleans()),
                max_size=8),
       st.lists(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=5), min_size=1,
                max_size=10))
def test_memoised_resolution_agrees_with_walking_every_component(
        links: list[tuple[list[str], list[str] | None, bool]],
        queries: list[list[str]]) -> None:
    members, seen = [], set()
    for parts, target, absolute in links:
        name = "/".join(parts)
        if name in seen:
            continue
        seen.add(name)
        if target is None:
            members.append(Member(name, b"x"))
        else:
            members.append(Member(name, symlink=("/" if absolute else "") + "/".join(target)))
    fs = SquashedFilesystem([read(members, index=0, wanted=())], max_link_hops=40)
    for query in queries:
        path = "/".join(query)
        try:
            expected: str | None = _reference_resolve(fs, path)
        except SymlinkLoopError:
            expected = None
        try:
            actual: str | None = fs.resolve(path)
        except SymlinkLoopError:
            actual = None
        assert actual == expected, (path, members)
