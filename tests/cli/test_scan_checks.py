"""Issue 5's planted-problems image, scanned through the CLI: every problem reported in the
right layer, the deleted key marked as still retrievable. Secrets are assembled at run time
from parts so that the repository itself holds none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.run_cli import run_hullscan
from tests.support.image_builder import (
    Directory,
    File,
    History,
    ImageSpec,
    LayerSpec,
    Whiteout,
    write_oci_layout,
)

AWS_KEY_ID = "AKIA" + "QX7T" + "R2MZ" + "K6WB" + "4HND"  # base32, as AWS writes them
AWS_SECRET = "wJ8s" + "Q2lP" + "x9Vt" + "N4kR" + "m7Yc" + "B1zH" + "e6Gu" + "L3fD" + "a0Ko" + "p5Wn"
GITHUB_TOKEN = ("ghp_" + "k8Jw" + "3NqL" + "x7Vc" + "2RtB" + "m9Ys" + "P4hD" + "f6Gz" + "Q1aE"
                + "u5Ti")
RSA_KEY = ("-----BEGIN RSA PRIVATE " + "KEY-----\n" + "MIIEowIBAAKCAQEA" + "q" * 60 + "\n"
           + "-----END RSA PRIVATE " + "KEY-----\n")
ARG_TOKEN = "glpat-" + "Xy7" + "Kq2" + "Wm9" + "Lp4" + "Rz8" + "Tn3" + "Vb"


def _spec() -> ImageSpec:
    credentials = f"[default]\naws_access_key_id = {AWS_KEY_ID}\n" \
                  f"aws_secret_access_key = {AWS_SECRET}\n".encode()
    layers = [
        LayerSpec([File("/etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
                   File("/bin/busybox", b"\x7fELF" + bytes(64), mode=0o755),
                   Directory("/tmp", mode=0o1777)],
                  created_by="ADD alpine-minirootfs.tar.gz / # buildkit"),
        LayerSpec([File("/root/.aws/credentials", credentials, mode=0o600)],
                  created_by="COPY credentials /root/.aws/credentials # buildkit"),
        LayerSpec([Whiteout("/root/.aws/credentials")],
                  created_by="RUN /bin/sh -c rm /root/.aws/credentials # buildkit"),
        LayerSpec([File("/opt/app/deploy_key", RSA_KEY.encode(), mode=0o600)],
                  created_by="COPY deploy_key /opt/app/ # buildkit"),
        LayerSpec([File("/usr/local/bin/helper", b"#!/bin/sh\necho hi\n", mode=0o4755),
                   Directory("/srv/shared", mode=0o777)],
                  created_by=f"RUN |1 CI_TOKEN={ARG_TOKEN} /bin/sh -c chmod u+s "
                             "/usr/local/bin/helper # buildkit"),
        LayerSpec([File("/opt/app/installer.sh", b"#!/bin/sh\nexit 0\n", mode=0o755)],
                  created_by="ADD https://example.invalid/installer.sh /opt/app/ # buildkit"),
    ]
    history = [History(layer.created_by) for layer in layers]
    history.insert(1, History("ENV PASSWORD=hunter2-production GITHUB_TOKEN=...",
                              empty_layer=True))
    return ImageSpec(layers=layers, user=None, history=history,
                     env=("PATH=/usr/bin:/bin", "PASSWORD=hunter2-production-9F3k",
                          f"GITHUB_TOKEN={GITHUB_TOKEN}"),
                     exposed_ports=("22/tcp", "8080/tcp"))


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("planted")
    write_oci_layout(work / "layout", {"planted:1": _spec()})
    result = run_hullscan("scan", f"oci-dir:{work / 'layout'}:planted:1", "--format", "json",
                          "--scanners", "secret,config,file", cwd=work)
    # The built-in policy stops on secrets: exit 1, with the reasons in the report.
    assert result.code == 1, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["policy"]["final_action"] == "STOP"
    assert any(t["gate"] == "secret_scans" and t["effective_action"] == "STOP"
               for t in document["policy"]["triggered"])
    assert not any(secret in result.stdout for secret in
                   (AWS_SECRET, AWS_KEY_ID, GITHUB_TOKEN, ARG_TOKEN, "hunter2-production-9F3k")), \
        "a secret's value reached the output"
    return document


def _find(document: dict[str, Any], rule_prefix: str, **where: object) -> list[dict[str, Any]]:
    return [c for c in document["checks"] if c["rule_id"].startswith(rule_prefix)
            and all(c.get(key) == value for key, value in where.items())]


def test_the_deleted_aws_key_is_still_retrievable_from_layer_1(scan: dict[str, Any]) -> None:
    found = _find(scan, "HS-SEC-AWS", path="root/.aws/credentials")
    assert found, scan["checks"]
    for check in found:
        assert check["layer"]["index"] == 1
        assert check["deleted"] is True and check["deleted_by"]["index"] == 2
        assert check["category"] == "secret"


def test_private_key_in_its_layer(scan: dict[str, Any]) -> None:
    [check] = _find(scan, "HS-SEC-PRIVATE-KEY", path="opt/app/deploy_key")
    assert check["layer"]["index"] == 3 and check["deleted"] is False


def test_secrets_in_env_and_build_arguments(scan: dict[str, Any]) -> None:
    env_keys = {c["config_key"] for c in scan["checks"] if c["category"] == "secret"
                and (c["config_key"] or "").startswith("Env[")}
    assert {"Env[PASSWORD]", "Env[GITHUB_TOKEN]"} <= env_keys
    history = [c for c in scan["checks"] if c["category"] == "secret"
               and (c["config_key"] or "").startswith("history[")]
    assert any(c["layer"] and c["layer"]["index"] == 4 for c in history), history


def test_file_problems_in_their_layers(scan: dict[str, Any]) -> None:
    [setuid] = _find(scan, "HS-FILE-SETUID", path="usr/local/bin/helper")
    assert setuid["layer"]["index"] == 4
    writable = _find(scan, "HS-FILE-WORLD-WRITABLE", path="srv/shared")
    assert writable and writable[0]["layer"]["index"] == 4
    assert not _find(scan, "HS-FILE-WORLD-WRITABLE", path="tmp")  # sticky /tmp is fine


def test_config_problems(scan: dict[str, Any]) -> None:
    rules = {c["rule_id"]: c for c in scan["checks"] if c["category"] == "config"}
    assert "HS-CFG-001" in rules                      # root user
    assert rules["HS-CFG-003"]["config_key"] == "ExposedPorts[22/tcp]"
    remote_add = rules["HS-CFG-005"]
    assert remote_add["layer"]["index"] == 5 and "history[" in remote_add["config_key"]


def test_clean_real_image_has_no_secret_findings(catalog_image: Any, tmp_path: Path) -> None:
    """The catalog test image (debootstrap Debian base, a venv of real PyPI packages, an
    npm-installed node_modules, jars, a Go binary): what a clean build really contains."""
    result = run_hullscan("scan", f"oci-dir:{catalog_image.layout}:{catalog_image.ref}",
                          "--format", "json", "--scanners", "secret", cwd=tmp_path)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["checks"] == []
    # What was scanned: all 7 layers' regular files, among them those of the 207 packages
    # catalogued (88 deb, 95 npm, 12 maven, 10 pypi, 2 golang).
    assert document["packages"] >= 200


def test_check_findings_count_for_fail_on(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "layout", {"planted:1": _spec()})
    image = f"oci-dir:{tmp_path / 'layout'}:planted:1"
    gated = run_hullscan("scan", image, "--scanners", "secret", "--fail-on", "critical",
                         "--format", "json", cwd=tmp_path)
    assert gated.code == 1, gated.stderr           # the AWS and GitHub secrets are Critical
    files_only = run_hullscan("scan", image, "--scanners", "file", "--fail-on", "critical",
                              "--format", "json", cwd=tmp_path)
    assert files_only.code == 0, files_only.stderr  # no file finding is Critical


@pytest.mark.parametrize("command", [
    ("inspect", "--format", "json"),
    ("sbom", "-o", "hullscan-json"),
    ("sbom", "-o", "cyclonedx-json"),
    ("sbom", "-o", "spdx-tag-value"),
])
def test_no_output_shows_a_secret_from_the_image_metadata(tmp_path: Path,
                                                          command: tuple[str, ...]) -> None:
    write_oci_layout(tmp_path / "layout", {"planted:1": _spec()})
    result = run_hullscan(command[0], f"oci-dir:{tmp_path / 'layout'}:planted:1", *command[1:],
                          cwd=tmp_path)
    assert result.code == 0, result.stderr
    for secret in (ARG_TOKEN, GITHUB_TOKEN, "hunter2-production-9F3k"):
        assert secret not in result.stdout, (command, secret[:6])
    # The build step is still shown, with the argument's value redacted.
    assert "CI_TOKEN=glpa" in result.stdout and "sha256:" in result.stdout
