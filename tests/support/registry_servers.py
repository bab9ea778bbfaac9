"""Real ``docker-registry`` (distribution 2.8) processes and ``skopeo`` helpers for tests.

Four kinds of registry: ``plain`` (HTTP, no auth), ``basic`` (HTTP + htpasswd),
``tls`` (HTTPS with a throw-away CA, no auth) and ``token`` (HTTP + token auth served by
:class:`tests.support.token_server.TokenServer`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from tests.support.pki import RegistryPki
from tests.support.token_server import KeyIdMode, TokenServer

RegistryKind = Literal["plain", "basic", "tls", "token"]
REGISTRY_KINDS: tuple[RegistryKind, ...] = ("plain", "basic", "tls", "token")
SkopeoDirection = Literal["src", "dest"]

REGISTRY_BINARY = "docker-registry"
SKOPEO_BINARY = "skopeo"
HTPASSWD_BINARY = "htpasswd"
DEFAULT_USERNAME = "hullscan"
TOKEN_SERVICE = "hullscan-test-registry"
TOKEN_ISSUER = "hullscan-test-token-issuer"

_LISTENING = re.compile(r"listening on (\d+\.\d+\.\d+\.\d+:\d+)")
_PERMISSIVE_POLICY = {"default": [{"type": "insecureAcceptAnything"}]}


class ToolMissingError(RuntimeError):
    """A required external program (docker-registry, skopeo, htpasswd) is not installed."""


class RegistryStartError(RuntimeError):
    """The registry process did not come up."""


class SkopeoError(RuntimeError):
    """``skopeo`` exited non-zero."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        super().__init__(
            f"skopeo failed with exit code {returncode}: {' '.join(argv)}\n{stderr.strip()}"
        )
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def require_tool(name: str, debian_package: str) -> str:
    """Return the path of ``name`` or raise :class:`ToolMissingError` naming the package."""
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(
            f"`{name}` not found on PATH; install the Debian package `{debian_package}` "
            f"(apt-get install {debian_package})"
        )
    return path


def missing_tools(kind: RegistryKind) -> list[str]:
    """Messages for each external program a ``kind`` registry needs that is not installed."""
    needed = [(REGISTRY_BINARY, "docker-registry")]
    if kind == "basic":
        needed.append((HTPASSWD_BINARY, "apache2-utils"))
    problems: list[str] = []
    for name, package in needed:
        try:
            require_tool(name, package)
        except ToolMissingError as exc:
            problems.append(str(exc))
    return problems


@dataclass(frozen=True)
class RegistryServer:
    """A running test registry and how to talk to it."""

    kind: RegistryKind
    host: str
    url: str
    username: str | None
    password: str | None
    ca_cert: Path | None
    token_server: TokenServer | None
    cert_dir: Path | None = None
    storage_dir: Path | None = None
    log_file: Path | None = None

    @property
    def tls(self) -> bool:
        """Whether the registry speaks HTTPS."""
        return self.url.startswith("https://")

    @property
    def credentials(self) -> tuple[str, str] | None:
        """``(username, password)`` or None, e.g. for ``httpx`` ``auth=``."""
        if self.username is None or self.password is None:
            return None
        return self.username, self.password

    def ref(self, repo_tag: str) -> str:
        """``docker://HOST/REPO:TAG`` for skopeo."""
        return f"docker://{self.host}/{repo_tag}"

    def with_credentials(self, username: str | None, password: str | None) -> RegistryServer:
        """The same server seen by a client using other (or no) credentials."""
        return dataclasses.replace(self, username=username, password=password)

    def anonymous(self) -> RegistryServer:
        """The same server seen by a client without credentials."""
        return self.with_credentials(None, None)

    def ssl_context(self) -> ssl.SSLContext | bool:
        """``verify=`` value for httpx: a context trusting the test CA, or True."""
        if self.ca_cert is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def skopeo_flags(self, direction: SkopeoDirection | None) -> list[str]:
        """TLS and credential flags for skopeo; ``direction=None`` gives unprefixed flags."""
        prefix = f"--{direction}-" if direction else "--"
        flags: list[str] = []
        if not self.tls:
            flags.append(f"{prefix}tls-verify=false")
        elif self.cert_dir is not None:
            flags += [f"{prefix}cert-dir", str(self.cert_dir)]
        if self.credentials is not None:
            flags += [f"{prefix}creds", f"{self.username}:{self.password}"]
        else:
            flags.append(f"{prefix}no-creds")
        return flags


class RunningRegistry:
    """Owns a ``docker-registry`` process (and its token server); call :meth:`stop`."""

    def __init__(
        self,
        server: RegistryServer,
        process: subprocess.Popen[bytes],
        token_server: TokenServer | None,
    ) -> None:
        self.server = server
        self.process = process
        self._token_server = token_server

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate, wait, then kill if needed; stop the token server."""
        _stop_process(self.process, timeout)
        if self._token_server is not None:
            self._token_server.stop()
            self._token_server = None


def _stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def _htpasswd_line(username: str, password: str) -> str:
    """A bcrypt htpasswd entry made by ``htpasswd -Bbn`` (the registry only accepts bcrypt)."""
    htpasswd = require_tool(HTPASSWD_BINARY, "apache2-utils")
    result = subprocess.run(
        [htpasswd, "-Bbn", username, password],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.stdout.strip() + "\n"


def _registry_config(
    kind: RegistryKind,
    workdir: Path,
    storage: Path,
    pki: RegistryPki | None,
    username: str,
    password: str,
    token_server: TokenServer | None,
) -> dict[str, Any]:
    http: dict[str, Any] = {"addr": "127.0.0.1:0", "secret": secrets.token_hex(16)}
    config: dict[str, Any] = {
        "version": "0.1",
        # "listening on HOST:PORT" is logged at info level; it tells us the bound port.
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": http,
    }
    if kind == "basic":
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(_htpasswd_line(username, password), encoding="utf-8")
        config["auth"] = {"htpasswd": {"realm": "hullscan-test", "path": str(htpasswd)}}
    elif kind == "tls":
        assert pki is not None
        http["tls"] = {"certificate": str(pki.server.cert), "key": str(pki.server.key)}
    elif kind == "token":
        assert token_server is not None
        config["auth"] = {
            "token": {
                "realm": token_server.realm,
                "service": token_server.service,
                "issuer": token_server.issuer,
                "rootcertbundle": str(token_server.root_cert_bundle),
            }
        }
    return config


def _registry_env() -> dict[str, str]:
    """The environment minus REGISTRY_* variables, which would override the config file."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}


def _wait_until_up(
    process: subprocess.Popen[bytes],
    log_file: Path,
    scheme: str,
    verify: ssl.SSLContext | bool,
    timeout: float,
) -> str:
    """Wait for the ``listening on`` log line and a ``/v2/`` answer; return ``host:port``."""
    deadline = time.monotonic() + timeout
    host: str | None = None
    last_error: Exception | None = None
    with httpx.Client(verify=verify, timeout=1.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RegistryStartError(
                    f"docker-registry exited with code {process.returncode}:\n"
                    + log_file.read_text(encoding="utf-8", errors="replace")
                )
            if host is None:
                match = _LISTENING.search(log_file.read_text(encoding="utf-8", errors="replace"))
                host = match.group(1) if match else None
            if host is not None:
                try:
                    client.get(f"{scheme}://{host}/v2/")
                    return host
                except httpx.HTTPError as exc:
                    last_error = exc
            time.sleep(0.02)
    raise RegistryStartError(
        f"docker-registry did not answer /v2/ within {timeout}s (last error: {last_error}):\n"
        + log_file.read_text(encoding="utf-8", errors="replace")
    )


def start_registry(
    kind: RegistryKind,
    workdir: Path,
    *,
    pki: RegistryPki | None = None,
    username: str = DEFAULT_USERNAME,
    password: str | None = None,
    key_id_mode: KeyIdMode = "x5c",
    startup_timeout: float = 15.0,
) -> RunningRegistry:
    """Start a registry of ``kind`` with its files under ``workdir``; caller must stop() it.

    ``tls`` and ``token`` need ``pki``. The password is random unless given.
    """
    binary = require_tool(REGISTRY_BINARY, "docker-registry")
    if kind in ("tls", "token") and pki is None:
        raise ValueError(f"a {kind!r} registry needs pki=")
    workdir.mkdir(parents=True, exist_ok=True)
    storage = workdir / "storage"
    storage.mkdir(exist_ok=True)
    password = password if password is not None else secrets.token_urlsafe(12)
    has_auth = kind in ("basic", "token")

    token_server: TokenServer | None = None
    if kind == "token":
        assert pki is not None
        token_server = TokenServer(
            pki.token_issuer,
            users={username: password},
            service=TOKEN_SERVICE,
            issuer=TOKEN_ISSUER,
            key_id_mode=key_id_mode,
        ).start()

    try:
        config = _registry_config(kind, workdir, storage, pki, username, password, token_server)
        config_file = workdir / "config.yml"
        # JSON is valid YAML, and avoids needing a YAML library.
        config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
        cert_dir: Path | None = None
        ca_cert: Path | None = None
        if kind == "tls":
            assert pki is not None
            ca_cert = pki.ca.cert
            cert_dir = workdir / "certs.d"
            cert_dir.mkdir(exist_ok=True)
            shutil.copyfile(ca_cert, cert_dir / "ca.crt")

        log_file = workdir / "registry.log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [binary, "serve", str(config_file)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_registry_env(),
                cwd=workdir,
            )
    except BaseException:
        if token_server is not None:
            token_server.stop()
        raise

    scheme = "https" if kind == "tls" else "http"
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=str(ca_cert)) if ca_cert is not None else True
    )
    try:
        host = _wait_until_up(process, log_file, scheme, verify, startup_timeout)
    except BaseException:
        _stop_process(process, 5.0)
        if token_server is not None:
            token_server.stop()
        raise

    server = RegistryServer(
        kind=kind,
        host=host,
        url=f"{scheme}://{host}",
        username=username if has_auth else None,
        password=password if has_auth else None,
        ca_cert=ca_cert,
        token_server=token_server,
        cert_dir=cert_dir,
        storage_dir=storage,
        log_file=log_file,
    )
    return RunningRegistry(server, process, token_server)


@contextlib.contextmanager
def running_registry(
    kind: RegistryKind,
    workdir: Path,
    *,
    pki: RegistryPki | None = None,
    key_id_mode: KeyIdMode = "x5c",
) -> Iterator[RegistryServer]:
    """Context manager around :func:`start_registry`."""
    running = start_registry(kind, workdir, pki=pki, key_id_mode=key_id_mode)
    try:
        yield running.server
    finally:
        running.stop()


# -- skopeo ----------------------------------------------------------------------------------


def run_skopeo(args: Sequence[str], *, timeout: float = 120.0) -> str:
    """Run ``skopeo`` hermetically; return stdout or raise :class:`SkopeoError`.

    A permissive policy.json, an empty auth file, an empty registries.conf and an empty
    registries.d are written to a temporary directory, so neither /etc/containers nor the
    user's logins are consulted.
    """
    skopeo = require_tool(SKOPEO_BINARY, "skopeo")
    with tempfile.TemporaryDirectory(prefix="hullscan-skopeo-") as tmp:
        conf = Path(tmp)
        policy = conf / "policy.json"
        policy.write_text(json.dumps(_PERMISSIVE_POLICY), encoding="utf-8")
        auth = conf / "auth.json"
        auth.write_text('{"auths": {}}', encoding="utf-8")
        registries_conf = conf / "registries.conf"
        registries_conf.write_text("", encoding="utf-8")
        registries_d = conf / "registries.d"
        registries_d.mkdir()
        env = {
            **os.environ,
            "REGISTRY_AUTH_FILE": str(auth),
            "CONTAINERS_REGISTRIES_CONF": str(registries_conf),
            "TMPDIR": tmp,
        }
        argv = [skopeo, "--policy", str(policy), "--registries.d", str(registries_d), *args]
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        raise SkopeoError(argv, result.returncode, result.stdout, result.stderr)
    return result.stdout


def skopeo_copy(
    src: str,
    dest: str,
    *,
    src_server: RegistryServer | None = None,
    dest_server: RegistryServer | None = None,
    extra_args: Sequence[str] = (),
) -> None:
    """``skopeo copy SRC DEST`` (full transport refs) with the servers' TLS/credential flags."""
    args = ["copy"]
    if src_server is not None:
        args += src_server.skopeo_flags("src")
    if dest_server is not None:
        args += dest_server.skopeo_flags("dest")
    run_skopeo([*args, *extra_args, src, dest])


def skopeo_inspect(
    server: RegistryServer, repo_tag: str, raw: bool = False, *, config: bool = False
) -> dict[str, Any]:
    """``skopeo inspect docker://HOST/REPO:TAG`` parsed as JSON (``raw``: the manifest)."""
    args = ["inspect", *server.skopeo_flags(None)]
    if raw:
        args.append("--raw")
    if config:
        args.append("--config")
    result: dict[str, Any] = json.loads(run_skopeo([*args, server.ref(repo_tag)]))
    return result


def skopeo_delete(server: RegistryServer, repo_tag: str) -> None:
    """``skopeo delete docker://HOST/REPO:TAG``."""
    run_skopeo(["delete", *server.skopeo_flags(None), server.ref(repo_tag)])
