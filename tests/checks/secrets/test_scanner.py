"""Scanning behaviour: allow rules, binaries, redaction, layers, the image config."""

from __future__ import annotations

from hullscan.catalog.package import LayerRef
from hullscan.checks.finding import Category
from hullscan.checks.secrets import (
    SecretVisitor,
    findings,
    redact,
    scan_bytes,
    scan_config,
)
from hullscan.checks.secrets.scanner import build_args, is_binary, is_placeholder
from hullscan.image.config import HistoryEntry, ImageConfig
from hullscan.image.layer import FileEntry, FileKind
from tests.checks.secrets.fakes import ALNUM, UPPER32, rand

GH_TOKEN = "gh" + "p_" + rand(ALNUM, 36)
PASSWORD = rand(ALNUM, 20, seed=3)


def entry(path: str, layer: int, size: int = 100, kind: FileKind = FileKind.REGULAR) -> FileEntry:
    return FileEntry(path, kind, size, 0o644, 0, 0, 0, None, layer)


def test_aws_documented_example_keys_are_allowed() -> None:
    text = ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    assert scan_bytes("root/.aws/credentials", text.encode()) == []


def test_documentation_and_package_tests_are_allowed() -> None:
    text = f"token = {GH_TOKEN}\n".encode()
    assert scan_bytes("usr/share/doc/tool/README", text) == []
    assert scan_bytes("srv/app/README.md", text) == []
    assert scan_bytes("usr/lib/python3/dist-packages/lib/tests/data/x.py", text) == []
    assert scan_bytes("app/node_modules/pkg/test/fixture.js", text) == []
    assert scan_bytes("app/tests/settings.py", text) != []  # an application's own tests


def test_binaries_are_skipped() -> None:
    secret = f"token={GH_TOKEN}\n".encode()
    assert is_binary(b"\x7fELF\x02\x01\x01\x00" + secret)
    assert scan_bytes("usr/bin/tool", b"\x7fELF\x02\x01\x01\x00" + secret) == []
    assert scan_bytes("app/blob", bytes(range(1, 32)) * 100 + secret) == []
    assert not is_binary("naïve café ünïcode\n".encode() * 10)
    assert scan_bytes("app/x", secret) != []


def test_redaction_never_contains_the_value() -> None:
    for value in (GH_TOKEN, PASSWORD, "short", "abc", ""):
        text = redact(value)
        assert "sha256:" in text
        if len(value) >= 4:
            assert value not in text
    assert redact(GH_TOKEN).startswith("ghp_…sha256:")
    assert len(redact(GH_TOKEN).split("sha256:")[1]) == 12
    assert redact("abcdefgh").startswith("ab…")  # short values show a quarter at most
    content = (f'password = "{PASSWORD}"\nGITHUB={GH_TOKEN}\n'
               f"postgres://app:{PASSWORD}@db/app\n").encode()
    hits = scan_bytes("app/settings.py", content)
    assert len(hits) == 3
    for hit in hits:
        assert PASSWORD not in hit.evidence
        assert GH_TOKEN not in hit.evidence
        assert "sha256:" in hit.evidence
    assert sorted(hit.line for hit in hits) == [1, 2, 3]


def layers(count: int) -> list[LayerRef]:
    return [LayerRef(i, f"sha256:{i:064x}", f"RUN step {i}") for i in range(count)]


def test_visitor_and_findings_report_deleted_and_replaced_files() -> None:
    visitor = SecretVisitor()
    secret = f"API_TOKEN={rand(ALNUM, 24)}\n".encode()
    # layer 0 adds three files with secrets; layer 1 deletes one (whiteout, not seen by
    # visitors), layer 2 overwrites another with clean content; the third stays.
    for path in ("app/.env", "app/config.ini", "root/.netrc"):
        netrc_text = f"machine h login u password {PASSWORD}\n".encode()
        content = netrc_text if path == "root/.netrc" else secret
        assert visitor.wants(entry(path, 0, len(content)))
        assert visitor.visit(entry(path, 0, len(content)), content) is False
    clean = b"[app]\ndebug = false\n"
    assert visitor.wants(entry("app/config.ini", 2, len(clean)))
    assert visitor.visit(entry("app/config.ini", 2, len(clean)), clean) is False
    final = {"app/config.ini": 2, "root/.netrc": 0}
    result = findings(visitor, final.get, layers(3))
    by_path = {f.path: f for f in result}
    assert set(by_path) == {"app/.env", "app/config.ini", "root/.netrc"}
    assert all(f.category is Category.SECRET for f in result)
    assert all(f.layer is not None and f.layer.index == 0 for f in result)
    env, ini, netrc = by_path["app/.env"], by_path["app/config.ini"], by_path["root/.netrc"]
    assert env.deleted_by is not None and env.deleted_by.index == 2  # unknown: last layer
    assert ini.deleted_by is not None and ini.deleted_by.index == 2  # the replacing layer
    assert "still retrievable from layer 0" in ini.rationale
    assert netrc.deleted_by is None and not netrc.deleted
    assert netrc.rule_id == "HS-SEC-NETRC-PASSWORD" and netrc.line == 1
    assert all(PASSWORD not in (f.evidence or "") for f in result)


def test_same_secret_in_final_copy_is_reported_once() -> None:
    visitor = SecretVisitor()
    content = f"GITHUB={GH_TOKEN}\n".encode()
    for layer in (0, 1):
        visitor.wants(entry("app/x.sh", layer, len(content)))
        visitor.visit(entry("app/x.sh", layer, len(content)), content)
    result = findings(visitor, {"app/x.sh": 1}.get, layers(2))
    assert [(f.layer.index if f.layer else None, f.deleted_by) for f in result] == [(1, None)]


def test_visitor_wants() -> None:
    visitor = SecretVisitor(max_file_size=1000)
    assert visitor.wants(entry("etc/app.conf", 0, 10))
    assert visitor.wants(entry("root/.ssh/id_rsa", 0, 10))
    assert not visitor.wants(entry("etc/app.conf", 0, 1001))
    assert not visitor.wants(entry("etc/app.conf", 0, 0))
    assert not visitor.wants(entry("etc", 0, 10, FileKind.DIRECTORY))
    assert not visitor.wants(entry("usr/lib/x86_64-linux-gnu/libc.so.6", 0, 10))
    assert not visitor.wants(entry("usr/share/locale/de/LC_MESSAGES/x.mo", 0, 10))
    assert not visitor.wants(entry("usr/share/zoneinfo/UTC", 0, 10))


def config(env: tuple[str, ...], labels: dict[str, str],
           history: tuple[HistoryEntry, ...], layer_count: int) -> ImageConfig:
    return ImageConfig(architecture="amd64", os="linux", variant=None, created=None, user=None,
                       env=env, exposed_ports=(), entrypoint=None, cmd=None, working_dir=None,
                       labels=labels, stop_signal=None, healthcheck=None,
                       diff_ids=tuple(f"sha256:{i:064x}" for i in range(layer_count)),
                       history=history)


def step(created_by: str, empty: bool = False) -> HistoryEntry:
    return HistoryEntry(created_by, None, None, empty)


def test_scan_config_env_labels_history() -> None:
    aws = "AK" + "IA" + rand(UPPER32, 16)
    npm_token = rand(ALNUM, 30, seed=5)
    image = config(
        env=("PATH=/usr/local/bin:/usr/bin", f"DB_PASSWORD={PASSWORD}", f"GITHUB_TOKEN={GH_TOKEN}",
             "PASSWORD_FILE=/run/secrets/db", "API_KEY=changeme", "SECRET_KEY=",
             "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"),
        labels={"deploy.token": PASSWORD, "org.opencontainers.image.source": "https://x/y"},
        history=(
            step("/bin/sh -c #(nop) ADD file:abc in / "),
            step(f"/bin/sh -c #(nop)  ENV AWS_ACCESS_KEY_ID={aws}", empty=True),
            step(f"RUN |2 NPM_TOKEN={npm_token} MODE=prod /bin/sh -c npm ci"),
            step("/bin/sh -c echo done"),
        ),
        layer_count=3)
    result = scan_config(image, layers(3))
    keys = {(f.config_key, f.rule_id, f.layer.index if f.layer else None) for f in result}
    assert keys == {
        ("Env[DB_PASSWORD]", "HS-SEC-GENERIC-ENV-ASSIGNMENT", None),
        ("Env[GITHUB_TOKEN]", "HS-SEC-GITHUB-TOKEN", None),
        ("Labels[deploy.token]", "HS-SEC-ENV-SECRET", None),
        ("history[1].created_by", "HS-SEC-AWS-ACCESS-KEY", None),
        ("history[2].created_by", "HS-SEC-ENV-SECRET", 1),
    }
    for finding in result:
        assert finding.category is Category.SECRET
        for value in (PASSWORD, GH_TOKEN, aws, npm_token):
            assert value not in (finding.evidence or "")
    history = next(f for f in result if f.config_key == "history[2].created_by")
    assert history.evidence is not None and history.evidence.startswith("NPM_TOKEN=")


def test_build_args() -> None:
    assert build_args("RUN |2 A=1 TOKEN=x /bin/sh -c make") == [("A", "1"), ("TOKEN", "x")]
    assert build_args("|1 B=2 /bin/sh -c make") == [("B", "2")]
    assert build_args("/bin/sh -c make A=1") == []


def test_placeholders_and_real_values_with_symbols() -> None:
    for value in ("${DB_PASSWORD}", "$DB_PASSWORD", "<password>", "{{ .Values.pw }}",
                  "%(password)s", "$(cat /run/secrets/pw)", "changeme", "xxxxxxxx", "********"):
        assert is_placeholder(value), value
    for value in ("p%40ss" + PASSWORD, "Tr0ub4dor&3$x", PASSWORD + "(1)"):
        assert not is_placeholder(value), value
    url = f"mysql://app:p%40ss{PASSWORD}@db.internal/app\n".encode()
    assert [h.rule.id for h in scan_bytes("app/x.yaml", url)] == ["HS-SEC-DATABASE-URL-PASSWORD"]
