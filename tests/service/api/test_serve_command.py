"""``hullscan serve``'s bootstrap options and build_service."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from hullscan.cli.serve_command import build_service, serve
from hullscan.errors import HullscanError
from hullscan.service.egress import PRIVATE_NETWORKS, EgressPolicy
from hullscan.service.operations import Service
from hullscan.service.sealing import KEY_VARIABLE
from hullscan.service.settings import ALLOWED_NETWORKS_VARIABLE
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


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_allowed_networks_reach_the_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            service: Service) -> None:
    """``--allow-network`` (repeatable, or the variable) and ``--allow-private-networks``
    become the egress policy of the service ``serve`` builds; an invalid entry is refused."""
    import hullscan.cli.serve_command as serve_command

    built: list[Service] = []

    def fake_build(*args: object) -> Service:
        egress = args[3]
        assert isinstance(egress, EgressPolicy)
        built.append(Service(service.store, tmp_path / "missing.db", service.box,
                             tmp_path, egress=egress))
        return built[-1]

    monkeypatch.setattr(serve_command, "build_service", fake_build)
    monkeypatch.delenv(ALLOWED_NETWORKS_VARIABLE, raising=False)
    runner = CliRunner()
    runner.invoke(cli(), ["--allow-network", "10.2.0.0/16", "--allow-network", "10.3.0.1"])
    assert [str(n) for n in built[-1].egress.allowed] == ["10.2.0.0/16", "10.3.0.1/32"]
    runner.invoke(cli(), [], env={ALLOWED_NETWORKS_VARIABLE: "192.168.0.0/24 fd12::/16"})
    assert [str(n) for n in built[-1].egress.allowed] == ["192.168.0.0/24", "fd12::/16"]
    runner.invoke(cli(), ["--allow-private-networks"])
    assert set(PRIVATE_NETWORKS) <= set(built[-1].egress.allowed)
    runner.invoke(cli(), [])
    assert built[-1].egress.allowed == ()
    count = len(built)
    bad = runner.invoke(cli(), ["--allow-network", "10.0.0.0/33"])
    assert bad.exit_code != 0 and len(built) == count
