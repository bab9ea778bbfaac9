"""Every cataloger: which files it wants and which parser reads them.

A cataloger is data: a name, a predicate on a layer entry and a pure parser
``(path, content) -> [FoundPackage]``. The layer pass asks each cataloger's predicate and
hands the file to the parsers that want it; nothing here reads a filesystem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hullscan.catalog.lang import (
    dotnet,
    go_binary,
    golang,
    java,
    javascript,
    php,
    python,
    ruby,
    rust,
    rust_binary,
)
from hullscan.catalog.model import FoundPackage
from hullscan.catalog.os import apk, dpkg, rpm
from hullscan.image.layer import FileEntry, FileKind

Parser = Callable[[str, bytes], list[FoundPackage]]


@dataclass(frozen=True)
class Cataloger:
    """A parser bound to the files it reads."""

    name: str
    wants: Callable[[FileEntry], bool]
    parse: Parser
    version: int = 1
    """Bumped when results change, so that cached layer analyses are not reused."""


def _basename(entry: FileEntry) -> str:
    # Paths are normalised (no trailing slash): rpartition is several times cheaper than
    # posixpath.basename, and every cataloger asks for every file of every layer.
    return entry.path.rpartition("/")[2]


def _named(*names: str) -> Callable[[FileEntry], bool]:
    wanted = frozenset(names)
    return lambda entry: _basename(entry) in wanted


def _paths(*paths: str) -> Callable[[FileEntry], bool]:
    wanted = frozenset(paths)
    return lambda entry: entry.path in wanted


def _outside_node_modules(names: Callable[[FileEntry], bool]) -> Callable[[FileEntry], bool]:
    """Lock files of packages inside node_modules describe those packages' own builds."""
    return lambda entry: names(entry) and "node_modules/" not in entry.path


def _dpkg_status(entry: FileEntry) -> bool:
    return entry.path == "var/lib/dpkg/status" or (
        entry.path.startswith("var/lib/dpkg/status.d/") and "." not in _basename(entry))


def _python_metadata(entry: FileEntry) -> bool:
    directory, _, name = entry.path.rpartition("/")
    parent = directory.rpartition("/")[2]
    return (name == "METADATA" and parent.endswith(".dist-info")) or (
        name == "PKG-INFO" and parent.endswith(".egg-info")) or (
        name.endswith(".egg-info") and entry.kind is FileKind.REGULAR)


def _requirements(entry: FileEntry) -> bool:
    name = _basename(entry)
    return name.startswith("requirements") and name.endswith(".txt") \
        and "site-packages/" not in entry.path and "dist-packages/" not in entry.path


def _installed_npm_package(entry: FileEntry) -> bool:
    """``node_modules/NAME/package.json`` or ``node_modules/@scope/NAME/package.json``."""
    parts = entry.path.split("/")
    if len(parts) < 3 or parts[-1] != "package.json":
        return False
    if parts[-3] == "node_modules":
        return not parts[-2].startswith(".")
    return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")


def _project_package_json(entry: FileEntry) -> bool:
    return _basename(entry) == "package.json" and "node_modules/" not in entry.path


def _gemspec(entry: FileEntry) -> bool:
    return entry.path.endswith(".gemspec") and "/specifications/" in f"/{entry.path}"


def _composer_installed(entry: FileEntry) -> bool:
    return entry.path.endswith("vendor/composer/installed.json")


def _deps_json(entry: FileEntry) -> bool:
    return entry.path.endswith(".deps.json")


_JAVA_ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".jpi", ".hpi")


def _java_archive(entry: FileEntry) -> bool:
    return entry.path.endswith(_JAVA_ARCHIVE_SUFFIXES)


def _executable(entry: FileEntry) -> bool:
    """Regular files with an execute bit: where Go and Rust binaries live."""
    return entry.mode & 0o111 != 0 and entry.size > 0


CATALOGERS: tuple[Cataloger, ...] = (
    Cataloger("dpkg-db", _dpkg_status, dpkg.parse_status),
    Cataloger("apk-db", _paths("lib/apk/db/installed"), apk.parse_installed),
    Cataloger("rpm-db", _paths(*(f"{d}/{f}" for d in ("var/lib/rpm", "usr/lib/sysimage/rpm")
                                 for f in ("Packages", "Packages.db", "rpmdb.sqlite"))),
              rpm.parse_database),
    Cataloger("python-installed", _python_metadata, python.parse_metadata),
    Cataloger("python-requirements", _requirements, python.parse_requirements),
    Cataloger("python-poetry-lock", _named("poetry.lock"), python.parse_poetry_lock),
    Cataloger("python-pipfile-lock", _named("Pipfile.lock"), python.parse_pipfile_lock),
    Cataloger("python-uv-lock", _named("uv.lock"), python.parse_uv_lock),
    Cataloger("npm-installed", _installed_npm_package, javascript.parse_package_json),
    Cataloger("npm-project", _project_package_json, javascript.parse_project_package_json),
    Cataloger("npm-lock", _outside_node_modules(_named("package-lock.json")),
              javascript.parse_package_lock),
    Cataloger("yarn-lock", _outside_node_modules(_named("yarn.lock")), javascript.parse_yarn_lock),
    Cataloger("pnpm-lock", _outside_node_modules(_named("pnpm-lock.yaml")),
              javascript.parse_pnpm_lock),
    Cataloger("gem-installed", _gemspec, ruby.parse_gemspec),
    Cataloger("gem-lock", _named("Gemfile.lock"), ruby.parse_gemfile_lock),
    Cataloger("composer-installed", _composer_installed, php.parse_installed_json),
    Cataloger("composer-lock", _named("composer.lock"), php.parse_composer_lock),
    Cataloger("dotnet-deps", _deps_json, dotnet.parse_deps_json),
    Cataloger("cargo-lock", _named("Cargo.lock"), rust.parse_cargo_lock),
    Cataloger("go-mod", _named("go.mod"), golang.parse_go_mod),
    Cataloger("java-archive", _java_archive, java.parse_java_archive),
    Cataloger("go-binary", _executable, go_binary.parse_go_binary),
    Cataloger("rust-binary", _executable, rust_binary.parse_rust_binary),
)
"""The registry of every cataloger, in the order their results are reported."""
