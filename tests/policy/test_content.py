"""Content regexes: the bundle's patterns, and the visitor over real layer tars."""

from __future__ import annotations

from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import FileEntry, FileKind
from hullscan.policy.content import ContentRegexVisitor, content_patterns
from hullscan.policy.load import parse_bundle
from tests.policy.gates.context_helpers2 import read_layers
from tests.support.image_builder import File, LayerSpec, Whiteout

TOKEN = r"token=[a-z0-9]{6,}"
HOST = r"^host:\s*internal\.example$"


def test_visitor_keeps_only_matches_in_the_final_versions() -> None:
    visitor = ContentRegexVisitor([TOKEN, HOST, TOKEN], max_file_size=1000)
    layers = read_layers([
        LayerSpec([File("/app/kept.txt", b"token=abc123\n"),
                   File("/app/deleted.txt", b"token=zzz999\n"),
                   File("/app/replaced.txt", b"token=old000\n"),
                   File("/app/blob.bin", b"\x00\x01token=bin111\n"),
                   File("/app/big.txt", b"token=big222\n" + b"x" * 2000),
                   File("/etc/app.yaml", "# naïve\nhost: internal.example\n".encode())]),
        LayerSpec([Whiteout("/app/deleted.txt"),
                   File("/app/replaced.txt", b"token=\n"),
                   File("/app/new.txt", b"TOKEN=upper1 token=lower1\n")]),
    ], visitor)
    filesystem = SquashedFilesystem(layers)
    assert visitor.hits[TOKEN] >= {(0, "app/deleted.txt"), (0, "app/replaced.txt")}
    assert visitor.final_matches(filesystem.layer_of) == {
        TOKEN: ("app/kept.txt", "app/new.txt"),
        HOST: (),  # ^...$ without re.M: the line is not the whole file
    }
    multiline = ContentRegexVisitor(["(?m)" + HOST])
    read_layers([LayerSpec([File("/etc/app.yaml", b"a: 1\nhost: internal.example\n")])],
                multiline)
    assert multiline.final_matches({"etc/app.yaml": 0}.get) == {"(?m)" + HOST: (
        "etc/app.yaml",)}


def test_visitor_wants_regular_files_within_the_limit() -> None:
    def entry(kind: FileKind = FileKind.REGULAR, size: int = 10) -> FileEntry:
        return FileEntry("app/x", kind, size, 0o644, 0, 0, 0, None, 0)

    visitor = ContentRegexVisitor([TOKEN], max_file_size=100)
    assert visitor.wants(entry())
    assert not visitor.wants(entry(size=101)) and not visitor.wants(entry(size=0))
    assert not visitor.wants(entry(FileKind.DIRECTORY)) and not visitor.wants(
        entry(FileKind.SYMLINK))
    assert not ContentRegexVisitor([]).wants(entry())
    assert visitor.visit(entry(), b"token=abcdef") is False  # keeps no contents
    assert visitor.final_matches(lambda path: None) == {TOKEN: ()}


BUNDLE = b"""
id: b
version: "1"
policies:
  - id: one
    rules:
      - {gate: files, trigger: content_regex_match, params: {regex: "BEGIN .*KEY"}, action: STOP}
      - {gate: files, trigger: name_match, params: {regex: "not content"}, action: WARN}
  - id: two
    rules:
      - {gate: files, trigger: content_regex_match, params: {regex: "AKIA[0-9A-Z]{16}"},
         action: WARN}
      - {gate: files, trigger: content_regex_match, params: {regex: "BEGIN .*KEY"}, action: WARN}
"""


def test_content_patterns_of_a_bundle() -> None:
    bundle = parse_bundle(BUNDLE, "test.yaml")
    assert content_patterns(bundle) == ("BEGIN .*KEY", "AKIA[0-9A-Z]{16}")
    assert content_patterns(parse_bundle(BUNDLE.split(b"  - id: two")[0], "t.yaml")) == (
        "BEGIN .*KEY",)
