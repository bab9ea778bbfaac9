"""Registry credentials, found the way Docker and skopeo/podman users expect.

:meth:`CredentialStore.lookup` tries, for one registry host, and the first hit wins:

1. explicit ``--creds USER:PASSWORD`` (:func:`parse_creds_option`);
2. ``HULLSCAN_REGISTRY_USERNAME`` + ``HULLSCAN_REGISTRY_PASSWORD`` (both, or neither);
3. each auth file of :func:`auth_file_paths` in turn, and within one file:

   a. ``credHelpers[host]``: that helper only (``credsStore`` is skipped for the host, as
      in Docker); "credentials not found" falls through to ``auths``;
   b. otherwise ``credsStore``; "credentials not found" falls through to ``auths``;
   c. the ``auths`` entry: ``auth`` (base64 ``user:pass``) or ``username``/``password``,
      plus ``identitytoken``.

Auth files, in order (skopeo's order; Docker only ever reads the last one):

- ``docker_config_path`` when given: that file only;
- else ``$REGISTRY_AUTH_FILE`` when set: that file only (like ``--authfile``);
- else ``$XDG_RUNTIME_DIR/containers/auth.json``,
  ``${XDG_CONFIG_HOME:-~/.config}/containers/auth.json``, then
  ``$DOCKER_CONFIG/config.json`` or else ``~/.docker/config.json``.

A missing file holds no credentials; an unreadable or malformed one is a
:class:`~hullscan.errors.CredentialsError`. Passwords and tokens never appear in a
``repr`` or an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hullscan.errors import CredentialsError

ENV_USERNAME: Final = "HULLSCAN_REGISTRY_USERNAME"
ENV_PASSWORD: Final = "HULLSCAN_REGISTRY_PASSWORD"
DOCKER_HUB_HOST: Final = "index.docker.io"
DOCKER_HUB_SERVER_URL: Final = "https://index.docker.io/v1/"
HELPER_TIMEOUT_SECONDS: Final = 30.0

_DOCKER_HUB_ALIASES: Final = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_HELPER_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_HELPER_PREFIX: Final = "docker-credential-"
_TOKEN_USERNAME: Final = "<token>"
_NOT_FOUND: Final = "credentials not found"
_MAX_DETAIL: Final = 200
_CREDS_OPTION: Final = "--creds"


@dataclass(frozen=True, slots=True, repr=False)
class RegistryCredentials:
    """Credentials for one registry; ``source`` says where they came from, for messages."""

    username: str | None
    password: str | None
    identity_token: str | None
    source: str
    registry_token: str | None = None
    """A ready registry Bearer token, sent as it is on every request (nothing is fetched);
    set when someone else obtained it (a Harbor scan request), never from auth files."""

    def __repr__(self) -> str:
        return (
            f"RegistryCredentials(username={self.username!r}, "
            f"password={_redacted(self.password)}, "
            f"identity_token={_redacted(self.identity_token)}, "
            f"registry_token={_redacted(self.registry_token)}, source={self.source!r})"
        )


def _redacted(secret: str | None) -> str:
    return "None" if secret is None else "'<redacted>'"


def parse_creds_option(value: str) -> RegistryCredentials:
    """Parse ``--creds USER:PASSWORD``; the password may itself contain colons."""
    username, colon, password = value.partition(":")
    if not username:
        raise CredentialsError(
            "expected USER:PASSWORD, the user name is empty", subject=_CREDS_OPTION
        )
    if not colon or not password:
        raise CredentialsError(
            "expected USER:PASSWORD, the password is missing", subject=_CREDS_OPTION
        )
    return RegistryCredentials(username, password, None, _CREDS_OPTION)


def normalize_registry_host(server: str) -> str:
    """Reduce a registry name or auth-file key (``https://host/v2/``) to bare ``host[:port]``.

    The Docker Hub aliases all become ``index.docker.io``.
    """
    host = server.strip()
    _, scheme_sep, rest = host.partition("://")
    if scheme_sep:
        host = rest
    host = host.split("/", 1)[0].lower()
    return DOCKER_HUB_HOST if host in _DOCKER_HUB_ALIASES else host


def auth_file_paths(
    environ: Mapping[str, str], docker_config_path: Path | None = None
) -> tuple[Path, ...]:
    """The auth files to read, in lookup order (see the module docstring)."""
    if docker_config_path is not None:
        return (docker_config_path,)
    override = environ.get("REGISTRY_AUTH_FILE")
    if override:
        return (Path(override),)
    home = _home(environ)
    paths: list[Path] = []
    runtime_dir = environ.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        paths.append(Path(runtime_dir) / "containers" / "auth.json")
    config_home = environ.get("XDG_CONFIG_HOME")
    if config_home:
        paths.append(Path(config_home) / "containers" / "auth.json")
    elif home is not None:
        paths.append(home / ".config" / "containers" / "auth.json")
    docker_config = environ.get("DOCKER_CONFIG")
    if docker_config:
        paths.append(Path(docker_config) / "config.json")
    elif home is not None:
        paths.append(home / ".docker" / "config.json")
    return tuple(paths)


def _home(environ: Mapping[str, str]) -> Path | None:
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return Path(home) if home else None


@dataclass(frozen=True, slots=True)
class _AuthEntry:
    """One ``auths`` entry, reduced to the fields that carry credentials."""

    auth: str | None
    username: str | None
    password: str | None
    identity_token: str | None


@dataclass(frozen=True, slots=True)
class _AuthFile:
    """The credential-related parts of one Docker ``config.json`` / containers ``auth.json``."""

    label: str
    auths: Mapping[str, _AuthEntry]
    cred_helpers: Mapping[str, str]
    creds_store: str | None

    def matching_keys(self, host: str) -> list[str]:
        """``auths`` keys naming ``host``, an exact spelling first."""
        keys = [key for key in self.auths if normalize_registry_host(key) == host]
        exact = [key for key in keys if key in (host, _server_url(host))]
        return exact + [key for key in keys if key not in exact]

    def helper_for(self, host: str) -> str | None:
        """The ``credHelpers`` helper configured for ``host``, if any."""
        for key, helper in self.cred_helpers.items():
            if helper and normalize_registry_host(key) == host:
                return helper
        return None


def _server_url(host: str) -> str:
    return DOCKER_HUB_SERVER_URL if host == DOCKER_HUB_HOST else host


class CredentialStore:
    """Finds credentials for a registry host from explicit inputs (no hidden global state)."""

    def __init__(
        self,
        *,
        environ: Mapping[str, str],
        explicit: RegistryCredentials | None = None,
        docker_config_path: Path | None = None,
        helper_timeout: float = HELPER_TIMEOUT_SECONDS,
    ) -> None:
        self._explicit = explicit
        self._environ = dict(environ)
        self._paths = auth_file_paths(self._environ, docker_config_path)
        self._home = _home(self._environ)
        self._helper_timeout = helper_timeout
        self._found: dict[str, RegistryCredentials | None] = {}

    @classmethod
    def from_process(cls, explicit: RegistryCredentials | None = None) -> CredentialStore:
        """A store reading this process's environment (for the CLI edge)."""
        return cls(environ=os.environ, explicit=explicit)

    @property
    def auth_files(self) -> tuple[Path, ...]:
        """The auth files consulted, in lookup order."""
        return self._paths

    def lookup(self, registry_host: str) -> RegistryCredentials | None:
        """Credentials for ``registry_host`` (any spelling), or ``None`` for anonymous access."""
        if self._explicit is not None:
            return self._explicit
        from_env = self._from_environment()
        if from_env is not None:
            return from_env
        host = normalize_registry_host(registry_host)
        if host not in self._found:
            self._found[host] = self._from_files(host)
        return self._found[host]

    def _from_environment(self) -> RegistryCredentials | None:
        username = self._environ.get(ENV_USERNAME) or None
        password = self._environ.get(ENV_PASSWORD) or None
        if username is None and password is None:
            return None
        if username is None or password is None:
            missing = ENV_USERNAME if username is None else ENV_PASSWORD
            present = ENV_PASSWORD if username is None else ENV_USERNAME
            raise CredentialsError(
                f"{present} is set but {missing} is not; set both or neither",
                subject="environment",
            )
        return RegistryCredentials(username, password, None, "environment")

    def _from_files(self, host: str) -> RegistryCredentials | None:
        for path in self._paths:
            auth_file = _load_auth_file(path, self._display(path))
            if auth_file is None:
                continue
            found = self._from_file(auth_file, host)
            if found is not None:
                return found
        return None

    def _from_file(self, auth_file: _AuthFile, host: str) -> RegistryCredentials | None:
        keys = auth_file.matching_keys(host)
        server_url = keys[0] if keys else _server_url(host)
        helper = auth_file.helper_for(host) or auth_file.creds_store
        if helper:
            found = self._run_helper(helper, server_url, auth_file.label)
            if found is not None:
                return found
        for key in keys:
            found = _from_entry(auth_file.auths[key], key, auth_file.label)
            if found is not None:
                return found
        return None

    def _run_helper(self, name: str, server_url: str, label: str) -> RegistryCredentials | None:
        """Run ``docker-credential-<name> get``; ``None`` when it has nothing for the server."""
        program = _HELPER_PREFIX + name
        source = f"credential helper {program}"
        if not _HELPER_NAME.match(name):
            raise CredentialsError(f"invalid credential helper name {name!r}", subject=label)
        executable = shutil.which(program, path=self._environ.get("PATH", os.defpath))
        if executable is None:
            raise CredentialsError(f"not found on PATH (configured in {label})", subject=source)
        try:
            done = subprocess.run(
                [executable, "get"],
                input=server_url.encode(),
                capture_output=True,
                timeout=self._helper_timeout,
                env=self._environ,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CredentialsError(
                f"no answer within {self._helper_timeout:g} s", subject=source
            ) from None
        except OSError as error:
            raise CredentialsError(
                f"cannot run: {error.strerror or error}", subject=source
            ) from None
        if done.returncode != 0:
            return _helper_failure(done, source)
        return _parse_helper_answer(done.stdout, source)

    def _display(self, path: Path) -> str:
        if self._home is not None and path.is_relative_to(self._home):
            return "~/" + path.relative_to(self._home).as_posix()
        return str(path)


def _helper_failure(
    done: subprocess.CompletedProcess[bytes], source: str
) -> RegistryCredentials | None:
    """``None`` for "credentials not found"; else raise with the helper's first error line."""
    stdout = done.stdout.decode(errors="replace")
    stderr = done.stderr.decode(errors="replace")
    if _NOT_FOUND in stdout.lower() or _NOT_FOUND in stderr.lower():
        return None
    # Standard helpers print their error on stdout; never show a line that looks like an answer.
    detail = _first_line(stderr) or _first_line(stdout)
    if detail.startswith("{"):
        detail = ""
    status = (
        f"killed by signal {-done.returncode}"
        if done.returncode < 0
        else f"exit status {done.returncode}"
    )
    raise CredentialsError(f"failed ({status})" + (f": {detail}" if detail else ""), subject=source)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:_MAX_DETAIL]
    return ""


def _parse_helper_answer(stdout: bytes, source: str) -> RegistryCredentials | None:
    """Parse ``{"ServerURL", "Username", "Secret"}``; ``<token>`` marks an identity token."""
    try:
        answer = json.loads(stdout)
    except (ValueError, RecursionError):
        raise CredentialsError("answered with malformed JSON", subject=source) from None
    if not isinstance(answer, dict):
        raise CredentialsError("answer is not a JSON object", subject=source)
    username = answer.get("Username") or ""
    secret = answer.get("Secret") or ""
    if not isinstance(username, str) or not isinstance(secret, str):
        raise CredentialsError("answer has a non-string Username or Secret", subject=source)
    if not username and not secret:
        return None
    if username == _TOKEN_USERNAME:
        return RegistryCredentials(None, None, secret or None, source)
    return RegistryCredentials(username or None, secret or None, None, source)


def _from_entry(entry: _AuthEntry, key: str, label: str) -> RegistryCredentials | None:
    """Credentials in one ``auths`` entry, or ``None`` for an empty entry."""
    username, password = entry.username, entry.password
    if entry.auth:
        username, password = _decode_auth(entry.auth, key, label)
    if not username and not password and not entry.identity_token:
        return None
    return RegistryCredentials(
        username or None, password or None, entry.identity_token or None, f"{label} auths"
    )


def _decode_auth(auth: str, key: str, label: str) -> tuple[str, str]:
    """Decode an ``auth`` field (base64 of ``user:pass``, split at the first colon)."""
    try:
        padded = auth.strip() + "=" * (-len(auth.strip()) % 4)
        decoded = base64.b64decode(padded, validate=True).decode()
    except (binascii.Error, ValueError):
        raise CredentialsError(
            f'"auths" entry "{key}": "auth" is not base64 of USER:PASSWORD', subject=label
        ) from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise CredentialsError(
            f'"auths" entry "{key}": "auth" has no ":" between user and password', subject=label
        )
    return username, password


def _load_auth_file(path: Path, label: str) -> _AuthFile | None:
    """Read one auth file; ``None`` if it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CredentialsError(f"cannot read: {error.strerror or error}", subject=label) from None
    if not raw.strip():
        return _AuthFile(label, {}, {}, None)
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise CredentialsError(
            f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}",
            subject=label,
        ) from None
    except (ValueError, RecursionError):
        raise CredentialsError("malformed JSON", subject=label) from None
    if not isinstance(document, dict):
        raise CredentialsError("not a JSON object", subject=label)
    return _AuthFile(
        label,
        _auths(document.get("auths"), label),
        _cred_helpers(document.get("credHelpers"), label),
        _optional_str(document.get("credsStore"), '"credsStore"', label) or None,
    )


def _auths(value: object, label: str) -> dict[str, _AuthEntry]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CredentialsError('"auths" is not a JSON object', subject=label)
    entries: dict[str, _AuthEntry] = {}
    for key, entry in value.items():
        if not isinstance(entry, dict):
            raise CredentialsError(f'"auths" entry "{key}" is not a JSON object', subject=label)
        where = f'"auths" entry "{key}" field'
        entries[key] = _AuthEntry(
            auth=_optional_str(entry.get("auth"), f'{where} "auth"', label),
            username=_optional_str(entry.get("username"), f'{where} "username"', label),
            password=_optional_str(entry.get("password"), f'{where} "password"', label),
            identity_token=_optional_str(
                entry.get("identitytoken"), f'{where} "identitytoken"', label
            ),
        )
    return entries


def _cred_helpers(value: object, label: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CredentialsError('"credHelpers" is not a JSON object', subject=label)
    helpers: dict[str, str] = {}
    for key, helper in value.items():
        if not isinstance(helper, str):
            raise CredentialsError(f'"credHelpers" entry "{key}" is not a string', subject=label)
        helpers[key] = helper
    return helpers


def _optional_str(value: object, what: str, label: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise CredentialsError(f"{what} is not a string", subject=label)
