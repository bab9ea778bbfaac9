"""Hostile images: each gives exit code 2 with one clear line, or a safe scan; nothing is
written outside the tool's private temporary directory; memory and time stay bounded."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.run_cli import CliRun, run_measured
from tests.support.hostile import (
    DEEP_LEVELS,
    HOSTILE_BUILDERS,
    INVALID_UTF8_NAMES,
    JAR_NESTING,
    MANY_LAYERS,
)

MEMORY_BOUND_MIB = 400
TIME_BOUND_S = 90
"""A hang guard: each case takes under ~25 s on two busy cores."""

COMMAND_ARGS = {
    "inspect": ("--format", "json"),
    "sbom": ("--output-format", "hullscan-json", "--no-cache"),
    "scan": ("--format", "json", "--no-cache", "--no-policy", "--scanners", "file,secret,config"),
}
"""How each command is asked for JSON on stdout (and kept from writing a layer cache)."""


@dataclass(frozen=True)
class Outcome:
    """What hullscan must do with one hostile image: an error matching ``error`` or success."""

    error: str | None
    extra_args: tuple[str, ...] = ()
    command: str = "inspect"
    """``inspect`` reads the layers; ``sbom`` also runs the catalogers, ``scan`` the checks."""


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
    "zstd_bomb": Outcome("decompression bomb"),
    "truncated_zstd": Outcome("zstd stream is truncated"),
    "half_million_files": Outcome(None),
    "deep_directories": Outcome(None, command="scan"),
    "long_file_names": Outcome(None, command="scan"),
    "device_files": Outcome(None, command="scan"),
    "many_layers": Outcome(f"more than 1000 layers ({MANY_LAYERS}"),
    "giant_history": Outcome("more than the 8388608 allowed"),
    "long_history": Outcome("field 'history' has more than 10000 entries"),
    "nested_jars": Outcome(None, command="sbom"),
    "jar_zip_bomb": Outcome(None, command="sbom"),
    "rpmdb_huge_header": Outcome(None, command="sbom"),
}


def test_every_hostile_builder_has_a_defined_outcome() -> None:
    assert set(OUTCOMES) == set(HOSTILE_BUILDERS)


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


_BUILT: dict[tuple[Path, str], tuple[Path, str]] = {}
_RUNS: dict[tuple[Path, str, str, tuple[str, ...], tuple[tuple[str, str], ...]],
            tuple[CliRun, Path]] = {}


def _build(name: str, hostile_dir: Path) -> tuple[Path, str]:
    """Each hostile layout once per module (some take seconds to write)."""
    key = (hostile_dir, name)
    if key not in _BUILT:
        _BUILT[key] = HOSTILE_BUILDERS[name](hostile_dir)
    return _BUILT[key]


def _run(name: str, hostile_dir: Path, tmp_path: Path, *args: str, command: str = "inspect",
         env: dict[str, str] | None = None) -> tuple[CliRun, Path]:
    """Run ``command`` on a hostile image once per module (the slow ones take 20 s), checking
    what it wrote, its peak memory and its time."""
    key = (hostile_dir, name, command, args, tuple(sorted((env or {}).items())))
    if key in _RUNS:
        return _RUNS[key]
    layout, ref = _build(name, hostile_dir)
    # Folders of their own: a test may run two commands on one image (``_document``).
    work = Path(tempfile.mkdtemp(prefix="cwd-", dir=tmp_path))
    private = Path(tempfile.mkdtemp(prefix="private-tmp-", dir=tmp_path))
    before = _snapshot(hostile_dir)
    started = time.monotonic()
    result = run_measured(command, f"oci-dir:{layout}:{ref}", *COMMAND_ARGS[command], *args,
                          cwd=work, tmpdir=private, env=env)
    elapsed = time.monotonic() - started
    assert _snapshot(hostile_dir) == before, "the layout's folder changed"
    assert not any(work.iterdir()), "something was written to the working directory"
    assert not any(private.iterdir()), "the private temporary directory was not cleaned"
    for escaped in (Path("/evil.txt"), Path("/etc/evil"), Path("/tmp/pwned"),
                    hostile_dir.parent / "evil.txt", tmp_path / "evil.txt"):
        assert not escaped.exists(), escaped
    assert result.max_rss_mib < MEMORY_BOUND_MIB, f"{name}: {result.max_rss_mib:.0f} MiB"
    assert elapsed < TIME_BOUND_S, f"{name}: {elapsed:.0f} s"
    _RUNS[key] = result, layout
    return result, layout


def _document(name: str, hostile_dir: Path, tmp_path: Path, *args: str,
              env: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON output of a safe scan of ``name`` with its outcome's command."""
    result, _ = _run(name, hostile_dir, tmp_path, *args, command=OUTCOMES[name].command,
                     env=env)
    assert result.code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_hostile_image(name: str, hostile_dir: Path, tmp_path: Path) -> None:
    outcome = OUTCOMES[name]
    result, layout = _run(name, hostile_dir, tmp_path, *outcome.extra_args,
                          command=outcome.command)
    if outcome.error is None:
        assert result.code == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["layers" if outcome.command == "inspect" else "image"], name
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


def test_half_million_files_fit_the_default_limit(hostile_dir: Path, tmp_path: Path) -> None:
    (layer,) = _document("half_million_files", hostile_dir, tmp_path)["layers"]
    assert layer["files"] == 500_000 + 500  # and the 500 directories


def test_half_million_files_refused_by_a_lower_limit(hostile_dir: Path, tmp_path: Path) -> None:
    result, _ = _run("half_million_files", hostile_dir, tmp_path, "--max-files", "400000")
    assert result.code == 2
    assert "more than 400000 files" in result.stderr


def test_many_layers_scan_safely_when_the_limit_is_raised(hostile_dir: Path,
                                                          tmp_path: Path) -> None:
    layers = _document("many_layers", hostile_dir, tmp_path,
                       env={"HULLSCAN_MAX_LAYERS": str(MANY_LAYERS)})["layers"]
    assert len(layers) == MANY_LAYERS
    assert all(layer["files"] == 2 for layer in layers)  # layers/ and its file


def test_deep_directories_read_to_the_bottom(hostile_dir: Path, tmp_path: Path) -> None:
    result, _ = _run("deep_directories", hostile_dir, tmp_path)
    assert result.code == 0, result.stderr
    (layer,) = json.loads(result.stdout)["layers"]
    assert layer["files"] == 4


def test_deep_directories_files_are_checked(hostile_dir: Path, tmp_path: Path) -> None:
    checks = _document("deep_directories", hostile_dir, tmp_path)["checks"]
    deep = [check for check in checks if check["rule_id"] == "HS-FILE-SENSITIVE-NAME"]
    assert [check["path"].count("/") for check in deep] == [DEEP_LEVELS]


def test_long_and_invalid_names_are_escaped_in_json(hostile_dir: Path, tmp_path: Path) -> None:
    result, _ = _run("long_file_names", hostile_dir, tmp_path, command="scan")
    assert result.code == 0, result.stderr
    assert result.stdout.isascii()
    paths = {check["path"] for check in json.loads(result.stdout)["checks"]
             if check["rule_id"] == "HS-FILE-SENSITIVE-NAME"}
    assert len(paths) == 4
    assert max(len(path) for path in paths) == 5_000 + len("/id_rsa")
    for raw in INVALID_UTF8_NAMES:  # undecodable bytes shown as \xNN, never dropped
        prefix = raw.decode("utf-8", "backslashreplace")
        assert "\\x" in prefix
        assert any(path.startswith(prefix) for path in paths), prefix


def test_invalid_names_in_an_sbom(hostile_dir: Path, tmp_path: Path) -> None:
    result, _ = _run("long_file_names", hostile_dir, tmp_path, command="sbom",
                     env={"PYTHONIOENCODING": "utf-8"})
    assert result.code == 0, result.stderr
    json.loads(result.stdout)


def test_device_files_are_entries_not_nodes(hostile_dir: Path, tmp_path: Path) -> None:
    result, _ = _run("device_files", hostile_dir, tmp_path)
    assert result.code == 0, result.stderr
    (layer,) = json.loads(result.stdout)["layers"]
    assert layer["files"] == 9  # dev/, tmp/, etc/, five nodes and one file
    # The FIFO at /etc/passwd was never opened (that would block) nor read as accounts.
    checks = _document("device_files", hostile_dir, tmp_path)["checks"]
    assert not [check for check in checks if check["rule_id"].startswith("HS-FILE-PASSWD")]


def test_nested_jars_stop_at_the_depth_limit(hostile_dir: Path, tmp_path: Path) -> None:
    document = _document("nested_jars", hostile_dir, tmp_path)
    names = {package["name"] for package in document["packages"]}
    assert names == {f"level{level}" for level in range(17)}  # MAX_DEPTH 16 and the top
    (anomaly,) = document["anomalies"]
    assert "read it only in part" in anomaly
    assert "archives nested deeper than 16" in anomaly
    assert JAR_NESTING > 16


def test_jar_zip_bomb_is_bounded(hostile_dir: Path, tmp_path: Path) -> None:
    document = _document("jar_zip_bomb", hostile_dir, tmp_path)
    assert [package["name"] for package in document["packages"]] == ["bomb"]
    (anomaly,) = document["anomalies"]
    assert "lib/inner.jar: nested archives hold more than" in anomaly


def test_rpmdb_bad_headers_are_skipped(hostile_dir: Path, tmp_path: Path) -> None:
    document = _document("rpmdb_huge_header", hostile_dir, tmp_path)
    names = {package["name"] for package in document["packages"]}
    assert names == {"good-before", "good-after"}
    anomalies = " ".join(document["anomalies"])
    assert "header 2 skipped: rpm header: header index count 2147483647 out of range" \
        in anomalies
    assert "(and 3 more)" in anomalies
    assert "no Packages table" in anomalies  # the endless view was never queried
