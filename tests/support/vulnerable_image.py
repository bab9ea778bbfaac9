"""The scan test images ``vulnerable:1`` and ``clean:1``: real old packages with known advisories.

Built without Docker, cached under ``<cache>/vulnerable-image/`` (``<cache>`` is
``HULLSCAN_TEST_CACHE`` or ``<project>/.test-cache``, see
:func:`tests.support.debian_base.cache_root`); a ``fcntl.flock`` lock makes parallel
pytest-xdist workers build it once. No Debian base: the images are small and fast to build.

``vulnerable:1`` layers (index: content):

0. an Alpine 3.11 root: ``/etc/os-release``, ``/etc/alpine-release`` and a real-format
   ``/lib/apk/db/installed`` listing :data:`ALPINE_VULNERABLE` (versions below the fixes of the
   Alpine secdb v3.11 ``secfixes``); ``libcrypto1.1``/``libssl1.1`` (origin ``openssl``) and
   ``ssl_client`` (origin ``busybox``) can only be matched through their origin
1. ``/usr/local/lib/python3.11/site-packages``: a real ``pip install --no-deps --target`` of
   :data:`PYTHON_PACKAGES` (old pins with PYSEC advisories)
2. ``/app``: ``package.json``, ``package-lock.json`` and ``node_modules`` of a real
   ``npm install --ignore-scripts`` of :data:`NPM_PACKAGES` (old pins with Node.js Security WG
   advisories) and their transitive packages

``clean:1`` is one layer: the same Alpine root listing :data:`ALPINE_CLEAN` (every package at
or above the newest v3.11 secfix), so nothing in the shared data matches it.

:data:`EXPECTED` names, for every planted package, the advisories the shared data holds for its
version and their fix versions, read by hand from ``/work/shared/vulndata``.

Nothing here needs pytest, so benchmarks can import it too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.build_steps import fresh_dir, locked, npm_app, read_json_object, run_tool
from tests.support.debian_base import cache_root
from tests.support.image_builder import (
    Directory,
    File,
    History,
    ImageSpec,
    LayerSpec,
    Symlink,
    Tree,
    host_architecture,
    write_docker_archive,
    write_oci_layout,
)

#: Bump when the recipe changes: a cache built by another recipe is rebuilt.
RECIPE_VERSION = 1
REF = "vulnerable:1"
CLEAN_REF = "clean:1"
_CACHE_NAME = "vulnerable-image"

ALPINE_VERSION = "3.11.6"
SITE_PACKAGES = "/usr/local/lib/python3.11/site-packages"
APP_DIR = "/app"
APP_NAME = "hullscan-vulnerable-app"
APP_VERSION = "1.0.0"


@dataclass(frozen=True)
class ApkPackage:
    """One block of ``/lib/apk/db/installed``."""

    name: str
    version: str
    origin: str
    description: str
    url: str
    license: str
    depends: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    files: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (directory, file names)


def _alpine(versions: Mapping[str, str]) -> tuple[ApkPackage, ...]:
    musl, busybox, openssl = versions["musl"], versions["busybox"], versions["openssl"]
    return (
        ApkPackage("musl", musl, "musl", "the musl c library (libc) implementation",
                   "https://musl.libc.org/", "MIT",
                   provides=("so:libc.musl-x86_64.so.1=1",),
                   files=(("lib", ("ld-musl-x86_64.so.1", "libc.musl-x86_64.so.1")),)),
        ApkPackage("busybox", busybox, "busybox", "Size optimized toolbox of many common UNIX "
                   "utilities", "https://busybox.net/", "GPL-2.0-only",
                   depends=("so:libc.musl-x86_64.so.1",), provides=("cmd:busybox=1",),
                   files=(("bin", ("busybox", "sh")), ("etc", ("securetty",)))),
        ApkPackage("alpine-baselayout", "3.2.0-r3", "alpine-baselayout", "Alpine base dir "
                   "structure and init scripts", "https://git.alpinelinux.org/cgit/aports/tree/"
                   "main/alpine-baselayout", "GPL-2.0-only",
                   depends=("/bin/sh", "so:libc.musl-x86_64.so.1"),
                   files=(("etc", ("hosts", "motd", "passwd", "group")),)),
        ApkPackage("libcrypto1.1", openssl, "openssl", "Crypto library from openssl",
                   "https://www.openssl.org", "OpenSSL",
                   depends=("so:libc.musl-x86_64.so.1",),
                   provides=("so:libcrypto.so.1.1=1.1",),
                   files=(("lib", ("libcrypto.so.1.1",)),)),
        ApkPackage("libssl1.1", openssl, "openssl", "SSL shared libraries",
                   "https://www.openssl.org", "OpenSSL",
                   depends=("so:libc.musl-x86_64.so.1", "so:libcrypto.so.1.1"),
                   provides=("so:libssl.so.1.1=1.1",),
                   files=(("lib", ("libssl.so.1.1",)),)),
        ApkPackage("ssl_client", busybox, "busybox", "EXternal ssl_client for busybox wget",
                   "https://busybox.net/", "GPL-2.0-only",
                   depends=("so:libc.musl-x86_64.so.1", "so:libssl.so.1.1",
                            "so:libcrypto.so.1.1"),
                   provides=("cmd:ssl_client=1",),
                   files=(("usr/bin", ("ssl_client",)),)),
    )


#: Versions below the Alpine secdb v3.11 fixes (``v3.11/main.json`` ``secfixes``).
ALPINE_VULNERABLE = _alpine({"musl": "1.1.23-r1", "busybox": "1.30.1-r1",
                             "openssl": "1.1.1d-r0"})
#: At or above every v3.11 secfix: nothing matches.
ALPINE_CLEAN = _alpine({"musl": "1.1.24-r2", "busybox": "1.31.1-r10", "openssl": "1.1.1g-r0"})

#: Installed with ``pip install --no-deps --target`` (each pin has PYSEC advisories).
PYTHON_PACKAGES: Mapping[str, str] = {
    "requests": "2.19.1",
    "urllib3": "1.24.1",
    "jinja2": "2.10",
    "pyyaml": "5.3",
}
#: The dependencies of ``/app/package.json`` (npm adds their transitive packages).
NPM_PACKAGES: Mapping[str, str] = {
    "lodash": "4.17.4",
    "marked": "0.3.5",
    "handlebars": "4.0.5",
    "cryo": "0.0.6",
}


@dataclass(frozen=True)
class Expected:
    """One planted package and the advisories the shared data holds for its version."""

    type: str  # purl type
    name: str
    version: str
    layer: int
    advisories: Mapping[str, tuple[str, ...]]
    """Advisory id (as stored: PYSEC-*, NSWG-ECO-*, or the CVE of an Alpine secfix) -> the CVE
    aliases it carries; the finding must name the advisory or one of these."""
    fixes: Mapping[str, str | None]
    """Advisory id -> the fix version the finding must list (None: the data has no fix)."""


_Table = Mapping[str, tuple[tuple[str, ...], str | None]]


def _pypi(name: str, table: _Table) -> Expected:
    return Expected("pypi", name, PYTHON_PACKAGES[name], 1,
                    {k: v[0] for k, v in table.items()}, {k: v[1] for k, v in table.items()})


def _npm(name: str, table: _Table) -> Expected:
    return Expected("npm", name, NPM_PACKAGES[name], 2,
                    {k: v[0] for k, v in table.items()}, {k: v[1] for k, v in table.items()})


def _apk(name: str, version: str, table: Mapping[str, str]) -> Expected:
    return Expected("apk", name, version, 0, {k: () for k in table}, dict(table))


_OPENSSL_D_R0 = {  # v3.11/main.json openssl secfixes: "1.1.1d-r3": [CVE-2019-1551],
    "CVE-2019-1551": "1.1.1d-r3",  # "1.1.1d-r1": [CVE-2019-1547, CVE-2019-1549, CVE-2019-1563]
    "CVE-2019-1547": "1.1.1d-r1",
    "CVE-2019-1549": "1.1.1d-r1",
    "CVE-2019-1563": "1.1.1d-r1",
}
_BUSYBOX_R1 = {"CVE-2019-5747": "1.30.1-r2"}  # busybox secfixes "1.30.1-r2": [CVE-2019-5747]

#: Every planted package with the advisories that must be reported for it, read by hand from
#: the shared zips (osv/PyPI.zip ``affected[].ranges``, native/npm-nodejs-security-wg.zip
#: ``vulnerable_versions``/``patched_versions``, alpine ``v3.11/main.json`` ``secfixes``).
EXPECTED: tuple[Expected, ...] = (
    _apk("musl", "1.1.23-r1", {"CVE-2019-14697": "1.1.23-r2"}),  # "1.1.23-r2": [CVE-2019-14697]
    _apk("busybox", "1.30.1-r1", _BUSYBOX_R1),
    _apk("ssl_client", "1.30.1-r1", _BUSYBOX_R1),  # origin busybox
    _apk("libcrypto1.1", "1.1.1d-r0", _OPENSSL_D_R0),  # origin openssl
    _apk("libssl1.1", "1.1.1d-r0", _OPENSSL_D_R0),  # origin openssl
    _pypi("requests", {
        "PYSEC-2018-28": (("CVE-2018-18074",), "2.20.0"),  # introduced 0, fixed 2.20.0
        "PYSEC-2023-74": (("CVE-2023-32681",), "2.31.0"),  # introduced 2.3.0, fixed 2.31.0
    }),
    _pypi("urllib3", {
        "PYSEC-2019-132": (("CVE-2019-11236",), "1.24.3"),  # introduced 0, fixed 1.24.3
        "PYSEC-2019-133": (("CVE-2019-11324",), "1.24.2"),  # introduced 0, fixed 1.24.2
        "PYSEC-2020-148": (("CVE-2020-26137",), "1.25.9"),  # introduced 0, fixed 1.25.9
        "PYSEC-2021-108": (("CVE-2021-33503",), "1.26.5"),  # introduced 0, fixed 1.26.5
        "PYSEC-2023-192": (("CVE-2023-43804",), "1.26.17"),  # 2.0.0-2.0.6, 0-1.26.17
        "PYSEC-2023-207": (("CVE-2018-25091",), "1.24.2"),  # introduced 0, fixed 1.24.2
        "PYSEC-2023-212": (("CVE-2023-45803",), "1.26.18"),  # 2.0.0-2.0.7, 0-1.26.18
    }),
    _pypi("jinja2", {
        "PYSEC-2019-217": (("CVE-2019-10906",), "2.10.1"),  # introduced 0, fixed 2.10.1
        "PYSEC-2021-66": (("CVE-2020-28493",), "2.11.3"),  # introduced 0, fixed 2.11.3
    }),
    _pypi("pyyaml", {
        "PYSEC-2020-96": (("CVE-2020-1747",), "5.3.1"),  # introduced 5.1, fixed 5.3.1
        "PYSEC-2021-142": (("CVE-2020-14343",), "5.4"),  # introduced 0, fixed 5.4
    }),
    _npm("lodash", {
        "NSWG-ECO-368": (("CVE-2018-3721",), "4.17.5"),  # 368.json "<4.17.5"
        "NSWG-ECO-493": (("CVE-2018-16487",), "4.17.11"),  # 493.json "<4.17.11"
    }),
    _npm("marked", {"NSWG-ECO-101": ((), "0.3.6")}),  # 101.json "<=0.3.5", ">=0.3.6"
    _npm("handlebars", {"NSWG-ECO-519": ((), "4.6.0")}),  # 519.json "<4.6.0", ">=4.6.0"
    # 461.json "vulnerable_versions": "<=0.0.6", "patched_versions": null: no fix at all
    _npm("cryo", {"NSWG-ECO-461": (("CVE-2018-3784",), None)}),
)

#: Advisories for the planted packages that must NOT match (id -> why), also read by hand.
NOT_EXPECTED: Mapping[tuple[str, str], str] = {
    ("requests", "PYSEC-2014-13"): "fixed 2.3.0",
    ("requests", "PYSEC-2015-17"): "introduced 2.1.0, fixed 2.6.0",
    ("urllib3", "PYSEC-2018-32"): "fixed 1.23",
    ("urllib3", "PYSEC-2020-149"): "introduced 1.25.2",
    ("jinja2", "PYSEC-2019-220"): "fixed 2.8.1",
    ("pyyaml", "PYSEC-2018-49"): "fixed 5.1",
    ("pyyaml", "PYSEC-2020-176"): "introduced 5.1, fixed 5.2b1",
    ("lodash", "NSWG-ECO-516"): ">=4.17.15 <4.17.19",
    ("marked", "NSWG-ECO-23"): "<=0.3.3",
    ("handlebars", "NSWG-ECO-61"): "<4.0.0",
    ("musl", "CVE-2016-8859"): "fixed 1.1.15-r4",
    ("busybox", "CVE-2018-20679"): "fixed 1.29.3-r10",
    ("libssl1.1", "CVE-2019-1543"): "fixed 1.1.1b-r1",
}

_HISTORY: tuple[tuple[str, bool], ...] = (
    (f"ADD alpine-minirootfs-{ALPINE_VERSION}-x86_64.tar.gz / # buildkit", False),
    ('CMD ["/bin/sh"]', True),
    (
        f"RUN /bin/sh -c pip install --no-deps --target {SITE_PACKAGES} "
        + " ".join(f"{name}=={version}" for name, version in PYTHON_PACKAGES.items())
        + " # buildkit",
        False,
    ),
    (f"WORKDIR {APP_DIR}", True),
    (
        "RUN /bin/sh -c npm install --no-audit --no-fund --ignore-scripts "
        + " ".join(f"{name}@{version}" for name, version in NPM_PACKAGES.items())
        + " # buildkit",
        False,
    ),
    ('CMD ["node", "/app/index.js"]', True),
)


class VulnerableImageError(RuntimeError):
    """A build step (pip, npm) failed; the message says which."""


@dataclass(frozen=True)
class VulnerableImage:
    """The built images: one OCI layout holding ``ref`` and ``clean_ref``."""

    layout: Path
    ref: str
    clean_ref: str
    docker_archive: Path
    expected: tuple[Expected, ...]
    not_expected: Mapping[tuple[str, str], str]
    npm_installed: Mapping[str, str]  # every node_modules package path -> version (layer 2)
    build_seconds: float

    @property
    def target(self) -> str:
        """The ``hullscan scan`` argument for ``vulnerable:1``."""
        return f"oci-dir:{self.layout}:{self.ref}"

    @property
    def clean_target(self) -> str:
        """The ``hullscan scan`` argument for ``clean:1``."""
        return f"oci-dir:{self.layout}:{self.clean_ref}"


# --------------------------------------------------------------------------- helpers



def _apk_checksum(data: bytes) -> str:
    """apk's ``Q1`` + base64(SHA-1) checksum form."""
    return "Q1" + base64.b64encode(hashlib.sha1(data).digest()).decode()


# --------------------------------------------------------------------------- layer 0


def apk_installed(packages: tuple[ApkPackage, ...]) -> bytes:
    """A ``/lib/apk/db/installed`` in apk's own layout (blocks of ``X:value`` lines)."""
    blocks = []
    for index, package in enumerate(packages):
        lines = [
            f"C:{_apk_checksum(f'{package.name}-{package.version}.apk'.encode())}",
            f"P:{package.name}",
            f"V:{package.version}",
            "A:x86_64",
            f"S:{40960 + 1024 * index}",
            f"I:{98304 + 4096 * index}",
            f"T:{package.description}",
            f"U:{package.url}",
            f"L:{package.license}",
            f"o:{package.origin}",
            "m:Natanael Copa <ncopa@alpinelinux.org>",
            f"t:{1575000000 + index}",
            f"c:{hashlib.sha1(package.origin.encode()).hexdigest()}",
        ]
        if package.depends:
            lines.append("D:" + " ".join(package.depends))
        if package.provides:
            lines.append("p:" + " ".join(package.provides))
        for directory, names in package.files:
            lines.append(f"F:{directory}")
            for name in names:
                lines += [f"R:{name}", "a:0:0:755",
                          f"Z:{_apk_checksum(f'{directory}/{name}'.encode())}"]
        blocks.append("\n".join(lines) + "\n")
    return ("\n".join(blocks) + "\n").encode()


def _os_release() -> bytes:
    return (
        'NAME="Alpine Linux"\n'
        "ID=alpine\n"
        f"VERSION_ID={ALPINE_VERSION}\n"
        f'PRETTY_NAME="Alpine Linux v{ALPINE_VERSION.rsplit(".", 1)[0]}"\n'
        'HOME_URL="https://alpinelinux.org/"\n'
        'BUG_REPORT_URL="https://bugs.alpinelinux.org/"\n'
    ).encode()


def alpine_layer(packages: tuple[ApkPackage, ...], created_by: str) -> LayerSpec:
    """The tiny Alpine root: release files, the apk database and the files it lists."""
    entries: list[Any] = [
        Directory("etc"), Directory("lib"), Directory("lib/apk"), Directory("lib/apk/db"),
        Directory("bin"), Directory("usr"), Directory("usr/bin"), Directory("tmp", mode=0o1777),
        File("etc/os-release", _os_release()),
        File("etc/alpine-release", f"{ALPINE_VERSION}\n".encode()),
        File("lib/apk/db/installed", apk_installed(packages)),
        File("lib/apk/db/triggers", b""),
        File("etc/apk/world", b"alpine-baselayout\nbusybox\nlibssl1.1\nssl_client\n"),
    ]
    for package in packages:
        for directory, names in package.files:
            for name in names:
                path = f"{directory}/{name}"
                if path == "bin/sh":
                    entries.append(Symlink(path, "/bin/busybox"))
                else:
                    entries.append(File(path, f"{package.name} {package.version}\n".encode(),
                                        mode=0o755 if directory != "etc" else 0o644))
    return LayerSpec(entries, created_by=created_by)


# --------------------------------------------------------------------------- layers 1 and 2


def _stage_site_packages(staging: Path) -> Path:
    """``staging/site-packages``: a real ``pip install --no-deps --target`` of the pins."""
    target = staging / "site-packages"
    shutil.rmtree(target, ignore_errors=True)
    pins = [f"{name}=={version}" for name, version in PYTHON_PACKAGES.items()]
    _tool(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--no-input",
         "--target", str(target), *pins],
        what="pip install --target",
    )
    shutil.rmtree(target / "bin", ignore_errors=True)
    return target


def _stage_app(staging: Path) -> Path:
    """``staging/app``: a real ``npm install`` of the pinned packages."""
    return npm_app(staging / "app", name=APP_NAME, version=APP_VERSION,
                   description="hullscan vulnerable test app", dependencies=dict(NPM_PACKAGES),
                   main_js="require('handlebars');\n", error=VulnerableImageError)


def _npm_installed(app: Path) -> dict[str, str]:
    lock = read_json_object(app / "package-lock.json")
    installed = {}
    for path, entry in (lock.get("packages") or {}).items():
        if path and isinstance(entry, dict) and "version" in entry:
            installed[path] = str(entry["version"])
    return dict(sorted(installed.items()))


def image_specs(staging: Path) -> dict[str, ImageSpec]:
    """``vulnerable:1`` and ``clean:1`` from the staged trees (see the module docstring)."""
    created = [created_by for created_by, empty in _HISTORY if not empty]
    vulnerable = ImageSpec(
        layers=(
            alpine_layer(ALPINE_VULNERABLE, created[0]),
            LayerSpec([Tree(staging / "site-packages", SITE_PACKAGES)], created_by=created[1]),
            LayerSpec([Tree(staging / "app", APP_DIR)], created_by=created[2]),
        ),
        architecture=host_architecture(),
        env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
        cmd=("node", "/app/index.js"),
        workdir=APP_DIR,
        labels={"org.opencontainers.image.title": "hullscan-vulnerable-test"},
        history=tuple(History(created_by, empty) for created_by, empty in _HISTORY),
    )
    clean = ImageSpec(
        layers=(alpine_layer(ALPINE_CLEAN, created[0]),),
        architecture=host_architecture(),
        cmd=("/bin/sh",),
        labels={"org.opencontainers.image.title": "hullscan-clean-test"},
        history=tuple(History(created_by, empty) for created_by, empty in _HISTORY[:2]),
    )
    return {REF: vulnerable, CLEAN_REF: clean}


# --------------------------------------------------------------------------- build


def vulnerable_image(cache: Path | None = None) -> VulnerableImage:
    """Return ``vulnerable:1`` and ``clean:1``, building (and caching) them first if needed."""
    work = (cache or cache_root()) / _CACHE_NAME
    work.mkdir(parents=True, exist_ok=True)
    layout, archive = work / "layout", work / "vulnerable.docker.tar"
    staging = work / "staging"
    with locked(work / ".lock"):
        info_path = work / "build-info.json"
        info = read_json_object(info_path)
        stale = (
            info.get("recipe") != RECIPE_VERSION
            or not (layout / "index.json").is_file()
            or not archive.is_file()
        )
        if stale:
            info = _build(work, staging, layout, archive)
            tmp = info_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            tmp.replace(info_path)
        npm_installed = _npm_installed(staging / "app")
    return VulnerableImage(
        layout=layout,
        ref=REF,
        clean_ref=CLEAN_REF,
        docker_archive=archive,
        expected=EXPECTED,
        not_expected=NOT_EXPECTED,
        npm_installed=npm_installed,
        build_seconds=float(info.get("build_seconds", 0.0)),
    )


def _build(work: Path, staging: Path, layout: Path, archive: Path) -> dict[str, Any]:
    started = time.monotonic()
    shutil.rmtree(layout, ignore_errors=True)
    archive.unlink(missing_ok=True)
    fresh_dir(staging)
    _stage_site_packages(staging)
    _stage_app(staging)
    specs = image_specs(staging)
    partial = work / "layout.partial"
    shutil.rmtree(partial, ignore_errors=True)
    write_oci_layout(partial, specs)
    write_docker_archive(archive.with_suffix(".partial"), {REF: specs[REF]})
    archive.with_suffix(".partial").replace(archive)
    partial.rename(layout)
    return {"recipe": RECIPE_VERSION, "build_seconds": round(time.monotonic() - started, 2)}


def _tool(command: list[str], *, cwd: Path | None = None, what: str) -> str:
    return run_tool(command, cwd=cwd, what=what, error=VulnerableImageError)
