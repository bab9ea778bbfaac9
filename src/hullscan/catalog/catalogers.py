"""Every cataloger: which files it wants and which parser reads them.

A cataloger is data: a name, a predicate on a layer entry and a pure parser
``(path, content) -> [FoundPackage]``. The layer pass asks each cataloger's predicate and
hands the file to the parsers that want it; nothing here reads a filesystem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hullscan.catalog.model import FoundPackage
from hullscan.image.layer import FileEntry, FileKind
from hullscan.lazy import lazy_function

Parser = Callable[[str, bytes], list[FoundPackage]]


@dataclass(frozen=True)
class Hint:
    """The only files a cataloger can want: by base name, its end or start, the path's start,
    or any non-empty executable. The layer pass asks the catalogers' predicates only about
    files some hint admits: on a layer of 200,000 files, asking all 23 predicates about every
    file was most of the pass (bench/README.md). A test holds every predicate to its hint."""

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    name_prefixes: tuple[str, ...] = ()
    path_prefixes: tuple[str, ...] = ()
    executables: bool = False

    def admits(self, entry: FileEntry) -> bool:
        """Whether the cataloger could want ``entry`` (the slow, obvious form)."""
        name = entry.path.rpartition("/")[2]
        return (name in self.names or name.endswith(self.suffixes)
                or name.startswith(self.name_prefixes)
                or entry.path.startswith(self.path_prefixes)
                or (self.executables and _executable(entry)))


@dataclass(frozen=True, eq=False)
class Cataloger:
    """A parser bound to the files it reads.

    Each one is a registry entry, equal only to itself: the layer pass asks which
    catalogers a file's candidates include for every file it hands over, and comparing
    field by field was a tenth of that pass.
    """

    name: str
    wants: Callable[[FileEntry], bool]
    parse: Parser
    version: int = 1
    """Bumped when results change, so that cached layer analyses are not reused."""
    hint: Hint | None = None
    """Files ``wants`` can accept at all; None: any file."""


def _parser(function: str) -> Parser:
    """``"os.dpkg.parse_status"``: a parser of ``hullscan.catalog``, imported on first use.

    A warm scan takes every layer from the cache and parses nothing; the parsers' modules
    were a third of its start-up.
    """
    module, _, name = function.rpartition(".")
    return lazy_function(f"hullscan.catalog.{module}", name)


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


def _names(*names: str) -> Hint:
    return Hint(names=frozenset(names))


_RPM_FILES = ("Packages", "Packages.db", "rpmdb.sqlite")

CATALOGERS: tuple[Cataloger, ...] = (
    Cataloger("dpkg-db", _dpkg_status, _parser("os.dpkg.parse_status"),
              hint=Hint(names=frozenset({"status"}), path_prefixes=("var/lib/dpkg/status.d/",))),
    Cataloger("apk-db", _paths("lib/apk/db/installed"), _parser("os.apk.parse_installed"),
              hint=_names("installed")),
    Cataloger("rpm-db", _paths(*(f"{d}/{f}" for d in ("var/lib/rpm", "usr/lib/sysimage/rpm")
                                 for f in _RPM_FILES)),
              _parser("os.rpm.parse_database"), version=2, hint=_names(*_RPM_FILES)),
    Cataloger("python-installed", _python_metadata, _parser("lang.python.parse_metadata"),
              hint=Hint(names=frozenset({"METADATA", "PKG-INFO"}), suffixes=(".egg-info",))),
    Cataloger("python-requirements", _requirements, _parser("lang.python.parse_requirements"),
              hint=Hint(name_prefixes=("requirements",))),
    Cataloger("python-poetry-lock", _named("poetry.lock"),
              _parser("lang.python.parse_poetry_lock"), hint=_names("poetry.lock")),
    Cataloger("python-pipfile-lock", _named("Pipfile.lock"),
              _parser("lang.python.parse_pipfile_lock"), hint=_names("Pipfile.lock")),
    Cataloger("python-uv-lock", _named("uv.lock"), _parser("lang.python.parse_uv_lock"),
              hint=_names("uv.lock")),
    Cataloger("npm-installed", _installed_npm_package,
              _parser("lang.javascript.parse_package_json"), hint=_names("package.json")),
    Cataloger("npm-project", _project_package_json,
              _parser("lang.javascript.parse_project_package_json"),
              hint=_names("package.json")),
    Cataloger("npm-lock", _outside_node_modules(_named("package-lock.json")),
              _parser("lang.javascript.parse_package_lock"), hint=_names("package-lock.json")),
    Cataloger("yarn-lock", _outside_node_modules(_named("yarn.lock")),
              _parser("lang.javascript.parse_yarn_lock"), hint=_names("yarn.lock")),
    Cataloger("pnpm-lock", _outside_node_modules(_named("pnpm-lock.yaml")),
              _parser("lang.javascript.parse_pnpm_lock"), hint=_names("pnpm-lock.yaml")),
    Cataloger("gem-installed", _gemspec, _parser("lang.ruby.parse_gemspec"),
              hint=Hint(suffixes=(".gemspec",))),
    Cataloger("gem-lock", _named("Gemfile.lock"), _parser("lang.ruby.parse_gemfile_lock"),
              hint=_names("Gemfile.lock")),
    Cataloger("composer-installed", _composer_installed,
              _parser("lang.php.parse_installed_json"), hint=_names("installed.json")),
    Cataloger("composer-lock", _named("composer.lock"), _parser("lang.php.parse_composer_lock"),
              hint=_names("composer.lock")),
    Cataloger("dotnet-deps", _deps_json, _parser("lang.dotnet.parse_deps_json"),
              hint=Hint(suffixes=(".deps.json",))),
    Cataloger("cargo-lock", _named("Cargo.lock"), _parser("lang.rust.parse_cargo_lock"),
              hint=_names("Cargo.lock")),
    Cataloger("go-mod", _named("go.mod"), _parser("lang.golang.parse_go_mod"),
              hint=_names("go.mod")),
    Cataloger("java-archive", _java_archive, _parser("lang.java.parse_java_archive"),
              version=2, hint=Hint(suffixes=_JAVA_ARCHIVE_SUFFIXES)),
    Cataloger("go-binary", _executable, _parser("lang.go_binary.parse_go_binary"),
              hint=Hint(executables=True)),
    Cataloger("rust-binary", _executable, _parser("lang.rust_binary.parse_rust_binary"),
              hint=Hint(executables=True)),
)
"""The registry of every cataloger, in the order their results are reported."""
