"""Registry credential lookup, against real config files and real credential-helper programs."""

from __future__ import annotations

import base64
import json
import stat
import sys
from pathlib import Path

import pytest

from hullscan.errors import CredentialsError
from hullscan.image.registry.credentials import (
    DOCKER_HUB_SERVER_URL,
    CredentialStore,
    RegistryCredentials,
    auth_file_paths,
    normalize_registry_host,
    parse_creds_option,
)

HOST = "registry.example.com"
HELPER_HOST = "helper.example.com"
HELPER_USER = "helper-user"
HELPER_SECRET = "helper:s3cret-from-helper"
STORE_SECRET = "s3cret-from-store"

# A real credential helper speaking the docker-credential-helpers protocol: it logs each
# request (server URL as received) to $TESTHELPER_LOG and answers from a fixed store.
HELPER_SOURCE = """\
#!{python}
import json, os, sys
STORE = {store}
if sys.argv[1:] != ["get"]:
    print("unsupported action", sys.argv[1:], file=sys.stderr)
    sys.exit(2)
server = sys.stdin.read()
log = os.environ.get("TESTHELPER_LOG")
if log:
    with open(log, "a") as handle:
        handle.write(server + "\\n")
if server not in STORE:
    print("credentials not found in native keychain")
    sys.exit(1)
username, secret = STORE[server]
json.dump({{"ServerURL": server, "Username": username, "Secret": secret}}, sys.stdout)
"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def install_helper(bin_dir: Path, name: str, store: dict[str, tuple[str, str]]) -> Path:
    source = HELPER_SOURCE.format(python=sys.executable, store=repr(store))
    return write_executable(bin_dir / f"docker-credential-{name}", source)


def install_shell_helper(bin_dir: Path, name: str, body: str) -> Path:
    return write_executable(bin_dir / f"docker-credential-{name}", f"#!/bin/sh\n{body}\n")


def write_json(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    install_helper(directory, "testhelper", {HELPER_HOST: (HELPER_USER, HELPER_SECRET)})
    install_helper(
        directory,
        "tokenhelper",
        {DOCKER_HUB_SERVER_URL: ("<token>", "hub-identity-token"), HOST: ("", "")},
    )
    install_helper(directory, "storehelper", {HOST: ("store-user", STORE_SECRET)})
    install_shell_helper(
        directory,
        "broken",
        'echo "gpg: decryption failed: no secret key" >&2\necho "second line" >&2\nexit 3',
    )
    install_shell_helper(
        directory, "stdoutbroken", 'echo "error getting credentials - err: exit status 1"\nexit 1'
    )
    install_shell_helper(directory, "garbage", "echo 'this is not json'")
    install_shell_helper(directory, "slow", "exec sleep 10")
    return directory


@pytest.fixture
def helper_log(tmp_path: Path) -> Path:
    return tmp_path / "helper.log"


@pytest.fixture
def environ(tmp_path: Path, bin_dir: Path, helper_log: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "TESTHELPER_LOG": str(helper_log),
    }


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "docker" / "config.json"


def store_for(
    environ: dict[str, str],
    config_path: Path,
    document: object | None = None,
    *,
    explicit: RegistryCredentials | None = None,
) -> CredentialStore:
    if document is not None:
        write_json(config_path, document)
    return CredentialStore(environ=environ, explicit=explicit, docker_config_path=config_path)


def requests(helper_log: Path) -> list[str]:
    return helper_log.read_text().splitlines() if helper_log.exists() else []


# --- RegistryCredentials and --creds --------------------------------------------------


def test_repr_redacts_password_and_token() -> None:
    creds = RegistryCredentials("alice", "hunter2-password", "tok-3nigma", "--creds")
    for text in (repr(creds), str(creds)):
        assert "hunter2-password" not in text
        assert "tok-3nigma" not in text
        assert "alice" in text
        assert "--creds" in text
        assert "<redacted>" in text
    assert "password=None" in repr(RegistryCredentials("bob", None, None, "environment"))


def test_credentials_are_frozen() -> None:
    creds = RegistryCredentials("alice", "pw", None, "--creds")
    with pytest.raises(AttributeError):
        creds.password = "other"  # type: ignore[misc]


def test_parse_creds_option_keeps_colons_in_password() -> None:
    creds = parse_creds_option("alice:pa:ss:word")
    assert creds == RegistryCredentials("alice", "pa:ss:word", None, "--creds")


@pytest.mark.parametrize("value", ["alice", "alice:"])
def test_parse_creds_option_needs_password(value: str) -> None:
    with pytest.raises(CredentialsError) as raised:
        parse_creds_option(value)
    assert "--creds" in str(raised.value)
    assert "password" in str(raised.value)


def test_parse_creds_option_needs_user_and_never_echoes_password() -> None:
    with pytest.raises(CredentialsError) as raised:
        parse_creds_option(":t0p-secret")
    assert "--creds" in str(raised.value)
    assert "t0p-secret" not in str(raised.value)


# --- precedence -------------------------------------------------------------------------


def full_config() -> dict[str, object]:
    return {
        "auths": {HOST: {"auth": b64("file-user:file-pass")}},
        "credHelpers": {HOST: "testhelper"},
        "credsStore": "storehelper",
    }


def test_explicit_creds_win_over_everything(environ: dict[str, str], config_path: Path) -> None:
    environ |= {"HULLSCAN_REGISTRY_USERNAME": "env-user", "HULLSCAN_REGISTRY_PASSWORD": "env-pw"}
    explicit = parse_creds_option("cli-user:cli-pw")
    store = store_for(environ, config_path, full_config(), explicit=explicit)
    assert store.lookup(HOST) is explicit


def test_environment_wins_over_config(
    environ: dict[str, str], config_path: Path, helper_log: Path
) -> None:
    environ |= {"HULLSCAN_REGISTRY_USERNAME": "env-user", "HULLSCAN_REGISTRY_PASSWORD": "env:pw"}
    store = store_for(environ, config_path, full_config())
    assert store.lookup(HOST) == RegistryCredentials("env-user", "env:pw", None, "environment")
    assert requests(helper_log) == []


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ("HULLSCAN_REGISTRY_USERNAME", "HULLSCAN_REGISTRY_PASSWORD"),
        ("HULLSCAN_REGISTRY_PASSWORD", "HULLSCAN_REGISTRY_USERNAME"),
    ],
)
def test_environment_needs_both_variables(
    environ: dict[str, str], config_path: Path, present: str, missing: str
) -> None:
    environ[present] = "half-s3cret"
    with pytest.raises(CredentialsError) as raised:
        store_for(environ, config_path, full_config()).lookup(HOST)
    assert missing in str(raised.value)
    assert "half-s3cret" not in str(raised.value)


def test_empty_environment_variables_count_as_unset(
    environ: dict[str, str], config_path: Path
) -> None:
    environ |= {"HULLSCAN_REGISTRY_USERNAME": "", "HULLSCAN_REGISTRY_PASSWORD": ""}
    document = {"auths": {HOST: {"auth": b64("file-user:file-pass")}}}
    creds = store_for(environ, config_path, document).lookup(HOST)
    assert creds is not None
    assert creds.username == "file-user"


def test_cred_helper_for_host_wins_over_store_and_auths(
    environ: dict[str, str], config_path: Path
) -> None:
    document = full_config()
    document["credHelpers"] = {HELPER_HOST: "testhelper"}
    document["auths"] = {HELPER_HOST: {"auth": b64("file-user:file-pass")}}
    creds = store_for(environ, config_path, document).lookup(HELPER_HOST)
    assert creds == RegistryCredentials(
        HELPER_USER, HELPER_SECRET, None, "credential helper docker-credential-testhelper"
    )


def test_creds_store_wins_over_auths(environ: dict[str, str], config_path: Path) -> None:
    document = {"auths": {HOST: {"auth": b64("file-user:file-pass")}}, "credsStore": "storehelper"}
    creds = store_for(environ, config_path, document).lookup(HOST)
    assert creds == RegistryCredentials(
        "store-user", STORE_SECRET, None, "credential helper docker-credential-storehelper"
    )


def test_cred_helper_not_found_falls_through_to_auths_not_store(
    environ: dict[str, str], config_path: Path, helper_log: Path
) -> None:
    # testhelper knows nothing about HOST; Docker then skips credsStore for this host.
    creds = store_for(environ, config_path, full_config()).lookup(HOST)
    assert creds == RegistryCredentials("file-user", "file-pass", None, f"{config_path} auths")
    assert requests(helper_log) == [HOST]


def test_creds_store_not_found_falls_through_to_auths(
    environ: dict[str, str], config_path: Path
) -> None:
    document = {
        "auths": {"other.example.com": {"username": "u", "password": "p"}},
        "credsStore": "storehelper",
    }
    creds = store_for(environ, config_path, document).lookup("other.example.com")
    assert creds == RegistryCredentials("u", "p", None, f"{config_path} auths")


def test_helper_with_empty_answer_means_no_credentials(
    environ: dict[str, str], config_path: Path
) -> None:
    document = {"auths": {HOST: {"username": "u", "password": "p"}}, "credsStore": "tokenhelper"}
    creds = store_for(environ, config_path, document).lookup(HOST)
    assert creds is not None
    assert creds.source.endswith("auths")


def test_no_credentials_anywhere(environ: dict[str, str], config_path: Path) -> None:
    document = {"auths": {"elsewhere.example.com": {"auth": b64("a:b")}}}
    assert store_for(environ, config_path, document).lookup(HOST) is None


def test_lookups_are_remembered_per_store(
    environ: dict[str, str], config_path: Path, helper_log: Path
) -> None:
    store = store_for(environ, config_path, {"credHelpers": {HELPER_HOST: "testhelper"}})
    first = store.lookup(HELPER_HOST)
    assert first is not None
    assert store.lookup(f"https://{HELPER_HOST}/v2/") == first
    assert requests(helper_log) == [HELPER_HOST]


# --- host matching ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("registry.example.com", "registry.example.com"),
        ("https://registry.example.com", "registry.example.com"),
        ("http://registry.example.com/v1/", "registry.example.com"),
        ("https://Registry.Example.com/v2/", "registry.example.com"),
        ("localhost:5000", "localhost:5000"),
        ("http://localhost:5000/v2/", "localhost:5000"),
        ("docker.io", "index.docker.io"),
        ("registry-1.docker.io", "index.docker.io"),
        ("https://index.docker.io/v1/", "index.docker.io"),
    ],
)
def test_normalize_registry_host(written: str, expected: str) -> None:
    assert normalize_registry_host(written) == expected


@pytest.mark.parametrize(
    "key",
    [
        "registry.example.com",
        "https://registry.example.com",
        "http://registry.example.com/v1/",
        "https://registry.example.com/v2/",
    ],
)
@pytest.mark.parametrize("asked", ["registry.example.com", "https://registry.example.com/v2/"])
def test_auths_key_spellings_match(
    environ: dict[str, str], config_path: Path, key: str, asked: str
) -> None:
    document = {"auths": {key: {"username": "u", "password": "p"}}}
    creds = store_for(environ, config_path, document).lookup(asked)
    assert creds is not None
    assert creds.username == "u"


def test_port_is_part_of_the_host(environ: dict[str, str], config_path: Path) -> None:
    document = {"auths": {"localhost:5000": {"username": "u", "password": "p"}}}
    store = store_for(environ, config_path, document)
    assert store.lookup("localhost:5000") is not None
    assert store.lookup("localhost") is None
    assert store.lookup("localhost:5001") is None


def test_exact_key_preferred_over_other_spellings(
    environ: dict[str, str], config_path: Path
) -> None:
    document = {
        "auths": {
            f"https://{HOST}/v2/": {"username": "alias-user", "password": "p"},
            HOST: {"username": "exact-user", "password": "p"},
        }
    }
    creds = store_for(environ, config_path, document).lookup(HOST)
    assert creds is not None
    assert creds.username == "exact-user"


@pytest.mark.parametrize("asked", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_aliases_use_the_v1_key(
    environ: dict[str, str], config_path: Path, asked: str
) -> None:
    document = {"auths": {DOCKER_HUB_SERVER_URL: {"auth": b64("hubuser:hubpass")}}}
    creds = store_for(environ, config_path, document).lookup(asked)
    assert creds == RegistryCredentials("hubuser", "hubpass", None, f"{config_path} auths")


def test_docker_hub_helper_receives_the_v1_url_and_token(
    environ: dict[str, str], config_path: Path, helper_log: Path
) -> None:
    creds = store_for(environ, config_path, {"credsStore": "tokenhelper"}).lookup("docker.io")
    assert creds == RegistryCredentials(
        None, None, "hub-identity-token", "credential helper docker-credential-tokenhelper"
    )
    assert "hub-identity-token" not in repr(creds)
    assert requests(helper_log) == [DOCKER_HUB_SERVER_URL]


def test_helper_receives_the_auths_key_as_written(
    environ: dict[str, str], config_path: Path, helper_log: Path
) -> None:
    document = {"auths": {f"https://{HELPER_HOST}": {}}, "credsStore": "testhelper"}
    assert store_for(environ, config_path, document).lookup(HELPER_HOST) is None
    assert requests(helper_log) == [f"https://{HELPER_HOST}"]


def test_cred_helpers_keys_are_normalised(environ: dict[str, str], config_path: Path) -> None:
    document = {"credHelpers": {f"https://{HELPER_HOST}/v2/": "testhelper"}}
    creds = store_for(environ, config_path, document).lookup(HELPER_HOST)
    assert creds is not None
    assert creds.password == HELPER_SECRET


# --- auths entries ----------------------------------------------------------------------


def test_auth_field_with_colon_in_password(environ: dict[str, str], config_path: Path) -> None:
    document = {"auths": {HOST: {"auth": b64("alice:pa:ss:wörd")}}}
    creds = store_for(environ, config_path, document).lookup(HOST)
    assert creds == RegistryCredentials("alice", "pa:ss:wörd", None, f"{config_path} auths")


def test_auth_field_without_padding(environ: dict[str, str], config_path: Path) -> None:
    document = {"auths": {HOST: {"auth": b64("ab:c").rstrip("=")}}}
    creds = store_for(environ, config_path, document).lookup(HOST)
    assert creds is not None
    assert (creds.username, creds.password) == ("ab", "c")


def test_username_and_password_fields(environ: dict[str, str], config_path: Path) -> None:
    document = {"auths": {HOST: {"username": "alice", "password": "pw", "email": "a@b"}}}
    creds = store_for(environ, config_path, document).lookup(HOST)
    assert creds == RegistryCredentials("alice", "pw", None, f"{config_path} auths")


def test_auth_field_wins_over_username_and_password(
    environ: dict[str, str], config_path: Path
) -> None:
    entry = {"auth": b64("from-auth:pw1"), "username": "from-fields", "password": "pw2"}
    creds = store_for(environ, config_path, {"auths": {HOST: entry}}).lookup(HOST)
    assert creds is not None
    assert (creds.username, creds.password) == ("from-auth", "pw1")


def test_identity_token_entry(environ: dict[str, str], config_path: Path) -> None:
    document = {"auths": {HOST: {"identitytoken": "id-t0ken"}}}
    creds = store_for(environ, config_path, document).lookup(HOST)
    assert creds == RegistryCredentials(None, None, "id-t0ken", f"{config_path} auths")
    assert "id-t0ken" not in repr(creds)


def test_identity_token_with_username(environ: dict[str, str], config_path: Path) -> None:
    document = {"auths": {HOST: {"auth": b64("alice:"), "identitytoken": "id-t0ken"}}}
    creds = store_for(environ, config_path, document).lookup(HOST)
    assert creds == RegistryCredentials("alice", None, "id-t0ken", f"{config_path} auths")


def test_empty_auths_entry_means_no_credentials(environ: dict[str, str], config_path: Path) -> None:
    assert store_for(environ, config_path, {"auths": {HOST: {}}}).lookup(HOST) is None


@pytest.mark.parametrize(
    ("auth", "reason"),
    [("@@not base64@@", "not base64"), (b64("no-colon-s3cret"), 'no ":"')],
)
def test_bad_auth_field_names_file_and_entry_not_value(
    environ: dict[str, str], config_path: Path, auth: str, reason: str
) -> None:
    store = store_for(environ, config_path, {"auths": {HOST: {"auth": auth}}})
    with pytest.raises(CredentialsError) as raised:
        store.lookup(HOST)
    message = str(raised.value)
    assert str(config_path) in message
    assert HOST in message
    assert reason in message
    assert auth not in message
    assert "s3cret" not in message


# --- credential helper failures ---------------------------------------------------------


def test_failing_helper_reports_name_and_first_stderr_line(
    environ: dict[str, str], config_path: Path
) -> None:
    store = store_for(environ, config_path, {"credsStore": "broken"})
    with pytest.raises(CredentialsError) as raised:
        store.lookup(HOST)
    message = str(raised.value)
    assert "docker-credential-broken" in message
    assert "exit status 3" in message
    assert "gpg: decryption failed: no secret key" in message
    assert "second line" not in message


def test_failing_helper_error_on_stdout_is_reported(
    environ: dict[str, str], config_path: Path
) -> None:
    store = store_for(environ, config_path, {"credHelpers": {HOST: "stdoutbroken"}})
    with pytest.raises(CredentialsError, match="error getting credentials") as raised:
        store.lookup(HOST)
    assert "docker-credential-stdoutbroken" in str(raised.value)


def test_helper_with_malformed_answer(environ: dict[str, str], config_path: Path) -> None:
    store = store_for(environ, config_path, {"credsStore": "garbage"})
    with pytest.raises(CredentialsError) as raised:
        store.lookup(HOST)
    assert "docker-credential-garbage" in str(raised.value)
    assert "malformed JSON" in str(raised.value)
    assert "this is not json" not in str(raised.value)


def test_helper_timeout(environ: dict[str, str], config_path: Path) -> None:
    write_json(config_path, {"credsStore": "slow"})
    store = CredentialStore(environ=environ, docker_config_path=config_path, helper_timeout=0.5)
    with pytest.raises(CredentialsError, match=r"docker-credential-slow.*no answer within 0\.5 s"):
        store.lookup(HOST)


def test_helper_missing_from_path(environ: dict[str, str], config_path: Path) -> None:
    store = store_for(environ, config_path, {"credsStore": "desktop"})
    with pytest.raises(CredentialsError) as raised:
        store.lookup(HOST)
    assert "docker-credential-desktop" in str(raised.value)
    assert "not found on PATH" in str(raised.value)


def test_helper_is_only_searched_on_the_given_path(
    environ: dict[str, str], config_path: Path
) -> None:
    environ["PATH"] = "/usr/bin:/bin"
    store = store_for(environ, config_path, {"credsStore": "testhelper"})
    with pytest.raises(CredentialsError, match="not found on PATH"):
        store.lookup(HELPER_HOST)


def test_helper_name_cannot_be_a_path(environ: dict[str, str], config_path: Path) -> None:
    store = store_for(environ, config_path, {"credHelpers": {HOST: "../bin/docker-credential-x"}})
    with pytest.raises(CredentialsError, match="invalid credential helper name"):
        store.lookup(HOST)


# --- config files -----------------------------------------------------------------------


def test_malformed_json_names_the_file(environ: dict[str, str], config_path: Path) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text('{"auths": {"registry.example.com": {"auth": "c2VjcmV0"}')
    with pytest.raises(CredentialsError) as raised:
        CredentialStore(environ=environ, docker_config_path=config_path).lookup(HOST)
    assert str(config_path) in str(raised.value)
    assert "malformed JSON" in str(raised.value)
    assert "c2VjcmV0" not in str(raised.value)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "not a JSON object"),
        ({"auths": []}, '"auths" is not a JSON object'),
        ({"auths": {HOST: "x"}}, f'"auths" entry "{HOST}" is not a JSON object'),
        ({"auths": {HOST: {"auth": 1}}}, '"auth" is not a string'),
        ({"credHelpers": {HOST: 1}}, '"credHelpers" entry'),
        ({"credsStore": ["x"]}, '"credsStore" is not a string'),
    ],
)
def test_wrongly_shaped_config_names_the_file(
    environ: dict[str, str], config_path: Path, document: object, reason: str
) -> None:
    with pytest.raises(CredentialsError) as raised:
        store_for(environ, config_path, document).lookup(HOST)
    assert str(config_path) in str(raised.value)
    assert reason in str(raised.value)


def test_missing_config_means_no_credentials(environ: dict[str, str], config_path: Path) -> None:
    assert CredentialStore(environ=environ, docker_config_path=config_path).lookup(HOST) is None


def test_empty_config_means_no_credentials(environ: dict[str, str], config_path: Path) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text("\n")
    assert CredentialStore(environ=environ, docker_config_path=config_path).lookup(HOST) is None


def test_unreadable_config_is_an_error(environ: dict[str, str], config_path: Path) -> None:
    config_path.mkdir(parents=True)
    with pytest.raises(CredentialsError, match="cannot read") as raised:
        CredentialStore(environ=environ, docker_config_path=config_path).lookup(HOST)
    assert str(config_path) in str(raised.value)


# --- auth file resolution ---------------------------------------------------------------


def test_default_is_home_docker_config(environ: dict[str, str]) -> None:
    home = Path(environ["HOME"])
    assert auth_file_paths(environ) == (
        home / ".config" / "containers" / "auth.json",
        home / ".docker" / "config.json",
    )
    write_json(home / ".docker" / "config.json", {"auths": {HOST: {"auth": b64("u:p")}}})
    creds = CredentialStore(environ=environ).lookup(HOST)
    assert creds == RegistryCredentials("u", "p", None, "~/.docker/config.json auths")


def test_docker_config_variable(environ: dict[str, str], tmp_path: Path) -> None:
    environ["DOCKER_CONFIG"] = str(tmp_path / "dc")
    write_json(Path(environ["HOME"]) / ".docker" / "config.json", {"auths": {HOST: {}}})
    write_json(tmp_path / "dc" / "config.json", {"auths": {HOST: {"auth": b64("dc:pw")}}})
    creds = CredentialStore(environ=environ).lookup(HOST)
    assert creds is not None
    assert creds.username == "dc"
    assert creds.source == f"{tmp_path / 'dc' / 'config.json'} auths"


def test_containers_auth_files_come_before_docker_config(
    environ: dict[str, str], tmp_path: Path
) -> None:
    environ |= {
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdgconfig"),
    }
    runtime = tmp_path / "run" / "containers" / "auth.json"
    config_home = tmp_path / "xdgconfig" / "containers" / "auth.json"
    docker = Path(environ["HOME"]) / ".docker" / "config.json"
    assert auth_file_paths(environ) == (runtime, config_home, docker)

    write_json(runtime, {"auths": {HOST: {"auth": b64("podman:pw")}}})
    write_json(config_home, {"auths": {"second.example.com": {"auth": b64("xdg:pw")}}})
    write_json(docker, {"auths": {h: {"auth": b64("docker:pw")} for h in (HOST, "third.io")}})
    store = CredentialStore(environ=environ)
    found = [store.lookup(h) for h in (HOST, "second.example.com", "third.io")]
    assert [c.username if c else None for c in found] == ["podman", "xdg", "docker"]
    assert store.lookup("nowhere.example.com") is None


def test_registry_auth_file_is_used_alone(environ: dict[str, str], tmp_path: Path) -> None:
    override = tmp_path / "override.json"
    environ |= {"REGISTRY_AUTH_FILE": str(override), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    assert auth_file_paths(environ) == (override,)
    write_json(Path(environ["HOME"]) / ".docker" / "config.json", {"auths": {HOST: {}}})
    write_json(override, {"auths": {HOST: {"auth": b64("authfile:pw")}}})
    creds = CredentialStore(environ=environ).lookup(HOST)
    assert creds is not None
    assert creds.username == "authfile"


def test_explicit_config_path_overrides_environment(
    environ: dict[str, str], tmp_path: Path, config_path: Path
) -> None:
    environ |= {
        "REGISTRY_AUTH_FILE": str(tmp_path / "override.json"),
        "DOCKER_CONFIG": str(tmp_path / "dc"),
    }
    assert auth_file_paths(environ, config_path) == (config_path,)
    assert CredentialStore(environ=environ, docker_config_path=config_path).auth_files == (
        config_path,
    )


def test_no_home_means_no_default_files() -> None:
    assert auth_file_paths({}) == ()
    assert CredentialStore(environ={}).lookup(HOST) is None
