"""Real, clean content: no false positives, and how fast the scanner reads text."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullscan.checks.secrets import SecretVisitor, scan_bytes
from hullscan.checks.secrets.scanner import is_binary
from hullscan.image.layer import FileEntry, FileKind

REPO = Path(__file__).resolve().parents[3]
DEBIAN_ROOTFS = REPO / ".test-cache" / "debian-bookworm-minbase" / "rootfs"
SITE_PACKAGES = Path(sys.prefix) / "lib"  # the venv's site-packages


def regular_files(root: Path) -> Iterator[Path]:
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                yield path


def clean_roots() -> list[Path]:
    roots = [Path("/usr/lib/python3/dist-packages"), SITE_PACKAGES, Path("/usr/share/doc")]
    return [root for root in roots if root.is_dir()]


def test_no_findings_on_real_clean_content() -> None:
    roots = clean_roots()
    if not roots:
        pytest.skip("no installed packages or documentation to scan")
    visitor = SecretVisitor()
    for root in roots:
        for path in regular_files(root):
            name = str(path.resolve()).lstrip("/")
            entry = FileEntry(name, FileKind.REGULAR, path.stat().st_size, 0o644, 0, 0, 0,
                              None, 0)
            if visitor.wants(entry):
                visitor.visit(entry, path.read_bytes())
    found = [f"{path}:{hit.line} {hit.rule.id} {hit.evidence}"
             for (_, path), hits in visitor.hits.items() for hit in hits]
    assert visitor.bytes_scanned > 0
    assert found == []


def realistic_text(target: int) -> list[tuple[str, bytes]]:
    roots = [DEBIAN_ROOTFS / "usr/share", DEBIAN_ROOTFS / "etc",
             *sorted(Path("/usr/lib").glob("python3*")), Path("/usr/share")]
    corpus: list[tuple[str, bytes]] = []
    size = 0
    for root in (r for r in roots if r.is_dir()):
        for path in regular_files(root):
            if path.stat().st_size > 4 * 1024 * 1024:
                continue
            content = path.read_bytes()
            if not content or is_binary(content):
                continue
            corpus.append((str(path).lstrip("/"), content))
            size += len(content)
            if size >= target // 4:
                break
        if size >= target // 4:
            break
    if not corpus:
        return []
    out: list[tuple[str, bytes]] = []
    total = 0
    while total < target:
        for item in corpus:
            out.append(item)
            total += len(item[1])
    return out


def test_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    """Measure (no assertion on time): MB/s over about 50 MB of real text files."""
    corpus = realistic_text(50 * 1000 * 1000)
    if not corpus:
        pytest.skip("no text files to measure with")
    total = sum(len(content) for _, content in corpus)
    start = time.perf_counter()
    hits = sum(len(scan_bytes(path, content)) for path, content in corpus)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nsecret scan: {total / 1e6:.1f} MB in {elapsed:.2f} s = "
              f"{total / 1e6 / elapsed:.1f} MB/s ({len(corpus)} files, {hits} hits)")
    assert total >= 50 * 1000 * 1000
