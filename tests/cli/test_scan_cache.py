"""``scan``/``sbom`` with the per-layer cache: warm output equals cold output byte for byte,
a warm registry scan downloads no layer, concurrent scans share one cache, changed secret
rules are not answered from the cache; ``hullscan cache status|clean``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from hullscan.image.acquire import open_image
from hullscan.image.push import PushTarget, push_image
from hullscan.image.registry.client import RegistryClient, RegistryOptions
from tests.cli.run_cli import HULLSCAN, CliRun, run_hullscan
from tests.support.cache_entries import image_entries, layer_entries
from tests.support.catalog_image import CatalogImage
from tests.support.fault_proxy import FaultProxy
from tests.support.image_builder import File, ImageSpec, LayerSpec, Whiteout, write_oci_layout
from tests.support.registry_servers import RegistryServer
from tests.support.vulnerable_image import VulnerableImage

# The session database of the vulnerability tests (built once from /work/shared/vulndata).
from tests.vuln.conftest import BuiltDatabase, built_database, vulndata  # noqa: F401

WIDGET = "widget-" + "0f1e2d3c" + "4b5a6978"  # matched by the custom rule below only
CHECKS = ("--scanners", "secret,config,file,license", "--no-policy", "--format", "json")


def _run(*args: str, cache: Path, cwd: Path) -> CliRun:
    return run_hullscan(*args, "--cache-dir", str(cache), cwd=cwd, tmpdir=None)


_EVALUATED_AT = re.compile(r'"evaluated_at": "[^"]*"')


def _ok(run: CliRun) -> str:
    """The output, without the policy's evaluation time (the one thing that may differ)."""
    assert run.code in (0, 1), run.stderr
    return _EVALUATED_AT.sub('"evaluated_at": "-"', run.stdout)


def _spec() -> ImageSpec:
    return ImageSpec([
        LayerSpec([File("/etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
                   File("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
                   File("/bin/busybox", b"\x7fELF" + bytes(64), mode=0o4755)],
                  created_by="ADD rootfs /"),
        LayerSpec([File("/app/settings.ini", f"token = {WIDGET}\n".encode()),
                   File("/app/id_rsa", b"not really a key\n", mode=0o600)],
                  created_by="COPY app /app"),
        LayerSpec([Whiteout("/app/id_rsa")], created_by="RUN rm /app/id_rsa"),
    ])


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> str:
    layout = tmp_path_factory.mktemp("scan-cache") / "layout"
    write_oci_layout(layout, {"planted:1": _spec()})
    return f"oci-dir:{layout}:planted:1"


def _with_policy(output: str) -> dict[str, Any]:
    """The document with the policy's triggers in a fixed order: their order varies from
    run to run with or without the cache (string hashing), their content does not."""
    document: dict[str, Any] = json.loads(output)
    triggered = document["policy"]["triggered"]
    document["policy"]["triggered"] = sorted(json.dumps(t, sort_keys=True) for t in triggered)
    return document


@pytest.mark.parametrize("which", ["vulnerable", "catalog"])
def test_warm_scan_is_byte_identical_to_cold(
        which: str, vulnerable_image: VulnerableImage, catalog_image: CatalogImage,
        built_database: BuiltDatabase, tmp_path: Path) -> None:  # noqa: F811
    image = vulnerable_image.target if which == "vulnerable" \
        else f"oci-dir:{catalog_image.layout}:{catalog_image.ref}"
    args = ("scan", image, "--db", str(built_database.path), "--format", "json")
    cache = tmp_path / "cache"
    uncached = _ok(run_hullscan(*args, "--no-policy", "--no-cache", cwd=tmp_path, tmpdir=None))
    assert not cache.exists()
    cold = _ok(_run(*args, "--no-policy", cache=cache, cwd=tmp_path))
    layers = len(layer_entries(cache))
    assert layers > 0 and len(image_entries(cache)) == 1
    entries = layers + 1
    warm = _ok(_run(*args, "--no-policy", cache=cache, cwd=tmp_path))
    assert warm == cold == uncached
    assert json.loads(warm)["packages"] > 0
    # With the policy: the same verdict and triggers (the one fingerprint serves both).
    policed = _with_policy(_ok(_run(*args, cache=cache, cwd=tmp_path)))
    assert policed == _with_policy(_ok(run_hullscan(*args, "--no-cache", cwd=tmp_path)))
    assert len(list(cache.glob("??/*.layer"))) == entries
    # sbom shares the cache (its own layer entries: it keeps fewer files) and agrees as well.
    sbom = ("sbom", image, "--output-format", "hullscan-json")
    cold_sbom = _ok(_run(*sbom, cache=cache, cwd=tmp_path))
    assert _ok(_run(*sbom, cache=cache, cwd=tmp_path)) == cold_sbom
    assert _ok(run_hullscan(*sbom, "--no-cache", cwd=tmp_path)) == cold_sbom
    assert len(list(cache.glob("??/*.layer"))) == entries + layers


@pytest.fixture
def pushed(registry_plain: RegistryServer, planted: str) -> str:
    """The planted image pushed to the plain registry; ``repo:tag``."""
    repository = f"cache/{uuid.uuid4().hex[:12]}"
    with open_image(planted) as source, \
            RegistryClient(registry_plain.host, options=RegistryOptions()) as client:
        push_image(source, PushTarget(client, repository, "v1"))
    return f"{repository}:v1"


def _blob_gets(proxy: FaultProxy) -> list[str]:
    return [r.path.rpartition("/")[2] for r in proxy.requests
            if r.method == "GET" and "/blobs/" in r.path]


def test_warm_registry_scan_downloads_only_manifest_and_config(
        pushed: str, fault_proxy: FaultProxy, tmp_path: Path) -> None:
    image = f"registry:{fault_proxy.host}/{pushed}"
    cache = tmp_path / "cache"
    cold = _ok(_run("scan", image, *CHECKS, cache=cache, cwd=tmp_path))
    cold_blobs = _blob_gets(fault_proxy)
    assert len(set(cold_blobs)) == 4  # config and three layers
    fault_proxy.clear_requests()
    warm = _ok(_run("scan", image, *CHECKS, cache=cache, cwd=tmp_path))
    assert warm == cold
    config = json.loads(warm)["image"]["image_id"]
    assert _blob_gets(fault_proxy) == [config]
    assert all("/manifests/" in r.path or "/blobs/" in r.path or r.path.rstrip("/") == "/v2"
               for r in fault_proxy.requests)


def test_concurrent_scans_share_one_cache(planted: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    command = [str(HULLSCAN), "scan", planted, *CHECKS, "--cache-dir", str(cache)]
    runs = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=os.environ.copy()) for _ in range(3)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode in (0, 1) for run in runs), [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1  # --no-policy: no evaluation time
    assert len(layer_entries(cache)) == 3 and len(image_entries(cache)) == 1
    assert list((cache / "tmp").iterdir()) == []
    assert _ok(_run("scan", planted, *CHECKS, cache=cache, cwd=tmp_path)) == \
        outputs[0][0].decode()


def _secret_ids(output: str) -> set[str]:
    document: dict[str, Any] = json.loads(output)
    return {check["rule_id"] for check in document["checks"] if check["category"] == "secret"}


def test_changed_secret_rules_are_not_answered_from_the_cache(planted: str,
                                                              tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    config = tmp_path / "hullscan.yaml"
    config.write_text("secrets: {}\n")
    before = _ok(_run("scan", planted, *CHECKS, "--config", str(config), cache=cache,
                      cwd=tmp_path))
    assert "WIDGET-TOKEN" not in _secret_ids(before)
    config.write_text("secrets:\n  rules:\n    - id: WIDGET-TOKEN\n"
                      "      regex: 'widget-[0-9a-f]{16}'\n      keywords: [widget-]\n")
    after = _ok(_run("scan", planted, *CHECKS, "--config", str(config), cache=cache,
                     cwd=tmp_path))
    assert "WIDGET-TOKEN" in _secret_ids(after)
    config.write_text(config.read_text() + "  allow:\n    - rule: WIDGET-TOKEN\n"
                      "      reason: test widget\n")
    allowed = _ok(_run("scan", planted, *CHECKS, "--config", str(config), cache=cache,
                       cwd=tmp_path))
    assert "WIDGET-TOKEN" not in _secret_ids(allowed)


def test_cache_status_and_clean(planted: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _ok(_run("scan", planted, *CHECKS, cache=cache, cwd=tmp_path))
    status = run_hullscan("cache", "status", "--cache-dir", str(cache), cwd=tmp_path)
    assert status.code == 0, status.stderr
    assert str(cache) in status.stdout and "entries    4" in status.stdout  # 3 layers, 1 image
    env = {"HULLSCAN_CACHE_DIR": str(cache)}
    cleaned = run_hullscan("cache", "clean", cwd=tmp_path, env=env)
    assert cleaned.code == 0 and "removed 4" in cleaned.stdout, cleaned.stderr
    assert "entries    0" in run_hullscan("cache", "status", cwd=tmp_path, env=env).stdout
    # --no-cache neither reads nor writes.
    _ok(run_hullscan("scan", planted, *CHECKS, "--no-cache", cwd=tmp_path, env=env))
    assert list(cache.glob("??/*.layer")) == []
    bad = run_hullscan("scan", planted, *CHECKS, "--cache-max-size", "lots", cwd=tmp_path,
                       env=env)
    assert bad.code == 2 and "--cache-max-size" in bad.stderr
