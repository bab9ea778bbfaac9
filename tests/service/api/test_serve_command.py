"""``hullscan serve``'s bootstrap options and build_service."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from hullscan.cli.serve_command import build_service, serve
from hullscan.errors import HullscanError
from hullscan.service.operations import Service
from hullscan.service.sealing import KEY_VARIABLE
from hullscan.service.tokens import Scope, verify_token


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(serve)
    return app


def test_generate_key() -> None:
    result = CliRunner().invoke(cli(), ["--generate-key"])
    assert result.exit_code == 0, result.output
    Fernet(result.stdout.strip())


def test_create_token(service: Service, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), [
        "--data-dir", str(tmp_path / "data"), "--database-url", service.store.url,
        "--create-token", "bootstrap", "--scopes", "read,write"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    info = verify_token(service.store, secret)
    assert info is not None and info.name == "bootstrap"
    assert info.scopes == (Scope.READ, Scope.WRITE)


def test_build_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    with pytest.raises(HullscanError, match=KEY_VARIABLE):
        build_service(tmp_path / "data", None, tmp_path / "vuln.db")
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())
    service = build_service(tmp_path / "data", None, tmp_path / "vuln.db")
    try:
        assert service.store.url == f"sqlite:///{tmp_path / 'data' / 'hullscan-service.db'}"
        assert service.database_path == tmp_path / "vuln.db"
        assert service.box.open(service.box.seal("x")) == "x"
    finally:
        service.store.close()
