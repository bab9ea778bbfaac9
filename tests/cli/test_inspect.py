"""``hullscan inspect`` end to end: output formats, credentials from every source, errors."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from hullscan.image.acquire import open_image
from hullscan.image.push import PushTarget, push_image
from hullscan.image.registry.client import RegistryClient, RegistryOptions
from hullscan.image.registry.credentials import RegistryCredentials
from tests.cli.run_cli import run_hullscan
from tests.support.registry_servers import RegistryServer
from tests.support.standard_images import ImageFacts, ImageFormats


@pytest.fixture(scope="module")
def basic_repo(registry_basic: RegistryServer, small_image_formats: ImageFormats) -> str:
    """The small image pushed to the Basic-auth registry; returns its reference."""
    credentials = RegistryCredentials(registry_basic.username, registry_basic.password, None, "t")
    with open_image(f"oci-dir:{small_image_formats.oci_layout}:{small_image_formats.ref}") as src, \
            RegistryClient(registry_basic.host, credentials=credentials) as client:
        push_image(src, PushTarget(client, "cli/small", "1"))
    return f"{registry_basic.host}/cli/small:1"


def test_table_output(tmp_path: Path, debian_image_formats: ImageFormats,
                      debian_image_facts: ImageFacts) -> None:
    result = run_hullscan("inspect", f"oci-dir:{debian_image_formats.oci_layout}:"
                          f"{debian_image_formats.ref}", cwd=tmp_path,
                          env={"COLUMNS": "200"})
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "Debian GNU/Linux 12 (bookworm)" in out
    assert "APP_MODE" in out and "production" not in out.split("Env")[1].split("\n")[0]
    assert "8080/tcp" in out
    for created_by, empty in debian_image_facts.history:
        if not empty:
            assert created_by[:40] in out


def test_json_output_to_a_file(tmp_path: Path, debian_image_formats: ImageFormats,
                               debian_image_facts: ImageFacts) -> None:
    target = tmp_path / "out.json"
    result = run_hullscan("inspect", str(debian_image_formats.docker_archive_legacy),
                          "--format", "json", "-o", str(target), cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    document = json.loads(target.read_text())
    assert document["source"] == "docker-archive"
    assert document["distro"]["id"] == "debian"
    assert document["config"]["user"] == debian_image_facts.user
    assert document["config"]["env_names"] == [e.split("=")[0] for e in debian_image_facts.env]
    assert len(document["layers"]) == debian_image_facts.layer_count
    assert [layer["compression"] for layer in document["layers"]] == ["none"] * 3
    assert all(layer["diff_id"].startswith("sha256:") for layer in document["layers"])
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_registry_credentials_from_creds_option(tmp_path: Path, basic_repo: str,
                                                registry_basic: RegistryServer) -> None:
    ok = run_hullscan("inspect", basic_repo, "--format", "json", "--creds",
                      f"{registry_basic.username}:{registry_basic.password}", cwd=tmp_path)
    assert ok.code == 0, ok.stderr
    refused = run_hullscan("inspect", basic_repo, "--creds", "hullscan:wrong", cwd=tmp_path)
    assert refused.code == 2
    assert refused.stderr.count("\n") == 1 and "refused the credentials from --creds" \
        in refused.stderr
    assert "wrong" not in refused.stderr


def test_registry_credentials_from_the_environment(tmp_path: Path, basic_repo: str,
                                                   registry_basic: RegistryServer) -> None:
    env = {"HULLSCAN_REGISTRY_USERNAME": registry_basic.username or "",
           "HULLSCAN_REGISTRY_PASSWORD": registry_basic.password or "",
           "DOCKER_CONFIG": str(tmp_path)}
    result = run_hullscan("inspect", basic_repo, "--format", "json", cwd=tmp_path, env=env)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["manifest_digest"].startswith("sha256:")


def test_registry_credentials_from_docker_config(tmp_path: Path, basic_repo: str,
                                                 registry_basic: RegistryServer) -> None:
    pair = f"{registry_basic.username}:{registry_basic.password}".encode()
    (tmp_path / "config.json").write_text(json.dumps(
        {"auths": {registry_basic.host: {"auth": base64.b64encode(pair).decode()}}}))
    result = run_hullscan("inspect", basic_repo, cwd=tmp_path,
                          env={"DOCKER_CONFIG": str(tmp_path), "REGISTRY_AUTH_FILE": ""})
    assert result.code == 0, result.stderr


def test_registry_credentials_from_a_credential_helper(tmp_path: Path, basic_repo: str,
                                                       registry_basic: RegistryServer) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-hulltest"
    helper.write_text("#!/bin/sh\nread server\n"
                      f"printf '{{\"ServerURL\":\"%s\",\"Username\":\"{registry_basic.username}\","
                      f"\"Secret\":\"{registry_basic.password}\"}}' \"$server\"\n")
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "hulltest"}))
    import os
    env = {"DOCKER_CONFIG": str(tmp_path), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = run_hullscan("inspect", basic_repo, cwd=tmp_path, env=env)
    assert result.code == 0, result.stderr
    anonymous = run_hullscan("inspect", basic_repo, cwd=tmp_path,
                             env={"DOCKER_CONFIG": str(tmp_path / "none")})
    assert anonymous.code == 2 and "requires credentials" in anonymous.stderr


def test_tls_registry_with_a_custom_ca(tmp_path: Path, registry_tls: RegistryServer,
                                       small_image_formats: ImageFormats) -> None:
    assert registry_tls.ca_cert is not None
    options = RegistryOptions(ca_cert=registry_tls.ca_cert)
    with open_image(f"oci-dir:{small_image_formats.oci_layout}:{small_image_formats.ref}") as src, \
            RegistryClient(registry_tls.host, options=options) as client:
        pushed = push_image(src, PushTarget(client, "tls/small", "1"))
    reference = f"{registry_tls.host}/tls/small:1"
    ok = run_hullscan("inspect", reference, "--ca-cert", str(registry_tls.ca_cert), "-f", "json",
                      cwd=tmp_path)
    assert ok.code == 0, ok.stderr
    assert json.loads(ok.stdout)["manifest_digest"] == pushed.digest
    port = registry_tls.host.rsplit(":", 1)[1]
    untrusted = run_hullscan("inspect", f"localhost:{port}/tls/small:1",
                             "--ca-cert", "/etc/ssl/certs/ca-certificates.crt", cwd=tmp_path)
    assert untrusted.code == 2 and "--ca-cert" in untrusted.stderr


@pytest.mark.parametrize(("argument", "message"), [
    ("Foo/Bar", "repository name must be lowercase"),
    ("docker-archive:/definitely/missing.tar", "no such file or directory"),
    ("oci-dir:/definitely/missing", "no such file or directory"),
    ("127.0.0.1:1/nothing/here:1", "cannot reach registry 127.0.0.1:1"),
])
def test_bad_references_give_one_line_and_exit_2(tmp_path: Path, argument: str,
                                                  message: str) -> None:
    result = run_hullscan("inspect", argument, cwd=tmp_path)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("hullscan: error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert argument.split(":")[0] in result.stderr and message in result.stderr


def test_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x00garbage" * 1000)
    result = run_hullscan("inspect", str(junk), cwd=tmp_path)
    assert result.code == 2 and "junk.tar" in result.stderr
    assert result.stderr.count("\n") == 1


def test_unknown_manifest_in_registry(tmp_path: Path, registry_plain: RegistryServer) -> None:
    result = run_hullscan("inspect", f"{registry_plain.host}/missing/repo:1", cwd=tmp_path)
    assert result.code == 2
    assert "manifest unknown" in result.stderr


def test_version(tmp_path: Path) -> None:
    result = run_hullscan("--version", cwd=tmp_path)
    assert result.code == 0 and result.stdout.startswith("hullscan ")
