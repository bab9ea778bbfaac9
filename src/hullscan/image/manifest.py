"""Manifests and indexes (OCI and Docker schema 2), read strictly, and platform selection."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hullscan.errors import CorruptContentError, ImageNotFoundError, UnsupportedManifestError
from hullscan.image import mediatypes
from hullscan.image.digest import validate_digest

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""Registries refuse manifests above 4 MiB; so do we, before parsing."""


@dataclass(frozen=True)
class Platform:
    """An OS/architecture/variant triple, as in ``linux/arm64/v8``."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant]``."""
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UnsupportedManifestError(
                "platform must look like os/arch[/variant], e.g. linux/arm64", subject=text)
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def normalised(self) -> Platform:
        """Fill in the variants that are implied (arm64 is v8, arm is v7; amd64 has none)."""
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(self.architecture, self.architecture)
        variant = self.variant
        if arch == "arm64" and variant in (None, "v8"):
            variant = "v8"
        elif arch == "arm" and variant is None:
            variant = "v7"
        elif arch == "amd64" and variant == "v1":
            variant = None
        return Platform(self.os, arch, variant)

    def matches(self, other: Platform) -> bool:
        """True when both name the same platform once implied variants are filled in."""
        return self.normalised() == other.normalised()

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


DEFAULT_PLATFORM = Platform("linux", "amd64")


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: media type, digest and size of a blob or manifest."""

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    urls: tuple[str, ...] = ()

    @property
    def is_attestation(self) -> bool:
        """BuildKit attestations: ``unknown/unknown`` and a reference-type annotation."""
        if self.annotations.get("vnd.docker.reference.type") == "attestation-manifest":
            return True
        return self.platform is not None and self.platform.os == "unknown" \
            and self.platform.architecture == "unknown"


@dataclass(frozen=True)
class ImageManifest:
    """An image manifest: one config and an ordered list of layers."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True)
class ImageIndex:
    """An index / manifest list: manifests for several platforms."""

    media_type: str
    manifests: tuple[Descriptor, ...]

    def select(self, platform: Platform, *, subject: str) -> Descriptor:
        """The manifest for ``platform``; attestation manifests are never chosen."""
        candidates = [d for d in self.manifests if not d.is_attestation]
        for descriptor in candidates:
            if descriptor.platform is not None and descriptor.platform.matches(platform):
                return descriptor
        # An index of one platform-less manifest is common from some build tools.
        if len(candidates) == 1 and candidates[0].platform is None:
            return candidates[0]
        offered = ", ".join(str(d.platform) for d in candidates if d.platform) or "none"
        raise ImageNotFoundError(f"no manifest for platform {platform} (index offers: {offered})",
                                 subject=subject)


def load_json_object(data: bytes, *, what: str, subject: str) -> dict[str, Any]:
    """Decode a JSON object, turning every failure into :class:`CorruptContentError`."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise CorruptContentError(f"{what} is not valid JSON ({error})", subject=subject) from error
    if not isinstance(value, dict):
        raise CorruptContentError(f"{what} is not a JSON object", subject=subject)
    return value


def parse_manifest(data: bytes, media_type: str | None, *, subject: str,
                   require_image: bool = True) -> ImageManifest | ImageIndex:
    """Parse a manifest or index; the declared media type is a hint, the body decides.

    With ``require_image`` (for reading) the config and layers must be container-image media
    types; copying also accepts artifacts such as attestation manifests.
    """
    if len(data) > MAX_MANIFEST_BYTES:
        raise CorruptContentError(f"manifest larger than {MAX_MANIFEST_BYTES} bytes",
                                  subject=subject)
    document = load_json_object(data, what="manifest", subject=subject)
    body_type = document.get("mediaType")
    declared = (media_type or "").split(";")[0].strip()
    kind = body_type if isinstance(body_type, str) and body_type else declared
    if document.get("schemaVersion") == 1 or kind in mediatypes.SCHEMA1:
        raise UnsupportedManifestError(
            "Docker schema 1 manifests are not supported (deprecated since 2017); "
            "push the image again with a current client", subject=subject)
    if document.get("schemaVersion") != 2:
        raise CorruptContentError("manifest has no schemaVersion 2", subject=subject)
    if kind in mediatypes.INDEXES or (not kind and "manifests" in document):
        return ImageIndex(kind or mediatypes.OCI_INDEX, tuple(
            _descriptor(item, subject=subject) for item in _list(document, "manifests", subject)))
    if kind in mediatypes.IMAGE_MANIFESTS or (not kind and "config" in document):
        config_item = document.get("config")
        if not isinstance(config_item, dict):
            raise CorruptContentError("manifest has no config descriptor", subject=subject)
        config = _descriptor(config_item, subject=subject)
        layers = tuple(_descriptor(item, subject=subject)
                       for item in _list(document, "layers", subject))
        if not require_image:
            return ImageManifest(kind or mediatypes.OCI_MANIFEST, config, layers)
        for layer in layers:
            if layer.media_type not in mediatypes.LAYERS:
                raise UnsupportedManifestError(
                    f"layer {layer.digest} has unsupported media type {layer.media_type!r}",
                    subject=subject)
        if config.media_type not in mediatypes.CONFIGS:
            raise UnsupportedManifestError(
                f"config has media type {config.media_type!r}: not a container image "
                "(an artifact such as a Helm chart or signature?)", subject=subject)
        return ImageManifest(kind or mediatypes.OCI_MANIFEST, config, layers)
    raise UnsupportedManifestError(f"unsupported manifest media type {kind!r}", subject=subject)


def _list(document: dict[str, Any], key: str, subject: str) -> list[dict[str, Any]]:
    value = document.get(key)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise CorruptContentError(f"manifest field {key!r} is not a list of objects",
                                  subject=subject)
    return value


def _descriptor(item: dict[str, Any], *, subject: str) -> Descriptor:
    media_type, digest, size = item.get("mediaType"), item.get("digest"), item.get("size")
    if not isinstance(media_type, str) or not isinstance(digest, str) \
            or not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise CorruptContentError(f"malformed descriptor {json.dumps(item)[:200]}",
                                  subject=subject)
    validate_digest(digest, subject=subject)
    platform = None
    if isinstance(raw := item.get("platform"), dict):
        os_name, arch = raw.get("os"), raw.get("architecture")
        if isinstance(os_name, str) and isinstance(arch, str):
            variant = raw.get("variant")
            platform = Platform(os_name, arch, variant if isinstance(variant, str) else None)
    annotations = item.get("annotations")
    urls = item.get("urls")
    return Descriptor(
        media_type=media_type, digest=digest, size=size, platform=platform,
        annotations={str(k): str(v) for k, v in annotations.items()}
        if isinstance(annotations, dict) else {},
        urls=tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else (),
    )
