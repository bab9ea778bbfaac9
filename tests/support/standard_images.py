"""The standard test images (specs, builders and the facts tests assert against).

* ``debian-test:1`` – real Debian bookworm minbase base layer plus two app layers
  (see :data:`DEBIAN_IMAGE`)
* ``small:1``       – tiny Alpine-like two-layer image, fast to build (see :data:`SMALL_IMAGE`)
* ``multi:1``       – image index for linux/amd64 and linux/arm64/v8 with BuildKit-style
  attestation manifests (see :data:`MULTI_IMAGE`)

Paths in the facts are absolute image paths (``/opt/app/app.py``); layer indexes count
from 0 at the base. Nothing here needs pytest, so benchmarks can import it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.debian_base import DebianBase
from tests.support.image_builder import (
    MT_OCI_LAYER_GZIP,
    MT_OCI_LAYER_ZSTD,
    Directory,
    Entry,
    File,
    HardLink,
    History,
    ImageSpec,
    IndexSpec,
    LayerSpec,
    OpaqueWhiteout,
    RawLayer,
    Symlink,
    Whiteout,
    Written,
    host_architecture,
    skopeo_docker_archive,
    tar_directory,
    write_docker_archive,
    write_oci_layout,
)

APP_UID = 1000


@dataclass(frozen=True)
class BuiltImage:
    """A written OCI layout holding one ref."""

    layout: Path
    ref: str
    written: Written


@dataclass(frozen=True)
class ImageFormats:
    """One image in every on-disk format a scanner may be given."""

    oci_layout: Path
    ref: str
    oci_archive: Path
    docker_archive_legacy: Path
    docker_archive_oci: Path
    skopeo_docker_archive: Path
    docker_tag: str


@dataclass(frozen=True)
class ImageFacts:
    """What a correct scanner must find in an image's final filesystem and config."""

    ref: str
    layer_count: int
    layer_media_types: tuple[str, ...]
    architecture: str
    os: str
    user: str
    env: tuple[str, ...]
    exposed_ports: tuple[str, ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    workdir: str
    labels: Mapping[str, str]
    history: tuple[tuple[str, bool], ...]  # (created_by, empty_layer)
    present_paths: tuple[str, ...]
    deleted_paths: Mapping[str, int]  # path -> layer whose whiteout removed it
    last_writer: Mapping[str, int]  # path -> layer that last wrote it
    file_contents: Mapping[str, bytes]  # final content
    symlinks: Mapping[str, str]  # path -> link target (verbatim)
    hardlinks: Mapping[str, str]  # path -> absolute path it links to
    executables: tuple[str, ...]
    owners: Mapping[str, tuple[int, int]]  # path -> (uid, gid)
    whiteout_members: Mapping[int, tuple[str, ...]]  # layer -> raw whiteout tar names
    os_release: Mapping[str, str]
    sample_packages: tuple[str, ...]

    @property
    def empty_layer_count(self) -> int:
        """Number of history entries without a layer."""
        return sum(1 for _, empty in self.history if empty)


@dataclass(frozen=True)
class MultiPlatformFacts:
    """What the ``multi:1`` index holds."""

    ref: str
    platforms: tuple[str, ...]  # "os/arch[/variant]"
    arch_file: Mapping[str, bytes]  # platform -> content of /etc/arch
    layer_count: int
    attestation_count: int


# --------------------------------------------------------------------------- debian-test:1

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_LABELS = {
    "org.opencontainers.image.title": "hullscan-debian-test",
    "org.opencontainers.image.version": "1.1.0",
    "com.example.team": "scanner-tests",
}
_RUN_SH = b'#!/bin/sh\nexec /usr/bin/env sh -c "echo app $APP_MODE $*"\n'
_APP_PY = b'print("hello from the hullscan test app")\n'
_L1 = (
    "RUN /bin/sh -c useradd --uid 1000 --user-group --home-dir /opt/app app"
    " && tar -xf /tmp/app.tar -C / # buildkit"
)
_L2 = (
    "RUN /bin/sh -c rm /opt/app/data/a.txt /etc/motd && rm -rf /opt/app/cfg"
    " && mkdir /opt/app/cfg && echo mode=production > /opt/app/cfg/app.conf"
    " && echo 1.1.0 > /opt/app/VERSION # buildkit"
)
_DEBIAN_HISTORY: tuple[tuple[str, bool], ...] = (
    ("ADD debian-bookworm-minbase.tar / # buildkit", False),
    ('CMD ["bash"]', True),
    (f"ENV PATH={_PATH} APP_MODE=production", True),
    (_L1, False),
    ("WORKDIR /opt/app", True),
    ("EXPOSE map[8080/tcp:{}]", True),
    (_L2, False),
    ("USER app", True),
    ('ENTRYPOINT ["/opt/app/run.sh"]', True),
    ('CMD ["--serve"]', True),
    ("LABEL " + " ".join(f"{k}={v}" for k, v in _LABELS.items()), True),
)

DEBIAN_IMAGE = ImageFacts(
    ref="debian-test:1",
    layer_count=3,
    layer_media_types=(MT_OCI_LAYER_GZIP, MT_OCI_LAYER_GZIP, MT_OCI_LAYER_ZSTD),
    architecture=host_architecture(),
    os="linux",
    user="app",
    env=(f"PATH={_PATH}", "APP_MODE=production"),
    exposed_ports=("8080/tcp",),
    entrypoint=("/opt/app/run.sh",),
    cmd=("--serve",),
    workdir="/opt/app",
    labels=_LABELS,
    history=_DEBIAN_HISTORY,
    present_paths=(
        "/bin",
        "/usr/bin/bash",
        "/etc/os-release",
        "/usr/lib/os-release",
        "/var/lib/dpkg/status",
        "/etc/passwd",
        "/etc/group",
        "/opt/app/app.py",
        "/opt/app/run.sh",
        "/opt/app/VERSION",
        "/opt/app/current",
        "/opt/app/data/b.txt",
        "/opt/app/data/b-link.txt",
        "/opt/app/cfg/app.conf",
        "/usr/local/bin/app",
    ),
    deleted_paths={
        "/etc/motd": 2,
        "/opt/app/data/a.txt": 2,
        "/opt/app/cfg/legacy.conf": 2,
    },
    last_writer={
        "/usr/bin/bash": 0,
        "/usr/lib/os-release": 0,
        "/var/lib/dpkg/status": 0,
        "/etc/passwd": 1,
        "/etc/group": 1,
        "/opt/app/app.py": 1,
        "/opt/app/run.sh": 1,
        "/opt/app/data/b.txt": 1,
        "/opt/app/VERSION": 2,
        "/opt/app/cfg/app.conf": 2,
    },
    file_contents={
        "/opt/app/app.py": _APP_PY,
        "/opt/app/VERSION": b"1.1.0\n",
        "/opt/app/cfg/app.conf": b"mode=production\n",
        "/opt/app/data/b.txt": b"bravo\n",
        "/opt/app/data/b-link.txt": b"bravo\n",
    },
    symlinks={
        "/bin": "usr/bin",
        "/etc/os-release": "../usr/lib/os-release",
        "/opt/app/current": "data/b.txt",
        "/usr/local/bin/app": "/opt/app/run.sh",
    },
    hardlinks={"/opt/app/data/b-link.txt": "/opt/app/data/b.txt"},
    executables=("/opt/app/run.sh", "/usr/bin/bash"),
    owners={
        "/opt/app/app.py": (APP_UID, APP_UID),
        "/opt/app/cfg/app.conf": (APP_UID, APP_UID),
        "/etc/passwd": (0, 0),
    },
    whiteout_members={
        2: ("etc/.wh.motd", "opt/app/cfg/.wh..wh..opq", "opt/app/data/.wh.a.txt"),
    },
    os_release={"ID": "debian", "VERSION_ID": "12", "VERSION_CODENAME": "bookworm"},
    sample_packages=("base-files", "bash", "coreutils", "dpkg", "libc6", "apt", "tzdata"),
)


def _app_file(path: str, content: bytes, mode: int = 0o644) -> File:
    return File(path, content, mode=mode, uid=APP_UID, gid=APP_UID)


def _app_dir(path: str) -> Directory:
    return Directory(path, uid=APP_UID, gid=APP_UID)


def debian_app_layer(base: DebianBase) -> LayerSpec:
    """Layer 1: the ``app`` user and ``/opt/app`` with data, config, links and a script."""
    passwd = (base.rootfs / "etc/passwd").read_bytes() + b"app:x:1000:1000::/opt/app:/bin/sh\n"
    group = (base.rootfs / "etc/group").read_bytes() + b"app:x:1000:\n"
    entries: list[Entry] = [
        File("/etc/passwd", passwd),
        File("/etc/group", group),
        _app_dir("/opt/app"),
        _app_file("/opt/app/app.py", _APP_PY),
        _app_file("/opt/app/run.sh", _RUN_SH, mode=0o755),
        _app_file("/opt/app/VERSION", b"1.0.0\n"),
        _app_dir("/opt/app/data"),
        _app_file("/opt/app/data/a.txt", b"alpha\n"),
        _app_file("/opt/app/data/b.txt", b"bravo\n"),
        HardLink("/opt/app/data/b-link.txt", "/opt/app/data/b.txt"),
        _app_dir("/opt/app/cfg"),
        _app_file("/opt/app/cfg/app.conf", b"mode=development\n"),
        _app_file("/opt/app/cfg/legacy.conf", b"legacy=true\n"),
        Symlink("/opt/app/current", "data/b.txt", uid=APP_UID, gid=APP_UID),
        Symlink("/usr/local/bin/app", "/opt/app/run.sh"),
    ]
    return LayerSpec(entries, created_by=_L1, compression="gzip")


def debian_update_layer() -> LayerSpec:
    """Layer 2 (zstd): whiteouts, an opaque ``/opt/app/cfg`` and an overwritten file."""
    entries: list[Entry] = [
        Whiteout("/etc/motd"),
        _app_dir("/opt/app"),
        _app_file("/opt/app/VERSION", b"1.1.0\n"),
        _app_dir("/opt/app/cfg"),
        OpaqueWhiteout("/opt/app/cfg"),
        _app_file("/opt/app/cfg/app.conf", b"mode=production\n"),
        _app_dir("/opt/app/data"),
        Whiteout("/opt/app/data/a.txt"),
    ]
    return LayerSpec(entries, created_by=_L2, compression="zstd")


def _history(facts: ImageFacts) -> tuple[History, ...]:
    return tuple(History(created_by, empty) for created_by, empty in facts.history)


def debian_image_spec(base: DebianBase) -> ImageSpec:
    """The ``debian-test:1`` image (base layer gzip level 1 for speed)."""
    facts = DEBIAN_IMAGE
    base_layer = RawLayer(base.layer_tar, created_by=facts.history[0][0], level=1)
    return ImageSpec(
        layers=(base_layer, debian_app_layer(base), debian_update_layer()),
        architecture=facts.architecture,
        user=facts.user,
        env=facts.env,
        exposed_ports=facts.exposed_ports,
        entrypoint=facts.entrypoint,
        cmd=facts.cmd,
        workdir=facts.workdir,
        labels=facts.labels,
        history=_history(facts),
    )


# --------------------------------------------------------------------------- small:1

_APK_INSTALLED = b"""\
P:musl
V:1.2.4-r2
A:x86_64
L:MIT
o:musl
F:lib
R:ld-musl-x86_64.so.1

P:busybox
V:1.36.1-r15
A:x86_64
L:GPL-2.0-only
o:busybox
F:bin
R:busybox

"""
_OS_RELEASE_ALPINE = b"""\
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
"""
_SMALL_L0 = "ADD alpine-minirootfs.tar / # buildkit"
_SMALL_L1 = "COPY app/ /app/ # buildkit"

SMALL_IMAGE = ImageFacts(
    ref="small:1",
    layer_count=2,
    layer_media_types=(MT_OCI_LAYER_GZIP, MT_OCI_LAYER_GZIP),
    architecture="amd64",
    os="linux",
    user="1000:1000",
    env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
    exposed_ports=(),
    entrypoint=(),
    cmd=("/app/run.sh",),
    workdir="/app",
    labels={"org.opencontainers.image.title": "hullscan-small-test"},
    history=((_SMALL_L0, False), ('CMD ["/bin/sh"]', True), (_SMALL_L1, False)),
    present_paths=(
        "/etc/os-release",
        "/etc/alpine-release",
        "/lib/apk/db/installed",
        "/bin/busybox",
        "/bin/sh",
        "/app/hello.txt",
        "/app/run.sh",
    ),
    deleted_paths={"/etc/motd": 1},
    last_writer={"/etc/os-release": 0, "/bin/busybox": 0, "/app/hello.txt": 1, "/app/run.sh": 1},
    file_contents={"/app/hello.txt": b"hello\n", "/etc/alpine-release": b"3.19.1\n"},
    symlinks={"/bin/sh": "/bin/busybox"},
    hardlinks={},
    executables=("/bin/busybox", "/app/run.sh"),
    owners={"/app/hello.txt": (APP_UID, APP_UID), "/etc/os-release": (0, 0)},
    whiteout_members={1: ("etc/.wh.motd",)},
    os_release={"ID": "alpine", "VERSION_ID": "3.19.1"},
    sample_packages=("musl", "busybox"),
)


def small_image_spec() -> ImageSpec:
    """The tiny ``small:1`` image: an Alpine-like base and an app layer deleting a file."""
    facts = SMALL_IMAGE
    base = LayerSpec(
        [
            File("/etc/os-release", _OS_RELEASE_ALPINE),
            File("/etc/alpine-release", b"3.19.1\n"),
            File("/etc/motd", b"Welcome to Alpine!\n"),
            File("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
            File("/lib/apk/db/installed", _APK_INSTALLED),
            File("/bin/busybox", b"\x7fELF fake busybox\n", mode=0o755),
            Symlink("/bin/sh", "/bin/busybox"),
        ],
        created_by=_SMALL_L0,
    )
    app = LayerSpec(
        [
            Directory("/app", uid=APP_UID, gid=APP_UID),
            _app_file("/app/hello.txt", b"hello\n"),
            _app_file("/app/run.sh", b"#!/bin/sh\ncat /app/hello.txt\n", mode=0o755),
            Whiteout("/etc/motd"),
        ],
        created_by=_SMALL_L1,
    )
    return ImageSpec(
        layers=(base, app),
        architecture=facts.architecture,
        user=facts.user,
        env=facts.env,
        cmd=facts.cmd,
        workdir=facts.workdir,
        labels=facts.labels,
        history=_history(facts),
    )


# --------------------------------------------------------------------------- multi:1

MULTI_IMAGE = MultiPlatformFacts(
    ref="multi:1",
    platforms=("linux/amd64", "linux/arm64/v8"),
    arch_file={"linux/amd64": b"amd64\n", "linux/arm64/v8": b"arm64\n"},
    layer_count=2,
    attestation_count=2,
)


def _platform_image(arch: str, variant: str | None) -> ImageSpec:
    platform = "/".join(p for p in ("linux", arch, variant) if p)
    base = LayerSpec(
        [
            File("/etc/arch", f"{arch}\n".encode()),
            File("/etc/os-release", _OS_RELEASE_ALPINE),
            File("/bin/hello", f"\x7fELF fake {arch} binary\n".encode(), mode=0o755),
        ],
        created_by="ADD rootfs.tar / # buildkit",
    )
    app = LayerSpec(
        [File("/app/platform.txt", f"{platform}\n".encode())],
        created_by="RUN /bin/sh -c uname -m > /app/platform.txt # buildkit",
        compression="zstd" if arch == "arm64" else "gzip",
    )
    return ImageSpec(layers=(base, app), architecture=arch, variant=variant, cmd=("/bin/hello",))


def multiplatform_index_spec() -> IndexSpec:
    """The ``multi:1`` index: linux/amd64 and linux/arm64/v8 plus attestations."""
    return IndexSpec(images=(_platform_image("amd64", None), _platform_image("arm64", "v8")))


# --------------------------------------------------------------------------- writers


def build_layout(dest: Path, ref: str, spec: ImageSpec | IndexSpec) -> BuiltImage:
    """Write a one-ref OCI layout at ``dest``."""
    written = write_oci_layout(dest, {ref: spec})
    return BuiltImage(dest, ref, written[ref])


def build_formats(built: BuiltImage, spec: ImageSpec, dest: Path) -> ImageFormats:
    """Write ``built`` in every format into ``dest`` (created): OCI archive, docker archives."""
    dest.mkdir(parents=True, exist_ok=True)
    oci_archive = dest / "oci-archive.tar"
    tar_directory(built.layout, oci_archive)
    legacy, oci_style = dest / "docker-archive-legacy.tar", dest / "docker-archive-oci.tar"
    write_docker_archive(legacy, {built.ref: spec}, style="legacy")
    write_docker_archive(oci_style, {built.ref: spec}, style="oci")
    skopeo_archive = skopeo_docker_archive(built.layout, built.ref, dest / "skopeo-docker.tar")
    return ImageFormats(
        oci_layout=built.layout,
        ref=built.ref,
        oci_archive=oci_archive,
        docker_archive_legacy=legacy,
        docker_archive_oci=oci_style,
        skopeo_docker_archive=skopeo_archive,
        docker_tag=built.ref,
    )
