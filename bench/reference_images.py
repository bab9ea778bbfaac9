#!/usr/bin/env python3
"""The reference images of ``bench/run.py``, built once and cached in ``bench/.cache/reference/``.

* ``debian-180``: ~180 MB, 3 layers. The debootstrap Debian bookworm minbase of
  ``tests.support.debian_base``; ``python3`` installed from Debian packages with
  ``apt-get install --no-install-recommends`` in a chroot of a copy of that root (the layer
  is the difference, as a container build would record it: the new and changed files, the
  updated dpkg database, whiteouts for deleted files); a real ``npm install`` of
  :data:`NPM_PACKAGES` (the machine's npm) in ``/usr/src/app``.
* ``large-1g``: 1.19 GB, 29 layers, 319,000 tar entries (302,000 regular files). The three
  layers above, a fourth chroot layer (C/C++ tool chain, git, curl and three Java libraries
  from Debian: 383 MB, a larger real dpkg database and real jars), then synthetic layers
  generated deterministically (seeded) with a fast ustar writer: ten Node.js applications
  with ``node_modules`` trees (~210 ``package.json`` files and one ``package-lock.json``
  each), four Python virtual environments (360 ``.dist-info`` packages in all), six layers
  of small static assets (28,000 files each), three of source files, one of large binaries
  plus the host's Go ``docker-registry`` binary, and a last layer deleting some of it
  (whiteouts, an opaque directory) and adding two ``.env`` files holding fake AWS
  credentials for the secret scanners.
* ``text-50``: the image of ``checks_bench.py`` holding one 50 MB text file (an OCI layout
  shared with that script, plus a docker archive of it made with skopeo).
* ``old-150``: the ~150 MB image of ``inspect_bench.py`` (not in the default set; for
  comparisons with the earlier figures).

Each layer is written once as an uncompressed tar plus its gzip blob (level 6, two layers
compressed at a time) under ``bench/.cache/reference/layers/``; each image is an OCI layout
(ref ``bench:1``) and a legacy ``docker save`` archive (tag ``bench/<key>:1``) under
``bench/.cache/reference/<key>/``. Bump :data:`RECIPE` when a recipe changes.

Building needs root (chroot, debootstrap), the Debian mirror and the npm registry. Run it on
its own to build every image and print what each holds, with the packages hullscan and syft
find in it::

    .venv/bin/python bench/reference_images.py [--images debian-180,large-1g] [--packages]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import gzip
import hashlib
import json
import os
import random
import shutil
import stat
import string
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from common import CACHE, HULLSCAN, MB

#: Bump when any recipe below changes: every cached layer and image is rebuilt.
RECIPE = "reference-v1"
REFERENCE = CACHE / "reference"
LAYERS = REFERENCE / "layers"
OCI_REF = "bench:1"
SEED = 20261127
FIXED_MTIME = 1_700_000_000
GZIP_LEVEL = 6

#: ``npm install``ed into ``/usr/src/app`` of ``debian-180`` (npm adds ~90 transitive ones).
NPM_PACKAGES = {
    "express": "4.21.2", "lodash": "4.17.21", "axios": "1.7.9", "moment": "2.30.1",
    "uuid": "11.0.3", "chalk": "4.1.2", "commander": "12.1.0", "dotenv": "16.4.7",
    "semver": "7.6.3", "minimist": "1.2.8", "jsonwebtoken": "9.0.2", "yaml": "2.6.1",
}
PYTHON_DEBIAN = ("python3",)
#: The fourth layer of ``large-1g``.
TOOLCHAIN_DEBIAN = ("build-essential", "git", "curl", "libssl-dev", "libjackson2-core-java",
                    "libcommons-lang3-java", "libslf4j-java")
#: Left out of chroot layers, as image builds do (apt lists, downloaded .debs, logs).
CHROOT_EXCLUDE = ("var/lib/apt/lists", "var/cache/apt", "var/cache/ldconfig/aux-cache",
                  "var/log", "etc/resolv.conf", "tmp", "root/.cache", "dev", "proc", "sys",
                  "run", ".complete", ".hullscan-complete")
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Layer:
    """One cached layer: its uncompressed tar, its gzip blob and their facts."""

    name: str
    tar: Path
    blob: Path
    diff_id: str
    digest: str
    size: int
    """Uncompressed bytes."""
    compressed: int
    entries: int
    """Tar members, whiteouts included."""
    created_by: str


@dataclass(frozen=True)
class ReferenceImage:
    """A built reference image in its two forms, and its facts."""

    key: str
    title: str
    oci_dir: Path
    ref: str
    """The image's ref in the OCI layout."""
    docker_archive: Path
    tag: str
    """``name:tag`` of the image in the docker archive (and in a registry it is pushed to)."""
    layers: list[dict[str, Any]]

    @property
    def size(self) -> int:
        """Uncompressed bytes of all layers."""
        return sum(int(layer["size"]) for layer in self.layers)

    @property
    def compressed(self) -> int:
        """Bytes of the gzip blobs."""
        return sum(int(layer["compressed"]) for layer in self.layers)

    @property
    def entries(self) -> int:
        """Tar members of all layers."""
        return sum(int(layer["entries"]) for layer in self.layers)

    def facts(self) -> dict[str, Any]:
        """What the image is, for result files."""
        return {"title": self.title, "layers": len(self.layers), "tar_entries": self.entries,
                "uncompressed_bytes": self.size, "compressed_bytes": self.compressed,
                "docker_archive_bytes": self.docker_archive.stat().st_size}


# --------------------------------------------------------------------------- a fast tar writer


class UstarWriter:
    """Writes tar members with hand-made ustar headers: tarfile costs ~30 µs per member,
    too much for 300,000 of them. Paths over 255 bytes (or links over 100) get a PAX header.

    Names are layer paths without a leading ``/``; directories are written with a trailing
    one, like ``docker save`` does.
    """

    def __init__(self, out: IO[bytes], mtime: int = FIXED_MTIME) -> None:
        self.out = out
        self.mtime = mtime
        self.entries = 0

    def directory(self, name: str, mode: int = 0o755, uid: int = 0, gid: int = 0,
                  mtime: int | None = None) -> None:
        self._member(name.rstrip("/") + "/", b"5", mode, uid, gid, mtime)

    def file(self, name: str, data: bytes, mode: int = 0o644, uid: int = 0, gid: int = 0,
             mtime: int | None = None) -> None:
        self._member(name, b"0", mode, uid, gid, mtime, size=len(data))
        self.out.write(data)
        if len(data) % 512:
            self.out.write(bytes(512 - len(data) % 512))

    def symlink(self, name: str, target: str, uid: int = 0, gid: int = 0,
                mtime: int | None = None) -> None:
        self._member(name, b"2", 0o777, uid, gid, mtime, link=target)

    def hardlink(self, name: str, target: str, mtime: int | None = None) -> None:
        self._member(name, b"1", 0o644, 0, 0, mtime, link=target)

    def whiteout(self, path: str) -> None:
        """Delete ``path`` of a lower layer."""
        parent, _, base = path.rstrip("/").rpartition("/")
        self.file(f"{parent}/.wh.{base}" if parent else f".wh.{base}", b"")

    def opaque(self, directory: str) -> None:
        """Hide every lower-layer entry below ``directory``."""
        self.file(f"{directory.rstrip('/')}/.wh..wh..opq", b"")

    def close(self) -> None:
        self.out.write(bytes(1024))

    def _member(self, name: str, kind: bytes, mode: int, uid: int, gid: int,
                mtime: int | None, size: int = 0, link: str = "") -> None:
        encoded, target = name.encode(), link.encode()
        prefix = b""
        if len(encoded) > 100:
            cut = encoded.rfind(b"/", 0, 156)  # the prefix field holds 155 bytes
            if cut > 0 and len(encoded) - cut - 1 <= 100:
                prefix, encoded = encoded[:cut], encoded[cut + 1:]
        if len(encoded) > 100 or len(target) > 100:
            records = b"".join(_pax_record(key, value) for key, value in
                               ((b"path", name.encode()), (b"linkpath", link.encode())) if value)
            self.out.write(_header(b"PaxHeader", b"x", 0o644, 0, 0, self.mtime, len(records)))
            self.out.write(records + bytes(-len(records) % 512))
            prefix, encoded, target = b"", encoded[-100:], target[:100]
        self.out.write(_header(encoded, kind, mode, uid, gid,
                               self.mtime if mtime is None else mtime, size, target, prefix))
        self.entries += 1


def _header(name: bytes, kind: bytes, mode: int, uid: int, gid: int, mtime: int,
            size: int = 0, link: bytes = b"", prefix: bytes = b"") -> bytes:
    header = bytearray(512)
    header[0:len(name)] = name
    header[100:108] = b"%07o\0" % (mode & 0o7777)
    header[108:116] = b"%07o\0" % uid
    header[116:124] = b"%07o\0" % gid
    header[124:136] = b"%011o\0" % size
    header[136:148] = b"%011o\0" % mtime
    header[148:156] = b" " * 8
    header[156:157] = kind
    header[157:157 + len(link)] = link
    header[257:265] = b"ustar\x0000"
    header[345:345 + len(prefix)] = prefix
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def _pax_record(key: bytes, value: bytes) -> bytes:
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length).encode()) + len(body) != length:
        length = len(str(length).encode()) + len(body)
    return str(length).encode() + body


# --------------------------------------------------------------------------- layer cache


def _cached_layer(name: str, created_by: str, key: str, write: Callable[[Path], int]
                  ) -> Layer:
    """The layer ``name`` from the cache, or written by ``write`` (to the tar file it is
    given; it returns the member count). Compression is left to :func:`_compress_all`, which
    runs two layers at a time.
    """
    LAYERS.mkdir(parents=True, exist_ok=True)
    info_path = LAYERS / f"{name}.json"
    tar = LAYERS / f"{name}.tar"
    full_key = f"{RECIPE} {key}"
    info = _read_json(info_path)
    if info.get("key") != full_key or not tar.is_file():
        started = time.monotonic()
        partial = tar.with_suffix(".partial")
        entries = write(partial)
        partial.replace(tar)
        info = {"key": full_key, "entries": entries, "created_by": created_by,
                "write_seconds": round(time.monotonic() - started, 1)}
        info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        print(f"  layer {name}: {entries:,} entries, {tar.stat().st_size / MB:.1f} MB "
              f"({info['write_seconds']} s)", file=sys.stderr, flush=True)
    return _layer_from_info(name, tar, info)


def _ustar(fill: Callable[[UstarWriter], None]) -> Callable[[Path], int]:
    """A ``write`` for :func:`_cached_layer` that lets ``fill`` add the members."""
    def write(tar: Path) -> int:
        with tar.open("wb", buffering=1 << 20) as handle:
            writer = UstarWriter(handle)
            fill(writer)
            writer.close()
        return writer.entries
    return write


def _layer_from_info(name: str, tar: Path, info: dict[str, Any]) -> Layer:
    return Layer(name, tar, LAYERS / f"{name}.tar.gz", str(info.get("diff_id", "")),
                 str(info.get("digest", "")), tar.stat().st_size,
                 int(info.get("compressed", 0)), int(info["entries"]), str(info["created_by"]))


def _compress(tar: Path) -> dict[str, Any]:
    """gzip ``tar`` beside it; return its diff ID, blob digest and size."""
    blob = tar.with_suffix(".tar.gz")
    partial = blob.with_suffix(".partial")
    raw, packed, size = hashlib.sha256(), hashlib.sha256(), 0
    engine = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    with tar.open("rb") as source, partial.open("wb") as out:
        while chunk := source.read(1 << 20):
            raw.update(chunk)
            data = engine.compress(chunk)
            packed.update(data)
            size += out.write(data)
        data = engine.flush()
        packed.update(data)
        size += out.write(data)
    partial.replace(blob)
    return {"diff_id": f"sha256:{raw.hexdigest()}", "digest": f"sha256:{packed.hexdigest()}",
            "compressed": size}


def _compress_all(layers: list[Layer]) -> list[Layer]:
    """Compress the layers without an up-to-date blob, two at a time."""
    todo = [layer for layer in layers if not layer.digest or not layer.blob.is_file()]
    if todo:
        started = time.monotonic()
        with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
            for layer, facts in zip(todo, pool.map(_compress, [x.tar for x in todo]),
                                    strict=True):
                info_path = LAYERS / f"{layer.name}.json"
                info = _read_json(info_path) | facts
                info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        print(f"  compressed {len(todo)} layers ({time.monotonic() - started:.0f} s)",
              file=sys.stderr, flush=True)
    return [_layer_from_info(layer.name, layer.tar, _read_json(LAYERS / f"{layer.name}.json"))
            for layer in layers]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- chroot layers


def _chroot_install(lower: Path, upper: Path, packages: tuple[str, ...]) -> None:
    """``upper``: a copy of the root ``lower`` with ``packages`` installed by apt-get."""
    if os.geteuid() != 0:
        raise SystemExit("building the reference images needs root (chroot)")
    shutil.rmtree(upper, ignore_errors=True)
    upper.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(lower), str(upper)], check=True)
    resolv = upper / "etc" / "resolv.conf"
    resolv.unlink(missing_ok=True)
    shutil.copyfile("/etc/resolv.conf", resolv)  # the chroot resolves the mirror's name
    script = ("apt-get install -y -q --no-install-recommends " + " ".join(packages) +
              " || { apt-get update -q && apt-get install -y -q --no-install-recommends "
              + " ".join(packages) + "; }; apt-get clean")
    result = subprocess.run(
        ["chroot", str(upper), "/usr/bin/env", "-i", PATH_ENV, "DEBIAN_FRONTEND=noninteractive",
         "LANG=C.UTF-8", "/bin/sh", "-c", script], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"apt-get install {' '.join(packages)} in a chroot failed:\n"
                         f"{(result.stdout + result.stderr)[-3000:]}")


def _excluded(rel: str) -> bool:
    return any(rel == x or rel.startswith(x + "/") for x in CHROOT_EXCLUDE)


def _scan(root: Path) -> dict[str, os.stat_result]:
    """Relative path -> lstat of every entry under ``root`` (exclusions left out)."""
    found: dict[str, os.stat_result] = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(root / rel if rel else root) as scan:
            for entry in scan:
                child = f"{rel}/{entry.name}" if rel else entry.name
                if _excluded(child):
                    continue
                found[child] = entry.stat(follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    stack.append(child)
    return found


def _same(a: os.stat_result, b: os.stat_result, lower: Path, upper: Path, rel: str) -> bool:
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode) or a.st_mode != b.st_mode or (
            a.st_uid, a.st_gid) != (b.st_uid, b.st_gid):
        return False
    if stat.S_ISDIR(a.st_mode):
        return True
    if stat.S_ISLNK(a.st_mode):
        return (lower / rel).readlink() == (upper / rel).readlink()
    return (a.st_size, a.st_mtime_ns) == (b.st_size, b.st_mtime_ns)


def _sort_key(rel: str) -> list[str]:
    return rel.split("/")


def write_diff_layer(lower: Path, upper: Path, tar: Path) -> int:
    """Write the changes from root ``lower`` to root ``upper`` as a layer tar: new and changed
    entries with their real owners, modes and mtimes, their parent directories, whiteouts for
    deleted entries. Returns the member count."""
    before, after = _scan(lower), _scan(upper)
    changed = {rel for rel, st in after.items()
               if rel not in before or not _same(before[rel], st, lower, upper, rel)}
    # Only the topmost deleted entry gets a whiteout.
    deleted = {rel for rel in before if rel not in after
               and (rel.rpartition("/")[0] or ".") in after.keys() | {"."}}
    wanted = set(changed)
    for rel in changed | deleted:
        parent = rel.rpartition("/")[0]
        while parent and parent not in wanted:
            wanted.add(parent)
            parent = parent.rpartition("/")[0]
    links: dict[tuple[int, int], str] = {}
    with tar.open("wb", buffering=1 << 20) as handle:
        writer = UstarWriter(handle)
        for rel in sorted(wanted | deleted, key=_sort_key):
            if rel in deleted:
                writer.whiteout(rel)
                continue
            st = after[rel]
            mtime = int(st.st_mtime)
            if stat.S_ISDIR(st.st_mode):
                writer.directory(rel, st.st_mode, st.st_uid, st.st_gid, mtime)
            elif stat.S_ISLNK(st.st_mode):
                writer.symlink(rel, str((upper / rel).readlink()), st.st_uid, st.st_gid, mtime)
            elif stat.S_ISREG(st.st_mode):
                inode = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and inode in links:
                    writer.hardlink(rel, links[inode], mtime)
                    continue
                links[inode] = rel
                writer.file(rel, (upper / rel).read_bytes(), st.st_mode, st.st_uid, st.st_gid,
                            mtime)
        writer.close()
    return writer.entries


def _chroot_layer(name: str, lower: Path, packages: tuple[str, ...], key: str
                  ) -> tuple[Layer, Path]:
    """The layer installing ``packages`` on ``lower``, and the root it produced (kept in
    ``bench/.cache/reference/roots/`` for the next layer)."""
    upper = REFERENCE / "roots" / name
    created_by = ("RUN /bin/sh -c apt-get install -y --no-install-recommends "
                  + " ".join(packages) + " && apt-get clean && rm -rf /var/lib/apt/lists/*")
    info = _read_json(LAYERS / f"{name}.json")
    if info.get("key") != f"{RECIPE} {key}" or not (upper / ".complete").is_file():
        print(f"  chroot: apt-get install {' '.join(packages)} ...", file=sys.stderr,
              flush=True)
        (LAYERS / f"{name}.json").unlink(missing_ok=True)
        _chroot_install(lower, upper, packages)
        (upper / ".complete").write_text("ok\n", encoding="utf-8")

    return _cached_layer(name, created_by, key,
                         lambda tar: write_diff_layer(lower, upper, tar)), upper


# --------------------------------------------------------------------------- debian-180


def _base_layer() -> tuple[Layer, Path]:
    from tests.support.debian_base import debian_base

    base = debian_base()
    LAYERS.mkdir(parents=True, exist_ok=True)
    tar = LAYERS / "debian-base.tar"
    if not tar.is_file() or _read_json(LAYERS / "debian-base.json").get("key") != \
            f"{RECIPE} {base.diff_id}":
        tar.unlink(missing_ok=True)
        os.link(base.layer_tar, tar) if _same_device(base.layer_tar, LAYERS) else \
            shutil.copyfile(base.layer_tar, tar)
        with tarfile.open(tar) as archive:
            entries = sum(1 for _ in archive)
        (LAYERS / "debian-base.json").write_text(json.dumps({
            "key": f"{RECIPE} {base.diff_id}", "entries": entries, "diff_id": base.diff_id,
            "created_by": "ADD debian-bookworm-minbase.tar / # debootstrap --variant=minbase"},
            indent=2) + "\n", encoding="utf-8")
    return _layer_from_info("debian-base", tar, _read_json(LAYERS / "debian-base.json")), \
        base.rootfs


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


def _npm_layer() -> Layer:
    from tests.support.build_steps import npm_app

    key = f"npm {json.dumps(NPM_PACKAGES, sort_keys=True)}"

    def fill(writer: UstarWriter) -> None:
        with tempfile.TemporaryDirectory(dir=REFERENCE) as scratch:
            app = npm_app(Path(scratch) / "app", name="bench-app", version="1.0.0",
                          description="hullscan reference image app",
                          dependencies=dict(NPM_PACKAGES),
                          main_js="require('express')().listen(8080);\n", error=SystemExit)
            for part in ("usr", "usr/src"):
                writer.directory(part)
            _tree(writer, app, "usr/src/app")

    return _cached_layer("npm-app", "RUN /bin/sh -c npm install --omit=dev # buildkit", key,
                         _ustar(fill))


def _tree(writer: UstarWriter, source: Path, dest: str) -> None:
    """``source`` under ``dest``: root owners, fixed mtimes, sorted."""
    writer.directory(dest)
    for root, dirs, files in os.walk(source):
        dirs.sort()
        rel_root = os.path.relpath(root, source)
        prefix = dest if rel_root == "." else f"{dest}/{rel_root}"
        for name in sorted(dirs + files):
            path = Path(root) / name
            st = path.lstat()
            if stat.S_ISDIR(st.st_mode):
                writer.directory(f"{prefix}/{name}", 0o755)
            elif stat.S_ISLNK(st.st_mode):
                writer.symlink(f"{prefix}/{name}", str(path.readlink()))
            elif stat.S_ISREG(st.st_mode):
                writer.file(f"{prefix}/{name}", path.read_bytes(), st.st_mode & 0o755 | 0o644)


def _debian_180_layers() -> tuple[list[Layer], Path]:
    base, rootfs = _base_layer()
    python, python_root = _chroot_layer("python3", rootfs, PYTHON_DEBIAN,
                                        f"{base.diff_id} {PYTHON_DEBIAN}")
    return [base, python, _npm_layer()], python_root


# --------------------------------------------------------------------------- large-1g

APPS = 10
NPM_SCOPES = ("", "", "", "@acme/", "@types/", "@babel/", "@internal/")
SYLLABLES = ("ab", "ac", "al", "an", "ar", "ba", "be", "bo", "ca", "ce", "co", "da", "de",
             "di", "el", "en", "er", "fa", "fi", "fo", "ga", "ge", "ha", "in", "is", "ka",
             "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "no", "or", "pa",
             "pe", "po", "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti",
             "to", "ul", "un", "va", "ve", "vi", "xa", "yo", "za", "zo")
#: Real PyPI names given synthetic versions in the virtual environments (matcher work).
PYPI_NAMES = ("requests", "urllib3", "idna", "certifi", "charset-normalizer", "click",
              "jinja2", "markupsafe", "pyyaml", "packaging", "flask", "werkzeug", "django",
              "sqlalchemy", "numpy", "pillow", "cryptography", "paramiko", "setuptools",
              "six", "attrs", "pydantic", "fastapi", "starlette", "uvicorn", "gunicorn",
              "celery", "redis", "boto3", "botocore", "s3transfer", "jmespath", "protobuf",
              "grpcio", "aiohttp", "multidict", "yarl", "lxml", "psycopg2", "tornado")


@dataclass
class _Pools:
    """Deterministic content: slices of a text pool (code-like prose, gzip ~3:1) and of a
    binary pool (random runs, zero padding, repeated tables, gzip ~1.6:1)."""

    text: bytes
    binary: bytes
    rng: random.Random

    @classmethod
    def make(cls, seed: int) -> _Pools:
        rng = random.Random(seed)
        vocabulary = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10)))
                      for _ in range(3000)]
        vocabulary += ["{", "}", "(", ")", ";", "=", "return", "const", "function", "if",
                       "else", "import", "from", "def", "self", "this", "=>", "\n", "\n    "]
        text = " ".join(rng.choices(vocabulary, k=1_400_000)).encode()
        binary = bytearray()
        while len(binary) < 24 << 20:
            binary += rng.randbytes(rng.randint(256, 4096))
            binary += bytes(rng.randint(64, 1024))
            binary += rng.randbytes(16) * rng.randint(8, 64)
        return cls(text, bytes(binary), rng)

    def text_of(self, size: int) -> bytes:
        start = self.rng.randrange(0, len(self.text) - size - 1)
        return self.text[start:start + size]

    def binary_of(self, size: int) -> bytes:
        start = self.rng.randrange(0, len(self.binary) - size - 1)
        return self.binary[start:start + size]


def _name(rng: random.Random, parts: int) -> str:
    return "-".join("".join(rng.choices(SYLLABLES, k=rng.randint(2, 3)))
                    for _ in range(parts))


def _version(rng: random.Random) -> str:
    return f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}"


def _npm_names(rng: random.Random, real: list[str], count: int) -> list[str]:
    names = list(real)
    while len(names) < count:
        names.append(rng.choice(NPM_SCOPES) + _name(rng, rng.randint(1, 2)))
    return list(dict.fromkeys(names))


def _parents(writer: UstarWriter, path: str, done: set[str]) -> None:
    parts = path.split("/")
    for index in range(1, len(parts)):
        parent = "/".join(parts[:index])
        if parent not in done:
            done.add(parent)
            writer.directory(parent)


def _node_app(writer: UstarWriter, pools: _Pools, index: int, names: list[str]) -> None:
    """``srv/apps/appNN``: package.json, package-lock.json, src/, node_modules/ (~220
    packages, some nested at another version)."""
    rng = pools.rng
    root = f"srv/apps/app{index:02d}"
    done: set[str] = set()
    chosen = rng.sample(names, 190)
    installed: dict[str, tuple[str, str]] = {}
    for name in chosen:
        installed[f"node_modules/{name}"] = (name, _version(rng))
    for name in rng.sample(chosen, 20):
        parent = rng.choice(chosen)
        if parent != name:
            installed[f"node_modules/{parent}/node_modules/{name}"] = (name, _version(rng))
    top = {name: installed[f"node_modules/{name}"][1] for name in chosen[:25]}
    manifest = {"name": f"app{index:02d}", "version": "1.0.0", "private": True,
                "dependencies": top}
    locked: dict[str, Any] = {"": {"name": f"app{index:02d}", "version": "1.0.0",
                                   "dependencies": top}}
    lock = {"name": f"app{index:02d}", "version": "1.0.0", "lockfileVersion": 3,
            "requires": True, "packages": locked}
    for path, (name, version) in sorted(installed.items()):
        locked[path] = {
            "version": version,
            "resolved": f"https://registry.example/{name}/-/{name.rpartition('/')[2]}-"
                        f"{version}.tgz",
            "integrity": "sha512-" + hashlib.sha512(f"{name}@{version}".encode()).hexdigest()}
    _parents(writer, f"{root}/x", done)
    writer.directory(root)
    done.add(root)
    writer.file(f"{root}/package.json", json.dumps(manifest, indent=2).encode())
    writer.file(f"{root}/package-lock.json", json.dumps(lock, indent=2).encode())
    folders = [_name(rng, 1) for _ in range(12)]
    for n in range(rng.randint(80, 160)):
        path = f"{root}/src/{rng.choice(folders)}/{_name(rng, 1)}{n}.js"
        _parents(writer, path, done)
        writer.file(path, pools.text_of(rng.randint(200, 5000)))
    for path, (name, version) in sorted(installed.items()):
        base = f"{root}/{path}"
        _parents(writer, f"{base}/x", done)
        writer.directory(base)
        done.add(base)
        package = {"name": name, "version": version, "description": _name(rng, 3),
                   "main": "index.js", "license": rng.choice(["MIT", "ISC", "Apache-2.0",
                                                              "BSD-3-Clause"]),
                   "repository": {"type": "git",
                                  "url": f"git+https://git.example/{name}.git"}}
        writer.file(f"{base}/package.json", json.dumps(package, indent=2).encode())
        writer.file(f"{base}/README.md", pools.text_of(rng.randint(300, 4000)))
        writer.file(f"{base}/LICENSE", pools.text_of(1070))
        writer.file(f"{base}/index.js", pools.text_of(rng.randint(100, 2000)))
        for n in range(rng.randint(4, 36)):
            suffix = rng.choice([".js", ".js", ".js", ".d.ts", ".js.map", ".mjs", ".cjs"])
            path_ = f"{base}/lib/{_name(rng, 1)}{n}{suffix}"
            _parents(writer, path_, done)
            writer.file(path_, pools.text_of(rng.randint(100, 3500)))
        if rng.random() < 0.1:
            path_ = f"{base}/dist/{name.rpartition('/')[2]}.min.js"
            _parents(writer, path_, done)
            writer.file(path_, pools.text_of(rng.randint(10_000, 60_000)))
    if index == 5:  # build leftovers the last layer deletes
        for n in range(300):
            path = f"{root}/node_modules/.cache/babel/{n:04d}.json"
            _parents(writer, path, done)
            writer.file(path, pools.text_of(rng.randint(200, 4000)))


def _venv(writer: UstarWriter, pools: _Pools, index: int) -> None:
    """``opt/venvs/svcN``: ~90 installed distributions (dist-info, modules, .pyc)."""
    rng = pools.rng
    site = f"opt/venvs/svc{index}/lib/python3.11/site-packages"
    done: set[str] = set()
    _parents(writer, f"opt/venvs/svc{index}/bin/x", done)
    writer.symlink(f"opt/venvs/svc{index}/bin/python3", "/usr/bin/python3")
    writer.file(f"opt/venvs/svc{index}/pyvenv.cfg",
                b"home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n")
    names = list(PYPI_NAMES) + [_name(rng, rng.randint(1, 2)) for _ in range(60)]
    for name in sorted(set(rng.sample(names, 90))):
        version = _version(rng)
        module = name.replace("-", "_")
        dist = f"{site}/{module}-{version}.dist-info"
        _parents(writer, f"{dist}/x", done)
        writer.directory(dist)
        done.add(dist)
        files = [f"{module}/{_name(rng, 1)}{n}.py" for n in range(rng.randint(8, 45))]
        record = "".join(f"{f},sha256={hashlib.sha256(f.encode()).hexdigest()[:43]},"
                         f"{rng.randint(100, 9000)}\n" for f in files)
        writer.file(f"{dist}/METADATA", (f"Metadata-Version: 2.1\nName: {name}\n"
                                         f"Version: {version}\nSummary: {_name(rng, 3)}\n"
                                         f"License: MIT\nRequires-Python: >=3.8\n\n"
                                         ).encode() + pools.text_of(rng.randint(400, 5000)))
        writer.file(f"{dist}/RECORD", record.encode())
        writer.file(f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: bdist_wheel\n"
                                     b"Root-Is-Purelib: true\nTag: py3-none-any\n")
        writer.file(f"{dist}/INSTALLER", b"pip\n")
        writer.file(f"{dist}/top_level.txt", f"{module}\n".encode())
        for path in files:
            full = f"{site}/{path}"
            _parents(writer, full, done)
            writer.file(full, pools.text_of(rng.randint(200, 6000)))
            folder, _, stem = full.rpartition("/")
            cache = f"{folder}/__pycache__/{stem[:-3]}.cpython-311.pyc"
            _parents(writer, cache, done)
            writer.file(cache, pools.binary_of(rng.randint(200, 4500)))


def _static(writer: UstarWriter, pools: _Pools, index: int, count: int) -> None:
    """``srv/static/siteN``: ``count`` small assets (svg, json, css, png-like)."""
    rng = pools.rng
    done: set[str] = set()
    for n in range(count):
        kind = rng.choice(("svg", "svg", "json", "json", "css", "png", "html"))
        path = f"srv/static/site{index}/{kind}/{n // 500:03d}/{_name(rng, 1)}-{n}.{kind}"
        _parents(writer, path, done)
        data = (pools.binary_of(rng.randint(100, 2500)) if kind == "png"
                else pools.text_of(rng.randint(40, 1200)))
        writer.file(path, data)
    if index == 2:
        for n in range(200):
            path = f"srv/static/site{index}/tmp/{n:04d}.part"
            _parents(writer, path, done)
            writer.file(path, pools.binary_of(2000))


def _sources(writer: UstarWriter, pools: _Pools, index: int, count: int) -> None:
    """``usr/src/monorepo/partN``: ``count`` source files in nested packages."""
    rng = pools.rng
    done: set[str] = set()
    packages = [_name(rng, 1) for _ in range(120)]
    folders = ("src", "include", "internal", "test", "docs", "cmd", "pkg", "lib")
    for n in range(count):
        suffix = rng.choice((".c", ".h", ".go", ".rs", ".py", ".ts", ".java", ".md"))
        path = (f"usr/src/monorepo/part{index}/{rng.choice(packages)}/{rng.choice(folders)}/"
                f"{_name(rng, 1)}{n}{suffix}")
        _parents(writer, path, done)
        writer.file(path, pools.text_of(rng.randint(200, 3500)))


def _binaries(writer: UstarWriter, pools: _Pools) -> None:
    """Large files: shared libraries and model data, plus the host's Go docker-registry."""
    rng = pools.rng
    done: set[str] = set()
    for n in range(12):
        path = f"usr/local/lib/libbench{n:02d}.so.{rng.randint(1, 9)}"
        _parents(writer, path, done)
        writer.file(path, pools.binary_of(rng.randint(200_000, 1_500_000)), 0o755)
    for n in range(3):
        path = f"opt/models/shard-{n:02d}.bin"
        _parents(writer, path, done)
        writer.file(path, pools.binary_of(rng.randint(2_000_000, 4_000_000)))
    registry = Path("/usr/bin/docker-registry")
    if registry.is_file():
        _parents(writer, "usr/local/bin/docker-registry", done)
        writer.file("usr/local/bin/docker-registry", registry.read_bytes(), 0o755)


def _cleanup(writer: UstarWriter, pools: _Pools) -> None:
    """Deletions (whiteouts, an opaque directory) and configuration with fake credentials."""
    rng = pools.rng
    for part in ("srv", "srv/apps", "srv/apps/app05", "srv/apps/app05/node_modules"):
        writer.directory(part)
    writer.whiteout("srv/apps/app05/node_modules/.cache")
    for part in ("srv/static", "srv/static/site2", "srv/static/site2/tmp"):
        writer.directory(part)
    writer.opaque("srv/static/site2/tmp")
    writer.file("srv/static/site2/tmp/.keep", b"")
    for part in ("usr", "usr/src", "usr/src/monorepo", "usr/src/monorepo/part0"):
        writer.directory(part)
    writer.whiteout("usr/src/monorepo/part0/.git")
    for index in (1, 7):
        access = "AKIA" + "".join(rng.choices(string.ascii_uppercase + "234567", k=16))
        secret = "".join(rng.choices(string.ascii_letters + string.digits + "/+", k=40))
        writer.file(f"srv/apps/app{index:02d}/.env",
                    f"NODE_ENV=production\nAWS_ACCESS_KEY_ID={access}\n"
                    f"AWS_SECRET_ACCESS_KEY={secret}\nPORT=8080\n".encode(), 0o600)
    writer.directory("etc")
    writer.directory("etc/app")
    writer.file("etc/app/config.yaml", pools.text_of(2000))


def _large_layers(first: list[Layer], python_root: Path) -> list[Layer]:
    toolchain, _ = _chroot_layer("toolchain", python_root, TOOLCHAIN_DEBIAN,
                                 f"{first[1].diff_id} {TOOLCHAIN_DEBIAN}")
    layers = [*first, toolchain]
    pools = _Pools.make(SEED)
    names = _npm_names(random.Random(SEED + 1), _npm_layer_names(first[2]), 900)

    def layer(name: str, created_by: str, fill: Callable[[UstarWriter, _Pools], None]
              ) -> None:
        def write(writer: UstarWriter) -> None:
            pools.rng = random.Random(f"{SEED} {name}")
            fill(writer, pools)
        layers.append(_cached_layer(name, created_by, f"synthetic {name}", _ustar(write)))

    for index in range(APPS):
        layer(f"app{index:02d}", f"COPY apps/app{index:02d} /srv/apps/app{index:02d}",
              functools.partial(_node_app, index=index, names=names))
    for index in range(4):
        layer(f"venv{index}", f"RUN /bin/sh -c python3 -m venv /opt/venvs/svc{index} && "
              f"pip install -r requirements-{index}.txt",
              functools.partial(_venv, index=index))
    for index in range(6):
        layer(f"static{index}", f"COPY static/site{index} /srv/static/site{index}",
              functools.partial(_static, index=index, count=28_000))
    for index in range(3):
        layer(f"sources{index}", f"COPY monorepo/part{index} /usr/src/monorepo/part{index}",
              functools.partial(_sources, index=index, count=15_000))
    layer("binaries", "COPY lib models /", _binaries)
    layer("cleanup", "RUN /bin/sh -c rm -rf /srv/apps/app05/node_modules/.cache ...",
          _cleanup)
    return layers


def _npm_layer_names(npm: Layer) -> list[str]:
    """The package names in the real npm layer (reused by the synthetic applications)."""
    names = []
    with tarfile.open(npm.tar) as archive:
        for member in archive:
            parts = member.name.rstrip("/").split("/")
            if parts[-1] == "package.json" and len(parts) >= 6 and parts[-3] == "node_modules":
                names.append(parts[-2])
            elif parts[-1] == "package.json" and len(parts) >= 7 and parts[-4] == "node_modules":
                names.append(f"{parts[-3]}/{parts[-2]}")
    return sorted(set(names))


# --------------------------------------------------------------------------- images


def _assemble(key: str, title: str, layers: list[Layer], cmd: list[str]) -> ReferenceImage:
    """The OCI layout and docker archive of ``layers`` (cached by their diff IDs)."""
    from tests.support.image_builder import (
        MT_OCI_LAYER_GZIP,
        BlobLayer,
        ImageSpec,
        RawLayer,
        write_docker_archive,
        write_oci_layout,
    )

    layers = _compress_all(layers)
    work = REFERENCE / key
    tag = f"bench/{key}:1"
    facts = [{"name": x.name, "diff_id": x.diff_id, "digest": x.digest, "size": x.size,
              "compressed": x.compressed, "entries": x.entries, "created_by": x.created_by}
             for x in layers]
    image_key = f"{RECIPE} {[x.diff_id for x in layers]} {cmd}"
    info_path = work / "info.json"
    if _read_json(info_path).get("key") != image_key:
        started = time.monotonic()
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        config: dict[str, Any] = {"cmd": cmd, "env": [PATH_ENV], "workdir": "/"}
        oci = ImageSpec(layers=[BlobLayer(x.blob, MT_OCI_LAYER_GZIP, x.diff_id, x.created_by)
                                for x in layers], **config)
        write_oci_layout(work / "oci", {OCI_REF: oci})
        docker = ImageSpec(layers=[RawLayer(x.tar, x.created_by) for x in layers], **config)
        write_docker_archive(work / "image.docker.tar", {tag: docker}, style="legacy")
        info_path.write_text(json.dumps({"key": image_key, "layers": facts}, indent=2) + "\n",
                             encoding="utf-8")
        print(f"  image {key}: written ({time.monotonic() - started:.0f} s)", file=sys.stderr,
              flush=True)
    return ReferenceImage(key, title, work / "oci", OCI_REF, work / "image.docker.tar", tag,
                          facts)


def debian_180() -> ReferenceImage:
    layers, _ = _debian_180_layers()
    return _assemble("debian-180", "Debian bookworm + python3 (Debian) + npm app, ~180 MB",
                     layers, ["node", "/usr/src/app/index.js"])


def large_1g() -> ReferenceImage:
    first, python_root = _debian_180_layers()
    layers = _large_layers(first, python_root)
    return _assemble("large-1g", "Debian + tool chain + synthetic apps, ~1.2 GB, 29 layers, "
                     "300,000+ files", layers, ["/bin/bash"])


def text_50() -> ReferenceImage:
    """checks_bench's one-file image, plus a docker archive of it (skopeo)."""
    from checks_bench import text_image
    from tests.support.image_builder import skopeo_docker_archive

    layout = text_image()
    work = REFERENCE / "text-50"
    archive = work / "image.docker.tar"
    tag = "bench/text-50:1"
    manifest = _manifest(layout, "text:1")
    if not archive.is_file() or _read_json(work / "info.json").get("manifest") != manifest:
        work.mkdir(parents=True, exist_ok=True)
        archive.unlink(missing_ok=True)
        skopeo_docker_archive(layout, "text:1", archive, tag)
        layers = []
        for descriptor in _blob_json(layout, manifest)["layers"]:
            blob = layout / "blobs" / "sha256" / descriptor["digest"].split(":")[1]
            with gzip.open(blob) as stream:
                size = sum(len(chunk) for chunk in iter(lambda: stream.read(1 << 20), b""))
            with tarfile.open(blob) as tar:
                entries = sum(1 for _ in tar)
            layers.append({"name": "text", "digest": descriptor["digest"], "size": size,
                           "compressed": descriptor["size"], "entries": entries,
                           "created_by": "COPY big.log /var/log/app/"})
        (work / "info.json").write_text(json.dumps({"manifest": manifest, "layers": layers},
                                                   indent=2) + "\n", encoding="utf-8")
    return ReferenceImage("text-50", "one 50 MB text file (checks_bench.py)", layout, "text:1",
                          archive, tag, _read_json(work / "info.json")["layers"])


def old_150() -> ReferenceImage:
    """The ~150 MB image of ``inspect_bench.py`` (the earlier run.py figures)."""
    from inspect_bench import REF, TAG, build_image

    image = build_image()
    layers = [{"name": f"layer{i}", "digest": x["digest"], "size": x["uncompressed"],
               "compressed": x["compressed"], "entries": x["files"],
               "created_by": x["created_by"]} for i, x in enumerate(image.layers)]
    return ReferenceImage("old-150", "inspect_bench.py image, ~150 MB, 3 layers",
                          image.oci_dir, REF, image.docker_archive, TAG, layers)


def _manifest(layout: Path, ref: str) -> str:
    index = json.loads((layout / "index.json").read_bytes())
    return next(str(m["digest"]) for m in index["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)


def _blob_json(layout: Path, digest: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (layout / "blobs" / "sha256" / digest.split(":")[1]).read_bytes())
    return data


#: Every reference image by key; the first three are the default set of run.py.
BUILDERS: dict[str, Callable[[], ReferenceImage]] = {
    "debian-180": debian_180, "large-1g": large_1g, "text-50": text_50, "old-150": old_150}
DEFAULT_IMAGES = ("debian-180", "large-1g", "text-50")


def build(keys: list[str]) -> dict[str, ReferenceImage]:
    """The images ``keys``, built first where the cache is missing or stale."""
    unknown = set(keys) - set(BUILDERS)
    if unknown:
        raise SystemExit(f"unknown images {sorted(unknown)}; known: {', '.join(BUILDERS)}")
    built = {}
    for key in keys:
        started = time.monotonic()
        built[key] = BUILDERS[key]()
        took = time.monotonic() - started
        if took > 5:
            print(f"built {key} in {took:.0f} s", file=sys.stderr, flush=True)
    return built


# --------------------------------------------------------------------------- package counts


def package_counts(image: ReferenceImage) -> dict[str, dict[str, int]]:
    """Packages per purl type in ``hullscan sbom`` and ``syft`` CycloneDX output of the
    docker archive (components with a purl; nested ones too)."""
    from peers import require_syft
    from tests.support.syft import parse_purl, syft_env

    source = f"docker-archive:{image.docker_archive}"
    counts: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        commands = {"hullscan": ([str(HULLSCAN), "sbom", source, "-o", "cyclonedx-json",
                                  "--no-cache"], None),
                    "syft": ([str(require_syft()), "-q", source, "-o", "cyclonedx-json"],
                             syft_env(Path(scratch)))}
        for tool, (argv, env) in commands.items():
            out = subprocess.run(argv, capture_output=True, check=True, env=env).stdout
            kinds: Counter[str] = Counter()
            for component in _components(json.loads(out).get("components", [])):
                purl = component.get("purl")
                if purl:
                    kinds[parse_purl(purl).type] += 1
            counts[tool] = dict(sorted(kinds.items()))
    return counts


def _components(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from _components(item.get("components", []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=",".join(DEFAULT_IMAGES),
                        help=f"comma-separated, of {', '.join(BUILDERS)}")
    parser.add_argument("--packages", action="store_true",
                        help="also count the packages hullscan and syft find in each")
    args = parser.parse_args()
    for key, image in build(args.images.split(",")).items():
        facts = image.facts()
        print(f"{key}: {facts['layers']} layers, {facts['tar_entries']:,} tar entries, "
              f"{facts['uncompressed_bytes'] / MB:,.1f} MB uncompressed, "
              f"{facts['compressed_bytes'] / MB:,.1f} MB gzip")
        if args.packages:
            for tool, kinds in package_counts(image).items():
                print(f"  {tool}: {sum(kinds.values())} packages {kinds}")


if __name__ == "__main__":
    main()
