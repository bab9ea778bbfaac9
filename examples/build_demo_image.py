#!/usr/bin/env python3
"""Build a small real image without Docker: a Debian bookworm base from debootstrap plus one
application layer, written as an OCI image layout (``examples/out/demo-oci``) and as a tar of it
(``examples/out/demo.oci.tar``). Needs root and the ``debootstrap`` package; stdlib only.

The base root filesystem is kept in ``examples/out/rootfs`` and reused by later runs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
MTIME = 1_700_000_000


def apt_mirror() -> list[str]:
    """The Debian mirror this machine's apt uses (empty: debootstrap's own default)."""
    for sources in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return [line.split()[1]]
    return []


def build_rootfs(rootfs: Path) -> None:
    """debootstrap a minimal bookworm once."""
    if (rootfs / ".complete").exists():
        return
    shutil.rmtree(rootfs, ignore_errors=True)
    print(f"debootstrap bookworm into {rootfs} (a minute or two) ...", file=sys.stderr)
    subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), *apt_mirror()],
                   check=True, stdout=subprocess.DEVNULL)
    (rootfs / ".complete").touch()


def tar_of_tree(root: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root).as_posix()
            if relative == ".complete" or relative.startswith("var/cache/apt/archives/"):
                continue
            archive.add(path, arcname=relative, recursive=False)
    return buffer.getvalue()


def tar_of_files(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), MTIME, 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_blob(layout: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    build_rootfs(OUT / "rootfs")
    layers = [
        (tar_of_tree(OUT / "rootfs"), "ADD rootfs.tar.xz / # debootstrap bookworm minbase"),
        (tar_of_files({"opt/demo/app.py": b"print('hello from hullscan demo')\n",
                       # An old pinned dependency, as its installed metadata records it.
                       "opt/demo/site-packages/requests-2.19.1.dist-info/METADATA":
                           b"Metadata-Version: 2.1\nName: requests\nVersion: 2.19.1\n"
                           b"License: Apache 2.0\n",
                       "usr/share/doc/.wh.debconf": b""}),
         "COPY app.py requirements.txt /opt/demo/ && RUN pip install --target "
         "/opt/demo/site-packages requests==2.19.1 && rm -rf /usr/share/doc/debconf"),
    ]
    layout = OUT / "demo-oci"
    shutil.rmtree(layout, ignore_errors=True)
    (layout / "blobs" / "sha256").mkdir(parents=True)
    descriptors, diff_ids = [], []
    for tar, _ in layers:
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        blob = write_blob(layout, gzip.compress(tar, compresslevel=6, mtime=0))
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **blob})
    config = {
        "architecture": "amd64", "os": "linux", "created": "2026-11-27T00:00:00Z",
        "config": {"User": "1000", "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "APP_MODE=demo"],
                   "ExposedPorts": {"8080/tcp": {}}, "Cmd": ["python3", "/opt/demo/app.py"],
                   "WorkingDir": "/opt/demo"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2026-11-27T00:00:00Z", "created_by": created_by}
                    for _, created_by in layers],
    }
    config_blob = write_blob(layout, json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           **config_blob}, "layers": descriptors}
    manifest_blob = write_blob(layout, json.dumps(manifest).encode())
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_blob,
        "annotations": {"org.opencontainers.image.ref.name": "demo"}}]}))
    with tarfile.open(OUT / "demo.oci.tar", "w") as archive:
        for path in sorted(layout.rglob("*")):
            archive.add(path, arcname=path.relative_to(layout).as_posix(), recursive=False)
    print(f"wrote {layout} and {OUT / 'demo.oci.tar'}", file=sys.stderr)


if __name__ == "__main__":
    main()
