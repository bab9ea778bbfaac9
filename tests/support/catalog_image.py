"""The catalog test image ``catalog:1``: real packages of every ecosystem, one layer each.

Built without Docker from real artifacts, cached under ``<cache>/catalog-image/`` (``<cache>``
is ``HULLSCAN_TEST_CACHE`` or ``<project>/.test-cache``, see
:func:`tests.support.debian_base.cache_root`); a ``fcntl.flock`` lock makes parallel
pytest-xdist workers build it once.

Layers (index: content):

0. the debootstrap Debian bookworm minbase (:func:`tests.support.debian_base.debian_base`)
1. ``/opt/venv``: a ``python3 -m venv`` made on the host (so ``bin/python*`` are symlinks to
   the host interpreter, kept as symlinks) with :data:`PYTHON_PACKAGES` installed by
   ``pip install --no-deps`` (the pins are the complete dependency closure)
2. ``/app``: ``package.json``, ``package-lock.json`` and ``node_modules`` of a real
   ``npm install --ignore-scripts`` of :data:`NPM_PACKAGES` (plus their transitive packages)
3. ``/usr/share/java``: the jars of :data:`JAVA_DEBIAN_PACKAGES` (real files and the
   version-less symlinks Debian ships next to them)
4. ``/usr/local/bin/docker-registry``: the Go binary of Debian's ``docker-registry``
5. ``/opt/extra/node_modules/left-pad``: the ``left-pad@1.3.0`` npm package (added here ...)
6. a whiteout of ``/opt/extra`` (... and removed here)

Nothing here needs pytest, so benchmarks can import it too.
"""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.build_steps import fresh_dir, locked, npm_app, read_json_object, run_tool
from tests.support.debian_base import cache_root, debian_base
from tests.support.image_builder import (
    History,
    ImageSpec,
    LayerSpec,
    RawLayer,
    Tree,
    Whiteout,
    host_architecture,
    write_docker_archive,
    write_oci_layout,
)

#: Bump when the recipe changes: a cache built by another recipe is rebuilt.
RECIPE_VERSION = 1
REF = "catalog:1"
_CACHE_NAME = "catalog-image"

#: Installed into ``/opt/venv`` with ``--no-deps``: this is the complete dependency closure.
PYTHON_PACKAGES: Mapping[str, str] = {
    "requests": "2.32.3",
    "urllib3": "2.2.3",
    "idna": "3.10",
    "certifi": "2024.8.30",
    "charset-normalizer": "3.4.0",
    "click": "8.1.7",
    "jinja2": "3.1.4",
    "markupsafe": "3.0.2",
    "pyyaml": "6.0.2",
    "packaging": "24.2",
}
#: The dependencies of ``/app/package.json`` (npm adds their transitive packages).
NPM_PACKAGES: Mapping[str, str] = {
    "express": "4.21.2",
    "lodash": "4.17.21",
    "axios": "1.7.9",
    "chalk": "4.1.2",
    "commander": "12.1.0",
    "uuid": "11.0.3",
    "moment": "2.30.1",
    "minimist": "1.2.8",
    "semver": "7.6.3",
    "dotenv": "16.4.7",
}
APP_NAME = "hullscan-catalog-app"
APP_VERSION = "1.0.0"
JAVA_DEBIAN_PACKAGES = ("libjackson2-core-java", "libcommons-lang3-java", "libslf4j-java")
GO_DEBIAN_PACKAGE = "docker-registry"
GO_BINARY = "/usr/local/bin/docker-registry"
VENV = "/opt/venv"
APP_DIR = "/app"
JAVA_DIR = "/usr/share/java"
EXTRA_DIR = "/opt/extra"


@dataclass(frozen=True)
class RemovedPackage:
    """A package one layer adds and a later layer deletes."""

    type: str
    name: str
    version: str
    path: str
    added_in: int
    removed_in: int


REMOVED_PACKAGE = RemovedPackage(
    type="npm",
    name="left-pad",
    version="1.3.0",
    path=f"{EXTRA_DIR}/node_modules/left-pad/package.json",
    added_in=5,
    removed_in=6,
)

#: purl type -> index of the layer holding that ecosystem's packages.
LAYER_OF_TYPE: Mapping[str, int] = {"deb": 0, "pypi": 1, "npm": 2, "maven": 3, "golang": 4}

_PATH = "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_HISTORY: tuple[tuple[str, bool], ...] = (
    ("ADD debian-bookworm-minbase.tar / # buildkit", False),
    ('CMD ["bash"]', True),
    (
        "RUN /bin/sh -c python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-deps "
        + " ".join(f"{name}=={version}" for name, version in PYTHON_PACKAGES.items())
        + " # buildkit",
        False,
    ),
    ("WORKDIR /app", True),
    (
        "RUN /bin/sh -c npm install --no-audit --no-fund --ignore-scripts "
        + " ".join(f"{name}@{version}" for name, version in NPM_PACKAGES.items())
        + " # buildkit",
        False,
    ),
    (
        "RUN /bin/sh -c apt-get install -y --no-install-recommends "
        + " ".join(JAVA_DEBIAN_PACKAGES)
        + " # buildkit",
        False,
    ),
    (f"COPY /usr/bin/docker-registry {GO_BINARY} # buildkit", False),
    (f"RUN /bin/sh -c npm install --prefix {EXTRA_DIR} left-pad@1.3.0 # buildkit", False),
    (f"RUN /bin/sh -c rm -rf {EXTRA_DIR} # buildkit", False),
    (f"ENV PATH={_PATH}", True),
    ('CMD ["node", "/app/index.js"]', True),
)


class CatalogImageError(RuntimeError):
    """A build step (venv, pip, npm, apt-get download) failed; the message says which."""


@dataclass(frozen=True)
class CatalogFacts:
    """What a correct cataloger must find in ``catalog:1``."""

    python_packages: Mapping[str, str]  # pinned pypi name -> version (layer 1)
    npm_packages: Mapping[str, str]  # top-level npm dependency -> version (layer 2)
    npm_installed: Mapping[str, str]  # every node_modules package path -> version (layer 2)
    jar_files: tuple[str, ...]  # absolute paths of the real jar files (layer 3)
    go_binary: str  # absolute path (layer 4)
    removed: RemovedPackage  # added in layer 5, removed in layer 6
    layer_of_type: Mapping[str, int]  # purl type -> layer index
    history: tuple[tuple[str, bool], ...]  # (created_by, empty_layer)
    layer_count: int


@dataclass(frozen=True)
class CatalogImage:
    """The built image: an OCI layout holding ``ref`` and a legacy docker-save archive."""

    layout: Path
    ref: str
    docker_archive: Path
    facts: CatalogFacts
    build_seconds: float


# --------------------------------------------------------------------------- helpers



def _host_python() -> str:
    """The interpreter to make the venv with: the one running us, resolved past any venv."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return str(Path(base))


# --------------------------------------------------------------------------- debian packages


def _extract_deb(name: str) -> Path:
    """Extracted files of a Debian package (shared helper; cached under ``<cache>/debs``)."""
    try:
        from tests.support.debian_packages import extract_debian_package
    except ImportError:  # pragma: no cover - the helper module is part of the test support
        return _extract_deb_private(name)
    try:
        return extract_debian_package(name)
    except RuntimeError as error:
        raise CatalogImageError(f"Debian package {name}: {error}") from error


def _extract_deb_private(name: str) -> Path:
    debs = cache_root() / _CACHE_NAME / "debs"
    target = debs / name
    if (target / ".hullscan-complete").is_file():
        return target
    download = fresh_dir(debs / f".download-{name}")
    _tool(["apt-get", "download", name], cwd=download, what=f"apt-get download {name}")
    found = sorted(download.glob(f"{name}_*.deb"))
    if not found:
        raise CatalogImageError(f"apt-get download {name} left no .deb")
    fresh_dir(target)
    _tool(["dpkg-deb", "-x", str(found[-1]), str(target)], what=f"dpkg-deb -x {found[-1].name}")
    (target / ".hullscan-complete").write_text("ok\n", encoding="utf-8")
    return target


# --------------------------------------------------------------------------- staging


def _stage_venv(staging: Path) -> Path:
    """``staging/venv``: ``python3 -m venv --without-pip`` plus the pinned packages."""
    venv = staging / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    _tool([_host_python(), "-m", "venv", "--without-pip", str(venv)], what="python3 -m venv")
    pins = [f"{name}=={version}" for name, version in PYTHON_PACKAGES.items()]
    _tool(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "--no-compile",
            "--no-input",
            *pins,
        ],
        what="pip install into the venv",
    )
    return venv


def _stage_app(staging: Path) -> Path:
    """``staging/app``: a real ``npm install`` of the pinned packages."""
    return npm_app(staging / "app", name=APP_NAME, version=APP_VERSION,
                   description="hullscan catalog test app", dependencies=dict(NPM_PACKAGES),
                   main_js="require('express')().listen(8080);\n", error=CatalogImageError)


def _stage_left_pad(staging: Path) -> Path:
    """``staging/extra/node_modules/left-pad``: ``left-pad@1.3.0`` from ``npm pack``."""
    work = fresh_dir(staging / "left-pad-pack")
    _tool(
        ["npm", "pack", f"{REMOVED_PACKAGE.name}@{REMOVED_PACKAGE.version}"],
        cwd=work,
        what="npm pack left-pad",
    )
    tarballs = sorted(work.glob("*.tgz"))
    if not tarballs:
        raise CatalogImageError("npm pack left no tarball")
    extra = fresh_dir(staging / "extra")
    target = extra / "node_modules" / REMOVED_PACKAGE.name
    unpacked = work / "unpacked"
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(unpacked, filter="data")
    target.parent.mkdir(parents=True)
    (unpacked / "package").rename(target)
    shutil.rmtree(work)
    return extra


def _stage_java(staging: Path) -> Path:
    """``staging/java``: every ``/usr/share/java`` entry of the Java Debian packages."""
    java = fresh_dir(staging / "java")
    for name in JAVA_DEBIAN_PACKAGES:
        source = _extract_deb(name) / JAVA_DIR.lstrip("/")
        for entry in sorted(source.iterdir()):
            if entry.is_symlink():
                (java / entry.name).symlink_to(entry.readlink())
            elif entry.is_file():
                shutil.copy2(entry, java / entry.name)
    return java


def _stage_go(staging: Path) -> Path:
    """``staging/go/docker-registry``: from the Debian package (or the installed one)."""
    go = fresh_dir(staging / "go")
    try:
        binary = _extract_deb(GO_DEBIAN_PACKAGE) / "usr/bin/docker-registry"
    except CatalogImageError:
        binary = Path("/usr/bin/docker-registry")
        if not binary.is_file():
            raise
    shutil.copy2(binary, go / "docker-registry")
    return go


# --------------------------------------------------------------------------- facts and spec


def _npm_installed(app: Path) -> dict[str, str]:
    lock = read_json_object(app / "package-lock.json")
    installed = {}
    for path, entry in (lock.get("packages") or {}).items():
        if path and isinstance(entry, dict) and "version" in entry:
            installed[path] = str(entry["version"])
    return dict(sorted(installed.items()))


def _facts(staging: Path) -> CatalogFacts:
    java = staging / "java"
    jars = tuple(
        f"{JAVA_DIR}/{entry.name}"
        for entry in sorted(java.iterdir())
        if entry.suffix == ".jar" and entry.is_file() and not entry.is_symlink()
    )
    return CatalogFacts(
        python_packages=dict(PYTHON_PACKAGES),
        npm_packages=dict(NPM_PACKAGES),
        npm_installed=_npm_installed(staging / "app"),
        jar_files=jars,
        go_binary=GO_BINARY,
        removed=REMOVED_PACKAGE,
        layer_of_type=dict(LAYER_OF_TYPE),
        history=_HISTORY,
        layer_count=sum(1 for _, empty in _HISTORY if not empty),
    )


def catalog_image_spec(staging: Path, base_tar: Path) -> ImageSpec:
    """The ``catalog:1`` image from the staged trees (see the module docstring)."""
    created = [created_by for created_by, empty in _HISTORY if not empty]
    layers = (
        RawLayer(base_tar, created_by=created[0], level=1),
        LayerSpec(
            [Tree(staging / "venv", VENV)],
            created_by=created[1],
        ),
        LayerSpec([Tree(staging / "app", APP_DIR)], created_by=created[2]),
        LayerSpec([Tree(staging / "java", JAVA_DIR)], created_by=created[3]),
        LayerSpec([Tree(staging / "go", "/usr/local/bin")], created_by=created[4]),
        LayerSpec([Tree(staging / "extra", EXTRA_DIR)], created_by=created[5]),
        LayerSpec([Whiteout(EXTRA_DIR)], created_by=created[6]),
    )
    return ImageSpec(
        layers=layers,
        architecture=host_architecture(),
        env=(f"PATH={_PATH}",),
        cmd=("node", "/app/index.js"),
        workdir=APP_DIR,
        labels={"org.opencontainers.image.title": "hullscan-catalog-test"},
        history=tuple(History(created_by, empty) for created_by, empty in _HISTORY),
    )


# --------------------------------------------------------------------------- build


def catalog_image(cache: Path | None = None) -> CatalogImage:
    """Return ``catalog:1``, building (and caching) it first if needed."""
    work = (cache or cache_root()) / _CACHE_NAME
    work.mkdir(parents=True, exist_ok=True)
    layout, archive = work / "layout", work / "catalog.docker.tar"
    staging = work / "staging"
    with locked(work / ".lock"):
        info_path = work / "build-info.json"
        info = read_json_object(info_path)
        stale = (
            info.get("recipe") != RECIPE_VERSION
            or info.get("base_diff_id") != debian_base().diff_id
            or not (layout / "index.json").is_file()
            or not archive.is_file()
        )
        if stale:
            info = _build(work, staging, layout, archive)
            tmp = info_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            tmp.replace(info_path)
        facts = _facts(staging)
    return CatalogImage(
        layout=layout,
        ref=REF,
        docker_archive=archive,
        facts=facts,
        build_seconds=float(info.get("build_seconds", 0.0)),
    )


def _build(work: Path, staging: Path, layout: Path, archive: Path) -> dict[str, Any]:
    started = time.monotonic()
    timings: dict[str, float] = {}

    def step(name: str, started_at: float) -> float:
        now = time.monotonic()
        timings[name] = round(now - started_at, 2)
        return now

    shutil.rmtree(layout, ignore_errors=True)
    archive.unlink(missing_ok=True)
    fresh_dir(staging)
    mark = time.monotonic()
    base = debian_base()
    mark = step("debian_base", mark)
    _stage_venv(staging)
    mark = step("venv", mark)
    _stage_app(staging)
    mark = step("npm", mark)
    _stage_java(staging)
    mark = step("java", mark)
    _stage_go(staging)
    mark = step("go", mark)
    _stage_left_pad(staging)
    mark = step("left_pad", mark)
    spec = catalog_image_spec(staging, base.layer_tar)
    partial = work / "layout.partial"
    shutil.rmtree(partial, ignore_errors=True)
    write_oci_layout(partial, {REF: spec})
    mark = step("oci_layout", mark)
    write_docker_archive(archive.with_suffix(".partial"), {REF: spec})
    archive.with_suffix(".partial").replace(archive)
    step("docker_archive", mark)
    partial.rename(layout)
    return {
        "recipe": RECIPE_VERSION,
        "build_seconds": round(time.monotonic() - started, 2),
        "timings": timings,
        "base_diff_id": base.diff_id,
    }


def _tool(command: list[str], *, cwd: Path | None = None, what: str) -> str:
    return run_tool(command, cwd=cwd, what=what, error=CatalogImageError)
