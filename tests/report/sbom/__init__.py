"""SBOM writers and reader; :func:`sample_catalog` is the hand-built catalog they share."""

from __future__ import annotations

from hullscan.catalog.package import Catalog, LayerRef, Package, Scope
from hullscan.image.config import HistoryEntry, ImageConfig
from hullscan.image.distro import Distro
from hullscan.image.layer import LayerInfo
from hullscan.image.manifest import Platform
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import SourceKind

DIFF_IDS = tuple(f"sha256:{digit * 64}" for digit in "abc")
CREATED_BY = (
    "/bin/sh -c #(nop) ADD file:0123 in / ",
    "RUN /bin/sh -c apt-get update && apt-get install -y python3-six curl # buildkit",
    "RUN /bin/sh -c rm -rf /var/lib/apt && npm install # buildkit",
)
LAYERS = tuple(LayerRef(index, DIFF_IDS[index], CREATED_BY[index]) for index in range(3))
MANIFEST_DIGEST = "sha256:" + "d" * 64
IMAGE_ID = "sha256:" + "e" * 64


def sample_image() -> ImageMetadata:
    config = ImageConfig(
        architecture="amd64", os="linux", variant=None, created="2026-11-27T09:00:00Z",
        user="app", env=("PATH=/usr/bin", "LANG=C.UTF-8"), exposed_ports=("8080/tcp",),
        entrypoint=("/entrypoint.sh",), cmd=None, working_dir="/app",
        labels={"org.opencontainers.image.title": "app"}, stop_signal=None,
        healthcheck=("CMD", "true"), diff_ids=DIFF_IDS,
        history=(HistoryEntry(CREATED_BY[0], "2026-11-27T08:00:00Z", None, False),
                 HistoryEntry("ENV LANG=C.UTF-8", None, None, True),
                 HistoryEntry(CREATED_BY[1], None, "buildkit.dockerfile.v0", False),
                 HistoryEntry(CREATED_BY[2], None, None, False)))
    layers = tuple(LayerInfo(
        index=index, diff_id=DIFF_IDS[index], digest="sha256:" + str(index) * 64,
        media_type="application/vnd.oci.image.layer.v1.tar+gzip", size=1000 * (index + 1),
        created_by=CREATED_BY[index], history_index=(0, 2, 3)[index], created=None)
        for index in range(3))
    return ImageMetadata(
        reference="localhost:5000/team/app:1.0", source=SourceKind.REGISTRY,
        name="localhost:5000/team/app:1.0", manifest_digest=MANIFEST_DIGEST,
        index_digest="sha256:" + "f" * 64,
        manifest_media_type="application/vnd.oci.image.manifest.v1+json", image_id=IMAGE_ID,
        platform=Platform("linux", "amd64"), config=config, layers=layers)


SIX_DEB_PURL = "pkg:deb/debian/python3-six@1.16.0-4?arch=all&distro=debian-12&upstream=six"


def sample_packages() -> tuple[Package, ...]:
    return (
        Package(
            name="passwd", version="1:4.13+dfsg1-1+deb12u2", type="deb",
            purl="pkg:deb/debian/passwd@1:4.13%2Bdfsg1-1%2Bdeb12u2?arch=amd64&distro=debian-12"
                 "&upstream=shadow",
            namespace="debian", source_name="shadow", source_version="1:4.13+dfsg1-1+deb12u2",
            architecture="amd64", epoch=1,
            licenses=("GPL-2.0-or-later", "BSD-3-Clause", "public-domain"),
            supplier="Shadow Package Maintainers <pkg-shadow-devel@lists.alioth.debian.org>",
            cpes=("cpe:2.3:a:debian:passwd:1\\:4.13\\+dfsg1-1\\+deb12u2:*:*:*:*:*:*:*",
                  "cpe:2.3:a:passwd:passwd:1\\:4.13\\+dfsg1-1\\+deb12u2:*:*:*:*:*:*:*"),
            locations=("var/lib/dpkg/status",), layer=LAYERS[0], found_by="dpkg",
            files=("usr/bin/passwd", "etc/default/useradd"), dependencies=("libc6", "libpam0g"),
            extra={"installed_size": "2770"}),
        Package(
            name="python3-six", version="1.16.0-4", type="deb", purl=SIX_DEB_PURL,
            namespace="debian", source_name="six", source_version="1.16.0-4",
            architecture="all", licenses=("MIT",), supplier="Debian Python Team",
            locations=("var/lib/dpkg/status",), layer=LAYERS[1], found_by="dpkg",
            files=("usr/lib/python3/dist-packages/six.py",)),
        Package(
            name="six", version="1.16.0", type="pypi", purl="pkg:pypi/six@1.16.0",
            licenses=("MIT",), supplier="Benjamin Peterson <benjamin@python.org>",
            locations=("usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",),
            layer=LAYERS[1], found_by="python", owner=SIX_DEB_PURL),
        Package(
            name="@babel/core", version="7.24.0", type="npm", purl="pkg:npm/%40babel/core@7.24.0",
            licenses=("MIT OR Apache-2.0",),
            locations=("app/package-lock.json", "app/node_modules/@babel/core/package.json"),
            layer=LAYERS[2], found_by="javascript", development=True,
            dependencies=("@babel/parser",)),
        Package(
            name="log4j-core", version="2.14.1", type="maven",
            purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            namespace="org.apache.logging.log4j",
            licenses=("The Apache Software License, Version 2.0",),
            cpes=("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",),
            locations=("app/lib/log4j-core-2.14.1.jar",), layer=LAYERS[2], found_by="java"),
        Package(
            name="curl", version="7.88.1-10+deb12u5", type="deb",
            purl="pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12",
            namespace="debian", architecture="amd64", locations=("var/lib/dpkg/status",),
            layer=LAYERS[1], deleted_by=LayerRef(2, DIFF_IDS[2], None), found_by="dpkg"),
    )


def sample_catalog() -> Catalog:
    return Catalog(
        image=sample_image(),
        distro=Distro("debian", "12", "Debian GNU/Linux 12 (bookworm)", "bookworm",
                      support_ends="2028-06-30", end_of_life=False),
        scope=Scope.ALL_LAYERS, packages=sample_packages(),
        anomalies=("usr/lib/node_modules/bad/package.json: not JSON",
                   "app/a.jar: truncated zip"))
