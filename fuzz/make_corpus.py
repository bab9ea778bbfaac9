"""Write the seed corpora in ``fuzz/corpus/<target>/`` from real fixtures and test inputs.

``python fuzz/make_corpus.py`` (from the repository root; needs ``../shared/fixtures``).
Seeds are small real files (the shared fixtures under 100 KB), the module-level sample
inputs of the parser tests, and a few inputs built here with the tests' own helpers (tars,
jars, ELF files, rpm databases). Each seed is named by its SHA-1, as libFuzzer names the
inputs it adds, so running this again only adds what is new.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import json
import sqlite3
import struct
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
CORPUS = Path(__file__).resolve().parent / "corpus"
MAX_SEED = 100 * 1024

#: target -> fixture files (globs under ../shared/fixtures) used as seeds as they are.
FIXTURE_GLOBS = {
    "dpkg": ["dpkg/**/status", "dpkg/*/var/lib/dpkg/status.d/*", "dpkg/syft-status.d/*",
             "dpkg/copyright/*"],
    "apk": ["apk/**/installed"],
    "rpm": ["rpm/syft-redhat/Packages", "rpm/libuuid/Packages"],
    "python": ["python/**/*METADATA", "python/*PKG-INFO"],
    "gem": ["ruby/*.gemspec"],
    "composer": ["php/**/*.json", "php/*.lock"],
    "dotnet": ["dotnet/*.json"],
    "rust_binary": ["rust/Cargo.lock"],
}

#: target -> test modules whose module-level bytes/str constants are sample inputs.
TEST_MODULES = {
    "apk": ["tests.catalog.os.test_apk"],
    "python": ["tests.catalog.lang.test_python"],
    "npm": ["tests.catalog.lang.test_javascript"],
    "java": ["tests.catalog.lang.test_java"],
    "go_binary": ["tests.catalog.lang.test_golang"],
    "gem": ["tests.catalog.lang.test_ruby"],
}


def _harvest(module_name: str) -> Iterator[bytes]:
    module = importlib.import_module(module_name)
    for name, value in vars(module).items():
        if not name.isupper():
            continue
        if isinstance(value, bytes) and len(value) > 8:
            yield value
        elif isinstance(value, str) and "\n" in value and len(value) > 20:
            yield value.encode()


def _layer_seeds() -> Iterator[bytes]:
    from tests.image.layer_helpers import Member, tar_bytes

    members = [
        Member("etc/", directory=True), Member("etc/os-release", b"ID=debian\n"),
        Member("./usr/bin/tool", b"\x7fELF", mode=0o4755), Member("/abs/file", b"x"),
        Member("bin", symlink="usr/bin"), Member("usr/bin/tool2", hardlink="usr/bin/tool"),
        Member("app/.wh.old.txt", b""), Member("cfg/.wh..wh..opq", b""),
        Member("x/.wh..wh.plnk", b""), Member("d/" + "n" * 120, b"long name"),
    ]
    tar = tar_bytes(members)
    yield tar
    yield gzip.compress(tar, mtime=0)
    yield tar_bytes([Member("../escape", b"x")])
    yield tar_bytes([Member("var/lib/dpkg/status", b"Package: a\nVersion: 1\n")])


def _manifest_seeds() -> Iterator[bytes]:
    digest = "sha256:" + "1" * 64
    oci, docker = "application/vnd.oci.image", "application/vnd.docker"
    yield json.dumps({
        "schemaVersion": 2, "mediaType": f"{oci}.manifest.v1+json",
        "config": {"mediaType": f"{oci}.config.v1+json", "digest": digest, "size": 10},
        "layers": [{"mediaType": f"{oci}.layer.v1.tar+gzip", "digest": digest, "size": 20}],
    }).encode()
    yield json.dumps({
        "schemaVersion": 2, "mediaType": f"{docker}.distribution.manifest.v2+json",
        "config": {"mediaType": f"{docker}.container.image.v1+json", "digest": digest,
                   "size": 10},
        "layers": [{"mediaType": f"{docker}.image.rootfs.diff.tar.gzip", "digest": digest,
                    "size": 20}],
    }).encode()
    yield json.dumps({"schemaVersion": 2, "mediaType": f"{oci}.index.v1+json", "manifests": [
        {"mediaType": f"{oci}.manifest.v1+json", "digest": digest, "size": 5,
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": f"{oci}.manifest.v1+json", "digest": digest, "size": 5,
         "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}]}).encode()
    yield b'{"schemaVersion": 1, "name": "x"}'


def _config_seeds() -> Iterator[bytes]:
    yield json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"User": "app", "Env": ["PATH=/bin", "SECRET=x"], "Entrypoint": ["/app"],
                   "Cmd": ["run"], "ExposedPorts": {"80/tcp": {}}, "Labels": {"a": "b"},
                   "Healthcheck": {"Test": ["CMD", "true"]}, "WorkingDir": "/w"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "2" * 64, "sha256:" + "3" * 64]},
        "history": [{"created_by": "ADD file", "created": "2024-01-01T00:00:00Z"},
                    {"created_by": "ENV a=b", "empty_layer": True},
                    {"created_by": "RUN x", "comment": "buildkit"}],
    }).encode()
    yield b'{"container_config": {"Env": null}, "rootfs": {"diff_ids": []}, "history": null}'


def _rpm_seeds() -> Iterator[bytes]:
    from hullscan.catalog.os.rpm_db import bdb_blobs

    blobs = list(bdb_blobs("Packages", (FIXTURES / "rpm/syft-redhat/Packages").read_bytes()))
    yield from blobs
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "rpmdb.sqlite"
        connection = sqlite3.connect(path)
        connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)")
        connection.executemany("INSERT INTO Packages VALUES (?, ?)", enumerate(blobs, 1))
        connection.commit()
        connection.close()
        yield path.read_bytes()
    # NDB: one slot page (slots from byte 32), then each blob at a 16-byte block boundary.
    slots, data = bytearray(), bytearray()
    offset = 4096
    for index, blob in enumerate(blobs, 1):
        block = (offset + len(data)) // 16
        slots += b"Slot" + struct.pack("<III", index, block, (len(blob) + 31) // 16)
        data += b"BlbS" + struct.pack("<III", index, 0, len(blob)) + blob
        data += b"\0" * (-len(data) % 16)
    while 32 + len(slots) < 4096:
        slots += b"Slot" + b"\0" * 12
    yield b"RpmP" + struct.pack("<IIIII", 0, 1, 1, 0, 0) + b"\0" * 8 + slots + data


def _java_seeds() -> Iterator[bytes]:
    def jar(members: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members.items():
                archive.writestr(name, content)
        return buffer.getvalue()

    maven = "META-INF/maven/org.example/lib/"
    inner = jar({
        maven + "pom.properties": b"groupId=org.example\nartifactId=lib\nversion=1.2.3\n",
        maven + "pom.xml": b"<project><licenses><license><name>MIT</name></license>"
                           b"</licenses></project>",
        "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nImplementation-Title: lib\r\n"
                                b"Implementation-Version: 1.2.3\r\n",
    })
    yield inner
    yield jar({"WEB-INF/lib/lib-1.2.3.jar": inner,
               "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nBundle-Version: 2\r\n"})
    yield jar({"META-INF/maven/g/a/pom.xml": b"<project><groupId>g</groupId>"
               b"<artifactId>a</artifactId><version>1</version></project>"})


def _go_seeds() -> Iterator[bytes]:
    from tests.catalog.lang import test_go_binary

    yield test_go_binary._inline()
    yield test_go_binary._inline(version=b"go1.22.1", modinfo="path\tcmd\nbuild\tGOOS=linux\n")


def _rust_seeds() -> Iterator[bytes]:
    from tests.catalog.lang.test_rust_binary import AUDIT
    from tests.catalog.test_elf import build_elf

    payload = zlib.compress(json.dumps(AUDIT).encode())
    yield build_elf([(".dep-v0", payload)])[0]
    yield build_elf([(".dep-v0", payload)], is64=False, little=False)[0]


_VERSIONS = {
    "apk": [("1.2.3-r0", "1.2.3_rc1-r1", "1.3"), ("2.34", "0.1.0_alpha", "23_foo")],
    "composer": [("1.0.0", "v1.0.0-beta2", "dev-main"), ("2.1.x-dev", "^2.1", ">=1.0,<1.5.2|^2.1")],
    "dpkg": [("1:2.30-1ubuntu2", "2.30~rc1-1", "1.0+dfsg-2")],
    "gem": [("1.2.3", "1.2.3.pre", "~> 1.2"), ("0.1.a", ">= 1, < 2", "1")],
    "golang": [("v1.2.3", "v0.0.0-20210101000000-abcdef123456", "v2.0.0+incompatible")],
    "maven": [("1.0-SNAPSHOT", "1.0.RELEASE", "1.0-alpha-1"), ("2.0.0.Final", "2-rc", "1")],
    "npm": [("1.2.3", "^1.2.0 || >=2.0.0-beta <3", "1.x"), ("1.0.0-rc.1", "~1.0.0", "*")],
    "nuget": [("1.0.0", "1.0.0-beta.1+build", "1.0.0.0")],
    "pep440": [("1.0.post1", "1!2.0rc1.dev3", "1.0+local.7")],
    "rpm": [("1.2-3.el8", "2:1.0~rc1^git-1", "1.0a")],
    "semver": [("1.2.3-alpha.1+meta", "v1.2.3", "0.0.0")],
}


def _version_seeds() -> Iterator[bytes]:
    schemes = sorted(_VERSIONS)
    for scheme, triples in _VERSIONS.items():
        for triple in triples:
            yield bytes([schemes.index(scheme)]) + "\0".join(triple).encode()
    data = ROOT / "tests/versions/data/apk-tools-version.data"
    lines = [line.split() for line in data.read_text().splitlines() if line[:1].isdigit()]
    for a, _op, b in (line for line in lines[:40] if len(line) == 3):
        yield bytes([schemes.index("apk")]) + f"{a}\0{b}\0{a}".encode()


BUILT = {
    "layer_tar": _layer_seeds, "manifest": _manifest_seeds, "config": _config_seeds,
    "rpm": _rpm_seeds, "java": _java_seeds, "go_binary": _go_seeds,
    "rust_binary": _rust_seeds, "versions": _version_seeds,
}


def seeds(target: str) -> Iterator[bytes]:
    """Every seed of ``target``: fixtures, harvested test inputs, built inputs."""
    for pattern in FIXTURE_GLOBS.get(target, []):
        for path in sorted(FIXTURES.glob(pattern)):
            if path.is_file() and path.stat().st_size <= MAX_SEED:
                yield path.read_bytes()
    for module in TEST_MODULES.get(target, []):
        yield from _harvest(module)
    if target in BUILT:
        yield from BUILT[target]()


def main() -> None:
    """Write every target's seeds."""
    sys.path.insert(0, str(ROOT))
    from fuzz.targets import TARGETS

    for target in TARGETS:
        directory = CORPUS / target
        directory.mkdir(parents=True, exist_ok=True)
        count = 0
        for seed in seeds(target):
            if len(seed) <= MAX_SEED:
                (directory / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
                count += 1
        print(f"{target}: {count} seeds")


if __name__ == "__main__":
    main()
