"""What every SBOM format says about the image and its packages beyond its own fields.

The ``hullscan:`` facts (written as CycloneDX properties and SPDX annotations), the image's
``pkg:oci`` purl and a stable per-package reference. No SBOM library is imported here: the
CycloneDX JSON writer and the SPDX writer share these without paying for each other's library.
"""

from __future__ import annotations

import hashlib
import json

from packageurl import PackageURL

from hullscan.catalog.package import Catalog, LayerRef, Package
from hullscan.image.model import ImageMetadata

PREFIX = "hullscan:"


def split_image_name(name: str) -> tuple[str, str | None]:
    """``registry/repo:tag`` -> (``registry/repo``, ``tag``); a digest suffix is dropped."""
    name = name.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:]
    return name, None


def image_purl(image: ImageMetadata) -> str | None:
    """``pkg:oci/NAME@DIGEST?repository_url=...&tag=...`` when the manifest digest is known."""
    if image.manifest_digest is None:
        return None
    repository, tag = split_image_name(image.name or image.reference)
    last = repository.rsplit("/", 1)[-1].lower() or "image"
    qualifiers: dict[str, str] = {}
    if "/" in repository:
        qualifiers["repository_url"] = repository
    if image.platform is not None:
        qualifiers["arch"] = image.platform.architecture
    if tag:
        qualifiers["tag"] = tag
    return PackageURL(type="oci", name=last, version=image.manifest_digest,
                      qualifiers=qualifiers).to_string()


def layer_text(image: ImageMetadata, index: int) -> str:
    """One image layer as compact JSON (the value of ``hullscan:image:layer``)."""
    layer = image.layers[index]
    return json.dumps({"index": layer.index, "diff_id": layer.diff_id, "digest": layer.digest,
                       "created_by": layer.created_by}, separators=(",", ":"))


def image_facts(catalog: Catalog) -> list[tuple[str, str]]:
    """``hullscan:`` facts about the image, scope and anomalies, in order."""
    image = catalog.image
    facts = [("scope", catalog.scope.value), ("image:reference", image.reference),
             ("image:source", image.source.value)]
    optional = [("image:name", image.name), ("image:manifest_digest", image.manifest_digest),
                ("image:index_digest", image.index_digest),
                ("image:manifest_media_type", image.manifest_media_type),
                ("image:image_id", image.image_id)]
    facts += [(key, value) for key, value in optional if value is not None]
    if image.platform is not None:
        platform = image.platform
        facts.append(("image:platform", "/".join(
            filter(None, (platform.os, platform.architecture, platform.variant)))))
    facts += [("image:layer", layer_text(image, index)) for index in range(len(image.layers))]
    facts += [(f"anomaly:{index}", anomaly) for index, anomaly in enumerate(catalog.anomalies)]
    if catalog.distro is not None:
        distro = catalog.distro
        facts.append(("distro:id", distro.id))
        facts += [(key, value) for key, value in (
            ("distro:version_id", distro.version_id), ("distro:pretty_name", distro.pretty_name),
            ("distro:codename", distro.codename), ("distro:support_ends", distro.support_ends),
            ("distro:end_of_life", None if distro.end_of_life is None
             else str(distro.end_of_life).lower())) if value is not None]
        if distro.id_like:
            facts.append(("distro:id_like", " ".join(distro.id_like)))
    return [(PREFIX + key, value) for key, value in facts]


def _layer_facts(prefix: str, ref: LayerRef | None) -> list[tuple[str, str]]:
    if ref is None:
        return []
    facts = [(f"{prefix}:index", str(ref.index))]
    if ref.diff_id is not None:
        facts.append((f"{prefix}:diff_id", ref.diff_id))
    if ref.created_by is not None:
        facts.append((f"{prefix}:created_by", ref.created_by))
    return facts


def package_facts(package: Package) -> list[tuple[str, str]]:
    """``hullscan:`` facts about one package that CycloneDX and SPDX have no field for.

    Multi-valued facts whose order matters carry their position in the key
    (``hullscan:license:0``); ``hullscan:location:path`` is repeated, one per location (the order
    is kept by Syft's ``syft:location:N:path`` in CycloneDX).
    """
    facts: list[tuple[str, str]] = [("type", package.type)]
    optional = [("namespace", package.namespace), ("source:name", package.source_name),
                ("source:version", package.source_version),
                ("architecture", package.architecture),
                ("epoch", None if package.epoch is None else str(package.epoch)),
                ("release", package.release), ("owner", package.owner)]
    facts += [(key, value) for key, value in optional if value is not None]
    if package.found_by:
        facts.append(("found_by", package.found_by))
    facts += _layer_facts("layer", package.layer)
    facts += _layer_facts("deleted_by", package.deleted_by)
    facts += [("location:path", location) for location in package.locations]
    facts += [(f"license:{index}", text) for index, text in enumerate(package.licenses)]
    facts += [(f"dependency:{index}", name) for index, name in enumerate(package.dependencies)]
    if package.development:
        facts.append(("development", "true"))
    return [(PREFIX + key, value) for key, value in facts]


def package_ref(position: int, package: Package) -> str:
    """A document-unique, stable reference for a package (bom-ref, SPDX ID suffix)."""
    key = "\0".join((str(position), package.purl, package.name, package.version,
                     *package.locations))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def parse_purl(text: str | None) -> PackageURL | None:
    """A purl, or None when it has none or it does not parse."""
    if not text:
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


__all__ = ["PREFIX", "image_facts", "image_purl", "layer_text", "package_facts", "package_ref",
           "parse_purl", "split_image_name"]

