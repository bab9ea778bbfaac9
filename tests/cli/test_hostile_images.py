"""Hostile images: each gives exit code 2 with one clear line, or a safe scan; nothing is
written outside the tool's private temporary directory; memory stays bounded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.run_cli import CliRun, run_measured
from tests.support.hostile import HOSTILE_BUILDERS

MEMORY_BOUND_MIB = 400


@dataclass(frozen=True)
class Outcome:
    """What hullscan must do with one hostile image: an error matching ``error`` or success."""

    error: str | None
    extra_args: tuple[str, ...] = ()


OUTCOMES = {
    "path_traversal": Outcome("escapes the image root"),
    "absolute_path": Outcome(None),
    "symlink_escape": Outcome(None),
    "hardlink_escape": Outcome("escapes the image root"),
    "symlink_loop": Outcome(None),
    "gzip_bomb": Outcome("decompression bomb"),
    "many_files": Outcome(None),
    "truncated_gzip": Outcome("truncated"),
    "tampered_blob": Outcome("expected sha256:"),
    "missing_config": Outcome("missing"),
    "invalid_config_json": Outcome("not valid JSON"),
    "unknown_layer_media_type": Outcome("unsupported media type"),
    "schema1_manifest": Outcome("schema 1"),
    "diff_id_mismatch": Outcome("diff ID"),
}


def test_every_hostile_builder_has_a_defined_outcome() -> None:
    assert set(OUTCOMES) == set(HOSTILE_BUILDERS)


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


_BUILT: dict[tuple[Path, str], tuple[Path, str]] = {}


def _build(name: str, hostile_dir: Path) -> tuple[Path, str]:
    """Each hostile layout once per module (some take seconds to write)."""
    key = (hostile_dir, name)
    if key not in _BUILT:
        _BUILT[key] = HOSTILE_BUILDERS[name](hostile_dir)
    return _BUILT[key]


def _run(name: str, hostile_dir: Path, tmp_path: Path, *args: str) -> tuple[CliRun, Path]:
    layout, ref = _build(name, hostile_dir)
    work = tmp_path / "cwd"
    private = tmp_path / "private-tmp"
    work.mkdir()
    private.mkdir()
    before = _snapshot(hostile_dir)
    result = run_measured("inspect", f"oci-dir:{layout}:{ref}", "--format", "json", *args,
                          cwd=work, tmpdir=private)
    assert _snapshot(hostile_dir) == before, "the layout's folder changed"
    assert not any(work.iterdir()), "something was written to the working directory"
    assert not any(private.iterdir()), "the private temporary directory was not cleaned"
    for escaped in (Path("/evil.txt"), Path("/etc/evil"), Path("/tmp/pwned"),
                    hostile_dir.parent / "evil.txt", tmp_path / "evil.txt"):
        assert not escaped.exists(), escaped
    assert result.max_rss_mib < MEMORY_BOUND_MIB, f"{name}: {result.max_rss_mib:.0f} MiB"
    return result, layout


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_hostile_image(name: str, hostile_dir: Path, tmp_path: Path) -> None:
    outcome = OUTCOMES[name]
    result, layout = _run(name, hostile_dir, tmp_path, *outcome.extra_args)
    if outcome.error is None:
        assert result.code == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["layers"], name
        return
    assert result.code == 2, (result.code, result.stdout[:500], result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hullscan: error: ")
    assert str(layout) in lines[0], "the message must name the image"
    assert outcome.error in lines[0], lines[0]


def test_safe_scans_confine_what_they_saw(hostile_dir: Path, tmp_path: Path) -> None:
    result, _ = _run("absolute_path", hostile_dir, tmp_path)
    assert result.code == 0
    # The absolute entry counted as a file of the image (confined), not skipped silently.
    assert json.loads(result.stdout)["layers"][0]["files"] >= 1


def test_file_count_limit_refuses_many_files(hostile_dir: Path, tmp_path: Path) -> None:
    result, _ = _run("many_files", hostile_dir, tmp_path, "--max-files", "100000")
    assert result.code == 2
    assert "more than 100000 files" in result.stderr


def test_byte_limit_refuses_large_images(hostile_dir: Path, tmp_path: Path) -> None:
    result, _ = _run("many_files", hostile_dir, tmp_path, "--max-image-bytes", "1MiB")
    assert result.code == 2
    assert "decompressed bytes" in result.stderr
