"""Config rules over hand-built image configs, history (classic and BuildKit) and Dockerfiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hullscan.checks.config import (
    RULES,
    Thresholds,
    check_config,
    parse_created_by,
)
from hullscan.checks.finding import Category, CheckFinding
from hullscan.image.config import parse_config
from hullscan.image.filesystem import SquashedFilesystem
from hullscan.image.layer import LayerInfo
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import SourceKind
from tests.image.layer_helpers import Member, read

HEALTHY: dict[str, Any] = {"User": "app", "Healthcheck": {"Test": ["CMD", "true"]}}


def _image(history: list[str | tuple[str, bool]] | None = None, *, layer_size: int = 10,
           **runtime: Any) -> ImageMetadata:
    entries = []
    for item in history or []:
        created_by, empty = item if isinstance(item, tuple) else (item, False)
        entries.append({"created_by": created_by, **({"empty_layer": True} if empty else {})})
    layers = sum(1 for e in entries if not e.get("empty_layer")) or 1
    diff_ids = ["sha256:" + f"{i:x}" * 64 for i in range(1, layers + 1)]
    document = {"architecture": "amd64", "os": "linux", "config": {**HEALTHY, **runtime},
                "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": entries}
    config = parse_config(json.dumps(document).encode(), subject="test")
    infos = tuple(LayerInfo(i, d, None, None, layer_size) for i, d in enumerate(diff_ids))
    return ImageMetadata("test", SourceKind.REGISTRY, None, None, None, None, None, None,
                         config, infos)


def _ids(findings: list[CheckFinding]) -> set[str]:
    return {f.rule_id for f in findings}


def _run(command: str, buildkit: bool) -> str:
    return f"RUN /bin/sh -c {command} # buildkit" if buildkit else f"/bin/sh -c {command}"


def _rule_hits(rule_id: str, findings: list[CheckFinding]) -> list[CheckFinding]:
    return [f for f in findings if f.rule_id == rule_id]


def test_rules_are_self_describing_and_unique() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.id.startswith("HS-CFG-") and rule.title and rule.rationale
        assert rule.remediation


def test_healthy_image_has_no_findings() -> None:
    image = _image(["/bin/sh -c #(nop) ADD file:abc in / ", "/bin/sh -c #(nop)  CMD [\"sh\"]"])
    assert check_config(image) == []


@pytest.mark.parametrize(("user", "flagged"), [
    (None, True), ("root", True), ("0", True), ("0:0", True), ("root:staff", True),
    ("app", False), ("1000:1000", False)])
def test_root_user(user: str | None, flagged: bool) -> None:
    findings = check_config(_image(User=user))
    hits = _rule_hits("HS-CFG-001", findings)
    assert bool(hits) is flagged
    if flagged:
        assert hits[0].config_key == "User" and hits[0].category is Category.CONFIG


def test_healthcheck() -> None:
    assert "HS-CFG-002" in _ids(check_config(_image(Healthcheck=None)))
    assert "HS-CFG-002" in _ids(check_config(_image(Healthcheck={"Test": ["NONE"]})))
    assert "HS-CFG-002" not in _ids(check_config(_image()))


def test_sensitive_and_invalid_ports() -> None:
    image = _image(ExposedPorts={"22/tcp": {}, "8080/tcp": {}, "3389/tcp": {}, "70000/tcp": {}})
    findings = check_config(image)
    assert {f.config_key for f in _rule_hits("HS-CFG-003", findings)} == {
        "ExposedPorts[22/tcp]", "ExposedPorts[3389/tcp]"}
    assert [f.config_key for f in _rule_hits("HS-CFG-004", findings)] == [
        "ExposedPorts[70000/tcp]"]
    assert not _ids(check_config(_image(ExposedPorts={"8080/tcp": {}})))


@pytest.mark.parametrize("buildkit", [False, True])
@pytest.mark.parametrize(("command", "rule_id"), [
    ("sudo apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*",
     "HS-CFG-007"),
    ("curl -fsSL https://get.example/install.sh | sh", "HS-CFG-008"),
    ("wget -qO- https://x/i.sh | sudo -E bash -", "HS-CFG-008"),
    ("bash -c \"$(curl -fsSL https://x/i.sh)\"", "HS-CFG-008"),
    ("curl -o a https://x/a && wget https://x/b", "HS-CFG-009"),
    ("apt-get update && apt-get install -y --no-install-recommends curl", "HS-CFG-010"),
    ("apk add curl", "HS-CFG-010"),
    ("yum install -y httpd", "HS-CFG-010"),
    ("dnf install -y httpd", "HS-CFG-010"),
    ("zypper install -y httpd", "HS-CFG-010"),
    ("apt-get update && apt-get dist-upgrade -y && rm -rf /var/lib/apt/lists/*", "HS-CFG-011"),
    ("apk upgrade --no-cache", "HS-CFG-011"),
    ("apt-get update", "HS-CFG-012"),
    ("apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
     "HS-CFG-013"),
    ("chmod 777 /app", "HS-CFG-014"),
    ("chmod -R o+w /data", "HS-CFG-014"),
    ("cd /src && make", "HS-CFG-015"),
])
def test_run_rules_fire_in_both_history_forms(command: str, rule_id: str,
                                               buildkit: bool) -> None:
    image = _image(["/bin/sh -c #(nop) ADD file:abc in / ", _run(command, buildkit)])
    hits = _rule_hits(rule_id, check_config(image))
    assert len(hits) == 1
    assert hits[0].config_key == "history[1].created_by"
    assert hits[0].layer is not None and hits[0].layer.index == 1


@pytest.mark.parametrize("buildkit", [False, True])
@pytest.mark.parametrize("command", [
    "apt-get update && apt-get install -y --no-install-recommends curl "
    "&& rm -rf /var/lib/apt/lists/*",
    "apk add --no-cache curl",
    "yum install -y httpd && yum clean all",
    "dnf install -y httpd && dnf clean all",
    "zypper install -y httpd && zypper clean -a",
    "curl -fsSLo /tmp/i.sh https://x/i.sh && sha256sum -c sums && sh /tmp/i.sh",
    "chmod 755 /app && chmod 1777 /scratch && chmod a+x /app/run",
    "make -C /src",
    "yum update -y openssl && yum clean all",
])
def test_clean_run_steps_have_no_findings(command: str, buildkit: bool) -> None:
    image = _image(["/bin/sh -c #(nop) ADD file:abc in / ", _run(command, buildkit)])
    assert check_config(image) == []


def test_history_entries_without_layers_are_linked_correctly() -> None:
    image = _image([
        "/bin/sh -c #(nop) ADD file:abc in / ",
        ("/bin/sh -c #(nop)  ENV A=b", True),
        ("/bin/sh -c #(nop)  MAINTAINER someone", True),
        "|1 VERSION=2 /bin/sh -c sudo make install",
        ("ENV X=y", True),
        "ADD https://example.invalid/tool.tgz /opt/ # buildkit",
        "ADD app.tar.gz /app/ # buildkit",
        "/bin/sh -c #(nop) ADD file:def in /etc/conf ",
        "COPY . /src # buildkit",
    ])
    findings = check_config(image)
    [maintainer] = _rule_hits("HS-CFG-016", findings)
    assert maintainer.config_key == "history[2].created_by" and maintainer.layer is None
    [sudo] = _rule_hits("HS-CFG-007", findings)
    assert sudo.config_key == "history[3].created_by"
    assert sudo.layer is not None and sudo.layer.index == 1
    [remote] = _rule_hits("HS-CFG-005", findings)
    assert remote.config_key == "history[5].created_by"
    assert remote.layer is not None and remote.layer.index == 2
    local = _rule_hits("HS-CFG-006", findings)
    assert [f.config_key for f in local] == ["history[6].created_by", "history[7].created_by"]


@pytest.mark.parametrize(("created_by", "expected"), [
    ("/bin/sh -c #(nop)  ADD file:ab12 in / ", ("ADD", "file:ab12 in /")),
    ("/bin/sh -c apt-get update", ("RUN", "apt-get update")),
    ("|2 A=1 B=2 /bin/sh -c make", ("RUN", "make")),
    ("RUN /bin/sh -c apt-get update # buildkit", ("RUN", "apt-get update")),
    ("RUN |1 X=y /bin/sh -c echo hi # buildkit", ("RUN", "echo hi")),
    ("EXPOSE map[22/tcp:{}]", ("EXPOSE", "map[22/tcp:{}]")),
    ("built by some tool", ("UNKNOWN", "built by some tool")),
])
def test_parse_created_by(created_by: str, expected: tuple[str, str]) -> None:
    assert parse_created_by(created_by) == expected


def test_dockerfile_is_parsed_and_reported_by_line(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM debian:12 AS build\n"
        "MAINTAINER me\n"
        "RUN apt-get update && \\\n"
        "    apt-get install -y --no-install-recommends gcc\n"
        "ADD https://example.invalid/x.tgz /x/\n"
        "# a comment\n"
        "RUN chmod 777 /x\n"
        "COPY . /src\n")
    findings = check_config(_image(), dockerfile=dockerfile)
    by_rule = {f.rule_id: f for f in findings}
    assert by_rule["HS-CFG-016"].config_key == "Dockerfile:2"
    assert by_rule["HS-CFG-010"].config_key == "Dockerfile:3"
    assert by_rule["HS-CFG-010"].line == 3 and by_rule["HS-CFG-010"].layer is None
    assert by_rule["HS-CFG-005"].config_key == "Dockerfile:5"
    assert by_rule["HS-CFG-014"].config_key == "Dockerfile:7"
    assert "HS-CFG-006" not in by_rule


def test_package_caches_in_final_filesystem() -> None:
    layer0 = read([Member("var/cache/apt/archives/curl_8_amd64.deb", b"x" * 10),
                   Member("var/cache/apt/archives/lock", b""),
                   Member("var/lib/apt/lists/deb.example_dists_Release", b"r"),
                   Member("var/lib/apt/lists/lock", b""),
                   Member("root/.cache/pip/http/a/b", b"p"),
                   Member("var/cache/apk/APKINDEX.abc.tar.gz", b"i")], index=0)
    layer1 = read([Member("var/cache/apk/.wh.APKINDEX.abc.tar.gz")], index=1)
    filesystem = SquashedFilesystem([layer0, layer1])
    findings = _rule_hits("HS-CFG-017", check_config(_image(), filesystem))
    evidence = {f.evidence for f in findings}
    assert evidence == {"var/cache/apt/archives: 1 files, 10 bytes",
                        "var/lib/apt/lists: 1 files, 1 bytes",
                        "~/.cache/pip: 1 files, 1 bytes"}
    assert all(f.layer is not None and f.layer.index == 0 for f in findings)
    clean = SquashedFilesystem([read([Member("var/lib/apt/lists/lock", b""),
                                      Member("usr/bin/tool", b"t")])])
    assert not _rule_hits("HS-CFG-017", check_config(_image(), clean))


def test_size_and_layer_thresholds() -> None:
    image = _image([f"/bin/sh -c echo {i}" for i in range(5)], layer_size=300)
    findings = check_config(image, thresholds=Thresholds(max_image_bytes=1000, max_layers=4))
    assert {"HS-CFG-018", "HS-CFG-019"} <= _ids(findings)
    relaxed = check_config(image, thresholds=Thresholds(max_image_bytes=1500, max_layers=5))
    assert not {"HS-CFG-018", "HS-CFG-019"} & _ids(relaxed)
    off = check_config(image, thresholds=Thresholds(max_image_bytes=None, max_layers=None))
    assert not {"HS-CFG-018", "HS-CFG-019"} & _ids(off)


def test_image_without_config_only_gets_size_rules() -> None:
    image = ImageMetadata("x", SourceKind.DIRECTORY, None, None, None, None, None, None, None,
                          ())
    assert check_config(image) == []
