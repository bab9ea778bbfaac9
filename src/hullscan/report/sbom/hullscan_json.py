"""hullscan's own SBOM: a lossless JSON image of a :class:`Catalog` (``hullscan-sbom/1``).

Every field of every package (layer references, the deleting layer, owner, owned files,
``extra``), the image metadata (reference, source, name, digests, image ID, platform, config and
layer list), the distribution, the scope and the anomalies are written, so that
``from_document(to_document(catalog)) == catalog``.
"""

from __future__ import annotations

from typing import Any

from hullscan import __version__
from hullscan.catalog.package import Catalog, LayerRef, Package, Scope
from hullscan.errors import CorruptContentError
from hullscan.image.config import HistoryEntry, ImageConfig
from hullscan.image.distro import Distro
from hullscan.image.layer import LayerInfo
from hullscan.image.manifest import Platform
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import SourceKind
from hullscan.report.json_text import dumps_indented

SCHEMA = "hullscan-sbom/1"
MEDIA_TYPE = "application/vnd.hullscan.sbom.v1+json"

class Fields:
    """Read fields of one JSON object, naming ``where`` in every error."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise CorruptContentError(f"{where} is not a JSON object")
        self.data: dict[str, Any] = data
        self.where = where

    def _fail(self, key: str, wanted: str) -> CorruptContentError:
        return CorruptContentError(f"{self.where}.{key} is not {wanted}")

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(key, "an integer")
        return value

    def opt_integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(key, "an integer or null")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "a boolean")
        return value

    def opt_flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._fail(key, "a boolean or null")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._fail(key, "a list of strings")
        return tuple(value)

    def opt_texts(self, key: str) -> tuple[str, ...] | None:
        if self.data.get(key) is None:
            return None
        return self.texts(key)

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value

    def text_map(self, key: str) -> dict[str, str]:
        value = self.data.get(key, {})
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise self._fail(key, "an object of strings")
        return dict(value)

    def obj(self, key: str) -> Fields | None:
        value = self.data.get(key)
        if value is None:
            return None
        return Fields(value, f"{self.where}.{key}")


def to_document(catalog: Catalog) -> dict[str, Any]:
    """The catalog as a JSON-ready dictionary."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "hullscan", "version": __version__},
        "image": _image_document(catalog.image),
        "distro": None if catalog.distro is None else {
            "id": catalog.distro.id,
            "version_id": catalog.distro.version_id,
            "pretty_name": catalog.distro.pretty_name,
            "codename": catalog.distro.codename,
            "id_like": list(catalog.distro.id_like),
            "support_ends": catalog.distro.support_ends,
            "end_of_life": catalog.distro.end_of_life,
        },
        "scope": catalog.scope.value,
        "packages": [_package_document(package) for package in catalog.packages],
        "anomalies": list(catalog.anomalies),
    }


def render(catalog: Catalog) -> str:
    """The catalog as ``hullscan-sbom/1`` JSON text."""
    return dumps_indented(to_document(catalog), ensure_ascii=False) + "\n"


def from_document(data: dict[str, Any], *, subject: str | None = None) -> Catalog:
    """Rebuild a catalog; anything malformed raises :class:`CorruptContentError`."""
    try:
        root = Fields(data, "document")
        if root.data.get("schema") != SCHEMA:
            raise CorruptContentError(f"schema is not {SCHEMA!r}")
        image = root.obj("image")
        if image is None:
            raise CorruptContentError("document.image is missing")
        distro = root.obj("distro")
        try:
            scope = Scope(root.text("scope"))
        except ValueError as error:
            raise CorruptContentError(f"unknown scope {root.data.get('scope')!r}") from error
        return Catalog(
            image=_image_from(image),
            distro=None if distro is None else Distro(
                id=distro.text("id"), version_id=distro.opt_text("version_id"),
                pretty_name=distro.opt_text("pretty_name"), codename=distro.opt_text("codename"),
                id_like=distro.texts("id_like"), support_ends=distro.opt_text("support_ends"),
                end_of_life=distro.opt_flag("end_of_life")),
            scope=scope,
            packages=tuple(_package_from(Fields(item, f"document.packages[{index}]"))
                           for index, item in enumerate(root.items("packages"))),
            anomalies=root.texts("anomalies"),
        )
    except CorruptContentError as error:
        raise (error.with_subject(subject) if subject else error) from None


def _layer_ref_document(ref: LayerRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {"index": ref.index, "diff_id": ref.diff_id, "created_by": ref.created_by}


def _layer_ref_from(fields: Fields | None) -> LayerRef | None:
    if fields is None:
        return None
    return LayerRef(fields.integer("index"), fields.opt_text("diff_id"),
                    fields.opt_text("created_by"))


def _package_document(package: Package) -> dict[str, Any]:
    return {
        "name": package.name,
        "version": package.version,
        "type": package.type,
        "purl": package.purl,
        "namespace": package.namespace,
        "source_name": package.source_name,
        "source_version": package.source_version,
        "architecture": package.architecture,
        "epoch": package.epoch,
        "release": package.release,
        "licenses": list(package.licenses),
        "supplier": package.supplier,
        "cpes": list(package.cpes),
        "locations": list(package.locations),
        "layer": _layer_ref_document(package.layer),
        "deleted_by": _layer_ref_document(package.deleted_by),
        "found_by": package.found_by,
        "files": list(package.files),
        "owner": package.owner,
        "development": package.development,
        "dependencies": list(package.dependencies),
        "extra": dict(package.extra),
    }


def _package_from(fields: Fields) -> Package:
    return Package(
        name=fields.text("name"),
        version=fields.text("version"),
        type=fields.text("type"),
        purl=fields.text("purl"),
        namespace=fields.opt_text("namespace"),
        source_name=fields.opt_text("source_name"),
        source_version=fields.opt_text("source_version"),
        architecture=fields.opt_text("architecture"),
        epoch=fields.opt_integer("epoch"),
        release=fields.opt_text("release"),
        licenses=fields.texts("licenses"),
        supplier=fields.opt_text("supplier"),
        cpes=fields.texts("cpes"),
        locations=fields.texts("locations"),
        layer=_layer_ref_from(fields.obj("layer")),
        deleted_by=_layer_ref_from(fields.obj("deleted_by")),
        found_by=fields.opt_text("found_by") or "",
        files=fields.texts("files"),
        owner=fields.opt_text("owner"),
        development=fields.flag("development"),
        dependencies=fields.texts("dependencies"),
        extra=fields.text_map("extra"),
    )


def _image_document(image: ImageMetadata) -> dict[str, Any]:
    return {
        "reference": image.reference,
        "source": image.source.value,
        "name": image.name,
        "manifest_digest": image.manifest_digest,
        "index_digest": image.index_digest,
        "manifest_media_type": image.manifest_media_type,
        "image_id": image.image_id,
        "platform": None if image.platform is None else {
            "os": image.platform.os, "architecture": image.platform.architecture,
            "variant": image.platform.variant},
        "config": None if image.config is None else _config_document(image.config),
        "layers": [{
            "index": layer.index, "diff_id": layer.diff_id, "digest": layer.digest,
            "media_type": layer.media_type, "size": layer.size, "created_by": layer.created_by,
            "history_index": layer.history_index, "created": layer.created,
        } for layer in image.layers],
    }


def _image_from(fields: Fields) -> ImageMetadata:
    try:
        source = SourceKind(fields.text("source"))
    except ValueError as error:
        raise CorruptContentError(
            f"unknown image source {fields.data.get('source')!r}") from error
    platform = fields.obj("platform")
    config = fields.obj("config")
    layers = []
    for index, item in enumerate(fields.items("layers")):
        layer = Fields(item, f"{fields.where}.layers[{index}]")
        layers.append(LayerInfo(
            index=layer.integer("index"), diff_id=layer.opt_text("diff_id"),
            digest=layer.opt_text("digest"), media_type=layer.opt_text("media_type"),
            size=layer.integer("size"), created_by=layer.opt_text("created_by"),
            history_index=layer.opt_integer("history_index"), created=layer.opt_text("created")))
    return ImageMetadata(
        reference=fields.text("reference"),
        source=source,
        name=fields.opt_text("name"),
        manifest_digest=fields.opt_text("manifest_digest"),
        index_digest=fields.opt_text("index_digest"),
        manifest_media_type=fields.opt_text("manifest_media_type"),
        image_id=fields.opt_text("image_id"),
        platform=None if platform is None else Platform(
            platform.text("os"), platform.text("architecture"), platform.opt_text("variant")),
        config=None if config is None else _config_from(config),
        layers=tuple(layers),
    )


def _config_document(config: ImageConfig) -> dict[str, Any]:
    def strings(value: tuple[str, ...] | None) -> list[str] | None:
        return None if value is None else list(value)

    return {
        "architecture": config.architecture, "os": config.os, "variant": config.variant,
        "created": config.created, "user": config.user, "env": list(config.env),
        "exposed_ports": list(config.exposed_ports), "entrypoint": strings(config.entrypoint),
        "cmd": strings(config.cmd), "working_dir": config.working_dir,
        "labels": dict(config.labels), "stop_signal": config.stop_signal,
        "healthcheck": strings(config.healthcheck), "diff_ids": list(config.diff_ids),
        "history": [{"created_by": entry.created_by, "created": entry.created,
                     "comment": entry.comment, "empty_layer": entry.empty_layer}
                    for entry in config.history],
    }


def _config_from(fields: Fields) -> ImageConfig:
    history = []
    for index, item in enumerate(fields.items("history")):
        entry = Fields(item, f"{fields.where}.history[{index}]")
        history.append(HistoryEntry(
            created_by=entry.opt_text("created_by"), created=entry.opt_text("created"),
            comment=entry.opt_text("comment"), empty_layer=entry.flag("empty_layer")))
    return ImageConfig(
        architecture=fields.opt_text("architecture"), os=fields.opt_text("os"),
        variant=fields.opt_text("variant"), created=fields.opt_text("created"),
        user=fields.opt_text("user"), env=fields.texts("env"),
        exposed_ports=fields.texts("exposed_ports"), entrypoint=fields.opt_texts("entrypoint"),
        cmd=fields.opt_texts("cmd"), working_dir=fields.opt_text("working_dir"),
        labels=fields.text_map("labels"), stop_signal=fields.opt_text("stop_signal"),
        healthcheck=fields.opt_texts("healthcheck"), diff_ids=fields.texts("diff_ids"),
        history=tuple(history),
    )
