"""The squashed view: whiteouts, opaque directories, layer attribution, confined symlinks."""

from __future__ import annotations

import pytest

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
