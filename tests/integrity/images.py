"""Two images sharing a large base layer (8,000 files, an apk database of 3,000 packages),
and what a cold scan (``--no-cache``) of each prints."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from tests.integrity.processes import finish, start
from tests.support.image_builder import File, ImageSpec, LayerSpec, write_oci_layout

CHECKS = ("--scanners", "secret,config,file,license", "--no-policy", "--format", "json")
"""No vulnerability database needed: the layer cache holds what the analysis found."""


@dataclass(frozen=True)
class BigImages:
    """``a`` and ``b`` (``oci-dir:`` references) and their cold scan outputs."""

    a: str
    b: str
    cold: dict[str, str]


def _base() -> LayerSpec:
    rng = random.Random(7)
    files = [File(f"/usr/share/data/d{i // 500:03d}/f{i:05d}.txt",
                  f"file {i} {rng.random()}\n".encode()) for i in range(8000)]
    apk = b"".join(f"P:pkg{i}\nV:1.{i}-r0\nA:x86_64\nL:MIT\nT:{rng.getrandbits(400):x}\n\n"
                   .encode() for i in range(3000))
    return LayerSpec([File("/etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
                      File("/lib/apk/db/installed", apk), *files], created_by="ADD rootfs /")


def build_big_images(root: Path) -> BigImages:
    """Write the layout under ``root`` and scan both images cold."""
    base = _base()
    write_oci_layout(root / "layout", {
        "a:1": ImageSpec([base, LayerSpec([File("/app/.env", b"password = hunter2hunter2\n")],
                                          created_by="COPY app /app")]),
        "b:1": ImageSpec([base, LayerSpec([File("/srv/b.txt", b"b\n", mode=0o4755)],
                                          created_by="COPY b /srv")]),
    })
    images = {name: f"oci-dir:{root / 'layout'}:{name}:1" for name in ("a", "b")}
    cold: dict[str, str] = {}
    for name, image in images.items():
        code, out, err = finish(start("scan", image, *CHECKS, "--no-cache", cwd=root))
        assert code in (0, 1), err
        cold[name] = out
    return BigImages(images["a"], images["b"], cold)


def cold_scan(images: BigImages, name: str) -> str:
    """What ``scan --no-cache`` printed for image ``name``."""
    return images.cold[name]
