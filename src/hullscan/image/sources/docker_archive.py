"""``docker save`` tars: the legacy layout (``<id>/layer.tar``) and Docker 25+'s OCI-based one.

Archives are verified like registry content: the config against the image ID that names it,
each layer against its diff ID (and against its blob digest where the name carries one).
Syft and Trivy today accept a tampered layer inside an archive; we do not.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import IO, Any

from hullscan.errors import CorruptContentError, ImageNotFoundError, InvalidReferenceError
from hullscan.image.config import MAX_CONFIG_BYTES, parse_config
from hullscan.image.digest import digest_of, verify_bytes
from hullscan.image.layer import LayerInfo
from hullscan.image.manifest import MAX_MANIFEST_BYTES, ImageIndex, parse_manifest
from hullscan.image.model import ImageMetadata, link_layers
from hullscan.image.plain_layer import BlobFile
from hullscan.image.reference import ImageReference, parse_registry_reference
from hullscan.image.sources.interface import (
    AcquireOptions,
    ImageSource,
    check_layer_count,
    check_platform,
    require_json_file,
    verified,
)
from hullscan.image.sources.store import LayoutStore, TarStore

_BLOB_NAME_RE = re.compile(r"^blobs/(sha256|sha512)/([a-f0-9]+)$")
_LEGACY_CONFIG_RE = re.compile(r"^([a-f0-9]{64})\.json$")


class DockerArchiveSource(ImageSource):
    """One image of a ``docker save`` tar, chosen by tag when the tar holds several."""

    reads_in_forked_process = True  # local files: a forked copy reopens them

    def __init__(self, reference: ImageReference, workdir: Path,
                 options: AcquireOptions) -> None:
        super().__init__(workdir, options)
        assert reference.path is not None
        self.subject = reference.text
        self.store: LayoutStore = TarStore(reference.path)
        raw = require_json_file(self.store.read("manifest.json", max_bytes=MAX_MANIFEST_BYTES),
                                "manifest.json", self.subject)
        entries = _load_manifest_list(raw, self.subject)
        entry, name = _select(entries, reference.selector, self.subject)
        config_name = entry["Config"]
        config_data = require_json_file(self.store.read(config_name, max_bytes=MAX_CONFIG_BYTES),
                                        f"config {config_name}", self.subject)
        image_id = digest_of(config_data)
        named = _digest_in_name(config_name)
        if named is not None:
            verify_bytes(config_data, named, subject=f"{self.subject}: config {config_name}")
        config = parse_config(config_data, subject=f"{self.subject}: config")
        layer_names: list[str] = entry["Layers"]
        check_layer_count(len(layer_names), config, self.options.limits, subject=self.subject)
        self._layer_names = layer_names
        blobs: list[tuple[str | None, str | None, int]] = []
        for layer_name in layer_names:
            size = self.store.size(layer_name)
            if size is None:
                raise CorruptContentError(f"layer {layer_name} is missing from the archive",
                                          subject=self.subject)
            blobs.append((_digest_in_name(layer_name), None, size))
        self.metadata = ImageMetadata(
            reference=reference.text, source=reference.kind, name=name,
            manifest_digest=self._manifest_digest(image_id), index_digest=None,
            manifest_media_type=None, image_id=image_id,
            platform=check_platform(config, options, subject=self.subject), config=config,
            layers=link_layers(config, blobs))

    def _manifest_digest(self, image_id: str) -> str | None:
        """Docker 25+ archives also carry an OCI index: find the manifest of this config."""
        data = self.store.read("index.json", max_bytes=MAX_MANIFEST_BYTES)
        if data is None:
            return None
        with contextlib.suppress(CorruptContentError, ValueError, LookupError):
            index = parse_manifest(data, None, subject=self.subject)
            if isinstance(index, ImageIndex):
                for descriptor in index.manifests:
                    manifest = self.store.read(f"blobs/sha256/{descriptor.digest[7:]}",
                                               max_bytes=MAX_MANIFEST_BYTES)
                    if manifest and image_id in manifest.decode("utf-8", "replace") \
                            and digest_of(manifest) == descriptor.digest:
                        return descriptor.digest
        return None

    def open_layer_blob(self, layer: LayerInfo) -> contextlib.AbstractContextManager[IO[bytes]]:
        name = self._layer_names[layer.index]
        handle = self.store.open(name)
        if handle is None:
            raise CorruptContentError(f"layer {name} is missing from the archive",
                                      subject=self.subject)
        # Legacy layer.tar files carry no blob digest; the diff-ID check covers them.
        return verified(handle, layer.digest, layer.size, f"{self.subject}: layer {name}")

    def locate_layer_blob(self, layer: LayerInfo) -> tuple[BlobFile, str] | None:
        name = self._layer_names[layer.index]
        blob = self.store.locate(name)
        return None if blob is None else (blob, f"{self.subject}: layer {name}")

    def after_fork(self) -> None:
        self.store = self.store.reopen()

    def close(self) -> None:
        super().close()
        self.store.close()


def _digest_in_name(name: str) -> str | None:
    if match := _BLOB_NAME_RE.match(name.lstrip("./")):
        return f"{match.group(1)}:{match.group(2)}"
    if match := _LEGACY_CONFIG_RE.match(name.lstrip("./")):
        return f"sha256:{match.group(1)}"
    return None


def _load_manifest_list(raw: bytes, subject: str) -> list[dict[str, Any]]:
    import json
    try:
        entries = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise CorruptContentError(f"manifest.json is not valid JSON ({error})",
                                  subject=subject) from error
    if not isinstance(entries, list) or not entries:
        raise CorruptContentError("manifest.json holds no images", subject=subject)
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str) \
                or not isinstance(entry.get("Layers"), list) \
                or not all(isinstance(layer, str) for layer in entry["Layers"]):
            raise CorruptContentError("manifest.json entry lacks Config or Layers",
                                      subject=subject)
    return entries


def _select(entries: list[dict[str, Any]], selector: str | None,
            subject: str) -> tuple[dict[str, Any], str | None]:
    def tags(entry: dict[str, Any]) -> list[str]:
        return [t for t in entry.get("RepoTags") or [] if isinstance(t, str)]

    if selector is None:
        if len(entries) == 1:
            first = tags(entries[0])
            return entries[0], first[0] if first else None
        listed = ", ".join(t for e in entries for t in tags(e)) or "untagged images"
        raise ImageNotFoundError(f"archive holds {len(entries)} images; name one with :TAG "
                                 f"({listed})", subject=subject)
    wanted = _canonical(selector)
    for entry in entries:
        for tag in tags(entry):
            if tag == selector or _canonical(tag) == wanted:
                return entry, tag
    listed = ", ".join(t for e in entries for t in tags(e)) or "untagged images"
    raise ImageNotFoundError(f"no image tagged {selector!r} in the archive ({listed})",
                             subject=subject)


def _canonical(tag: str) -> str:
    try:
        return str(parse_registry_reference(tag))
    except InvalidReferenceError:
        return tag
