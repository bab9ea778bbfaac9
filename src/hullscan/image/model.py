"""What an acquired image is, whatever it was read from."""

from __future__ import annotations

from dataclasses import dataclass

from hullscan.image.config import ImageConfig
from hullscan.image.layer import LayerInfo
from hullscan.image.manifest import Platform
from hullscan.image.reference import SourceKind


@dataclass(frozen=True)
class ImageMetadata:
    """Identity, configuration and layer list of one image (one platform)."""

    reference: str
    """The reference as the user wrote it."""
    source: SourceKind
    name: str | None
    """Normalised name: ``registry/repo:tag``, an archive's tag or a layout's ref name."""
    manifest_digest: str | None
    """Digest of the image manifest (None where the source has no manifest, e.g. docker save)."""
    index_digest: str | None
    """Digest of the index the manifest was chosen from, if any."""
    manifest_media_type: str | None
    image_id: str | None
    """Digest of the config blob: the same for one image in every source."""
    platform: Platform | None
    config: ImageConfig | None
    layers: tuple[LayerInfo, ...]

    @property
    def total_size(self) -> int:
        """Sum of the stored layer sizes in bytes."""
        return sum(layer.size for layer in self.layers)


def link_layers(config: ImageConfig, blobs: list[tuple[str | None, str | None, int]]
                ) -> tuple[LayerInfo, ...]:
    """Pair ``(digest, media_type, size)`` blobs with diff IDs and history entries, in order."""
    history = config.layer_history()
    layers = []
    for index, (digest, media_type, size) in enumerate(blobs):
        step = history[index] if index < len(history) else None
        layers.append(LayerInfo(
            index=index, diff_id=config.diff_ids[index] if index < len(config.diff_ids) else None,
            digest=digest, media_type=media_type, size=size,
            created_by=step[1].created_by if step else None,
            history_index=step[0] if step else None,
            created=step[1].created if step else None))
    return tuple(layers)
