"""Read an SBOM back into a :class:`Catalog`: CycloneDX JSON (1.4-1.6), SPDX JSON (2.2, 2.3) and
hullscan's own JSON, whether hullscan, Syft or Trivy wrote them.

The format is told by content (``schema: hullscan-sbom/1``, ``bomFormat: CycloneDX``,
``spdxVersion``). Name, version, type and namespace come from hullscan's ``hullscan:`` facts
where present, else from the purl (an npm scope stays part of the name). Layers come from
``hullscan:layer:*`` facts, Syft's ``syft:location:N:layerID`` or Trivy's ``LayerDiffID``; a
foreign SBOM that names a layer's diff ID without the image's layer list gives that layer index
``-1`` (position unknown). Foreign components without a purl (files, the scanned directory) are
not packages and are skipped. Anything malformed raises :class:`CorruptContentError` naming the
file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from hullscan.catalog.package import Catalog, LayerRef, Package, Scope
from hullscan.errors import CorruptContentError, HullscanError, ImageNotFoundError
from hullscan.image.distro import Distro
from hullscan.image.layer import LayerInfo
from hullscan.image.manifest import Platform
from hullscan.image.model import ImageMetadata
from hullscan.image.reference import SourceKind
from hullscan.report.sbom import hullscan_json
from hullscan.report.sbom.facts import parse_purl

PREFIX = "hullscan:"
_SYFT_LOCATION = re.compile(r"^syft:location:(\d+):(path|layerID)$")
_INDEXED = re.compile(r"^(hullscan:[a-z_:]+):(\d+)$")
_SOURCE_INFO = re.compile(r"^acquired package info from [^:]*: (.+)$", re.DOTALL)
_EPOCH = re.compile(r"^(\d+):")
_DISTRO_QUALIFIER = re.compile(r"^([a-z][a-z0-9._-]*?)-(\d[\w.]*)$")


def read_sbom(path: Path) -> Catalog:
    """The catalog an SBOM file describes."""
    subject = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as error:
        raise ImageNotFoundError("no such file", subject=subject) from error
    except OSError as error:
        raise CorruptContentError(f"cannot read the SBOM: {error.strerror}",
                                  subject=subject) from error
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise CorruptContentError(f"not JSON ({error})", subject=subject) from error
    try:
        return read_document(data, subject=subject)
    except HullscanError as error:
        raise error.with_subject(subject) from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CorruptContentError(f"malformed SBOM ({type(error).__name__}: {error})",
                                  subject=subject) from error


def read_document(data: object, *, subject: str) -> Catalog:
    """The catalog a decoded JSON SBOM describes (format told by content)."""
    if not isinstance(data, dict):
        raise CorruptContentError("an SBOM must be a JSON object", subject=subject)
    if data.get("schema") == hullscan_json.SCHEMA:
        return hullscan_json.from_document(data, subject=subject)
    if data.get("bomFormat") == "CycloneDX":
        return _from_cyclonedx(data, subject)
    if isinstance(data.get("spdxVersion"), str):
        return _from_spdx(data, subject)
    raise CorruptContentError("neither CycloneDX, SPDX nor hullscan JSON", subject=subject)


# -- the parts shared by both formats ---------------------------------------------------------


@dataclass
class _Entry:
    """One package as an SBOM describes it, before it becomes a :class:`Package`."""

    ref: str
    name: str
    version: str
    purl: str | None
    group: str | None = None
    cpes: list[str] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)
    supplier: str | None = None
    facts: dict[str, list[str]] = field(default_factory=dict)
    """``hullscan:`` facts and foreign properties, values in document order."""
    source_info: str | None = None
    depends_on: list[str] = field(default_factory=list)

    def add(self, key: str, value: str) -> None:
        self.facts.setdefault(key, []).append(value)

    def one(self, key: str) -> str | None:
        values = self.facts.get(key)
        return values[0] if values else None

    def ordered(self, key: str) -> list[str]:
        """Values of ``key:0``, ``key:1``, ... in index order."""
        found: list[tuple[int, str]] = []
        for name, values in self.facts.items():
            match = _INDEXED.match(name)
            if match and match.group(1) == key:
                found += [(int(match.group(2)), value) for value in values]
        return [value for _, value in sorted(found, key=lambda pair: pair[0])]

    @property
    def ours(self) -> bool:
        return any(key.startswith(PREFIX) for key in self.facts)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise CorruptContentError(f"{what} is not a string")
    return value


def _optional_text(value: object, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _objects(value: object, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise CorruptContentError(f"{what} is not a list of objects")
    return value


def _layer_ref(entry: _Entry, prefix: str, layers: dict[str, LayerInfo]) -> LayerRef | None:
    index = entry.one(f"{PREFIX}{prefix}:index")
    if index is not None:
        try:
            number = int(index)
        except ValueError as error:
            raise CorruptContentError(f"{PREFIX}{prefix}:index is not a number") from error
        return LayerRef(number, entry.one(f"{PREFIX}{prefix}:diff_id"),
                        entry.one(f"{PREFIX}{prefix}:created_by"))
    if prefix != "layer":
        return None
    diff_id = (entry.one("syft:location:0:layerID")
               or entry.one("aquasecurity:trivy:LayerDiffID") or entry.one("LayerDiffID"))
    if not diff_id:
        return None
    layer = layers.get(diff_id)
    return LayerRef(layer.index if layer else -1, diff_id, layer.created_by if layer else None)


def _locations(entry: _Entry) -> tuple[str, ...]:
    syft: dict[int, str] = {}
    for key, values in entry.facts.items():
        match = _SYFT_LOCATION.match(key)
        if match and match.group(2) == "path" and values:
            syft[int(match.group(1))] = values[0]
    if syft:
        # Syft's paths are absolute; hullscan's are relative to the image root.
        return tuple(syft[index].removeprefix("/") for index in sorted(syft))
    if PREFIX + "location:path" in entry.facts:
        return tuple(entry.facts[PREFIX + "location:path"])
    for key in ("aquasecurity:trivy:FilePath", "FilePath"):
        if key in entry.facts:
            return tuple(value.removeprefix("/") for value in entry.facts[key])
    if entry.source_info and (match := _SOURCE_INFO.match(entry.source_info)):
        return tuple(part.strip().removeprefix("/") for part in match.group(1).split(", ")
                     if part.strip())
    return ()


def _foreign_source(entry: _Entry, purl: PackageURL | None) -> tuple[str | None, str | None]:
    name = entry.one("aquasecurity:trivy:SrcName") or entry.one("SrcName")
    if name:
        version = entry.one("aquasecurity:trivy:SrcVersion") or entry.one("SrcVersion")
        release = entry.one("aquasecurity:trivy:SrcRelease") or entry.one("SrcRelease")
        epoch = entry.one("aquasecurity:trivy:SrcEpoch") or entry.one("SrcEpoch")
        if version and release:
            version = f"{version}-{release}"
        if version and epoch and epoch != "0":
            version = f"{epoch}:{version}"
        return name, version
    upstream = purl.qualifiers.get("upstream") if purl and isinstance(purl.qualifiers,
                                                                      dict) else None
    if upstream:
        source, _, version = upstream.partition("@")
        return source, version or None
    return None, None


def _package(entry: _Entry, layers: dict[str, LayerInfo],
             names_by_ref: dict[str, str]) -> Package | None:
    purl = parse_purl(entry.purl)
    qualifiers: dict[str, str] = (purl.qualifiers if purl and isinstance(purl.qualifiers, dict)
                                  else {})
    development = entry.one(PREFIX + "development") == "true"
    if entry.ours:
        kind = entry.one(PREFIX + "type") or (purl.type if purl else "generic")
        name, version = entry.name, entry.version
        namespace = entry.one(PREFIX + "namespace")
        source_name = entry.one(PREFIX + "source:name")
        source_version = entry.one(PREFIX + "source:version")
        architecture = entry.one(PREFIX + "architecture")
        epoch_text = entry.one(PREFIX + "epoch")
        release = entry.one(PREFIX + "release")
        purl_text = entry.one(PREFIX + "purl") or entry.purl or ""
        licenses = entry.ordered(PREFIX + "license") or entry.licenses
        dependencies = entry.ordered(PREFIX + "dependency")
        found_by = entry.one(PREFIX + "found_by") or ""
    else:
        if purl is None:
            return None
        kind = purl.type
        name, namespace = purl.name, purl.namespace
        if kind == "npm" and namespace:
            name, namespace = f"{namespace}/{name}", None
        version = purl.version or entry.version
        source_name, source_version = _foreign_source(entry, purl)
        if source_name and source_version is None and kind == "deb":
            source_version = version  # dpkg: a Source without a version has the binary's
        architecture = qualifiers.get("arch")
        epoch_text = qualifiers.get("epoch")
        if epoch_text is None and kind == "deb" and (match := _EPOCH.match(version)):
            epoch_text = match.group(1)
        release = None
        if kind == "rpm" and "-" in version:
            release = version.rsplit("-", 1)[1]
        purl_text = entry.purl or ""
        licenses = entry.licenses
        dependencies = [names_by_ref[ref] for ref in entry.depends_on if ref in names_by_ref]
        found_by = entry.one("syft:package:foundBy") or ""
    try:
        epoch = int(epoch_text) if epoch_text is not None else None
    except ValueError as error:
        raise CorruptContentError(f"package {name}: epoch {epoch_text!r} is no number") from error
    return Package(
        name=name, version=version, type=kind, purl=purl_text, namespace=namespace,
        source_name=source_name, source_version=source_version, architecture=architecture,
        epoch=epoch, release=release, licenses=tuple(licenses), supplier=entry.supplier,
        cpes=tuple(dict.fromkeys(entry.cpes)), locations=_locations(entry),
        layer=_layer_ref(entry, "layer", layers),
        deleted_by=_layer_ref(entry, "deleted_by", layers), found_by=found_by,
        owner=entry.one(PREFIX + "owner"), development=development,
        dependencies=tuple(dependencies))


@dataclass
class _Image:
    """What an SBOM says about the image, the distribution, the scope and anomalies."""

    name: str | None
    version: str | None
    kind: SourceKind
    facts: dict[str, list[str]]
    purl: str | None = None
    distro: Distro | None = None

    def one(self, key: str) -> str | None:
        values = self.facts.get(PREFIX + key) or self.facts.get(key)
        return values[0] if values else None

    def layers(self) -> tuple[LayerInfo, ...]:
        found: list[LayerInfo] = []
        for text in self.facts.get(PREFIX + "image:layer", []):
            try:
                item = json.loads(text)
            except ValueError as error:
                raise CorruptContentError("hullscan:image:layer is not JSON") from error
            if not isinstance(item, dict):
                raise CorruptContentError("hullscan:image:layer is not a JSON object")
            found.append(LayerInfo(
                index=int(item["index"]), diff_id=_optional_text(item.get("diff_id"), "diff_id"),
                digest=_optional_text(item.get("digest"), "digest"), media_type=None, size=0,
                created_by=_optional_text(item.get("created_by"), "created_by")))
        if not found:
            diff_ids = self.facts.get("aquasecurity:trivy:DiffID", [])
            found = [LayerInfo(index, diff_id, None, None, 0)
                     for index, diff_id in enumerate(diff_ids)]
        return tuple(sorted(found, key=lambda layer: layer.index))

    def metadata(self, subject: str) -> ImageMetadata:
        name = self.one("image:name") or self.name
        digest = self.one("image:manifest_digest")
        image_id = self.one("image:image_id") or self.one("aquasecurity:trivy:ImageID")
        if digest is None and (repo_digest := self.one("aquasecurity:trivy:RepoDigest")):
            digest = repo_digest.partition("@")[2] or None
        if digest is None and self.version and self.version.startswith("sha256:") \
                and self.version != image_id:
            digest = self.version
        platform_text = self.one("image:platform")
        platform = None
        if platform_text:
            try:
                platform = Platform.parse(platform_text)
            except HullscanError as error:
                raise CorruptContentError(f"bad platform {platform_text!r}") from error
        source_text = self.one("image:source")
        try:
            source = SourceKind(source_text) if source_text else self.kind
        except ValueError as error:
            raise CorruptContentError(f"unknown image source {source_text!r}") from error
        return ImageMetadata(
            reference=self.one("image:reference") or name or subject, source=source, name=name,
            manifest_digest=digest, index_digest=self.one("image:index_digest"),
            manifest_media_type=self.one("image:manifest_media_type"), image_id=image_id,
            platform=platform, config=None, layers=self.layers())

    def catalog_distro(self, packages: tuple[Package, ...]) -> Distro | None:
        distro_id = self.one("distro:id")
        if distro_id is not None:
            end_of_life = self.one("distro:end_of_life")
            return Distro(distro_id, self.one("distro:version_id"),
                          self.one("distro:pretty_name"), self.one("distro:codename"),
                          tuple((self.one("distro:id_like") or "").split()),
                          support_ends=self.one("distro:support_ends"),
                          end_of_life=None if end_of_life is None else end_of_life == "true")
        if self.distro is not None:
            return self.distro
        for package in packages:
            purl = parse_purl(package.purl)
            qualifier = (purl.qualifiers.get("distro") if purl
                         and isinstance(purl.qualifiers, dict) else None)
            if qualifier and (match := _DISTRO_QUALIFIER.match(qualifier)):
                return Distro(match.group(1), match.group(2), None)
        return None

    def scope(self) -> Scope:
        text = self.one("scope")
        try:
            return Scope(text) if text else Scope.SQUASHED
        except ValueError as error:
            raise CorruptContentError(f"unknown scope {text!r}") from error

    def anomalies(self) -> tuple[str, ...]:
        entry = _Entry("", "", "", None, facts=self.facts)
        return tuple(entry.ordered(PREFIX + "anomaly"))


def _catalog(image: _Image, entries: list[_Entry], subject: str) -> Catalog:
    metadata = image.metadata(subject)
    layers = {layer.diff_id: layer for layer in metadata.layers if layer.diff_id}
    names_by_ref = {}
    for entry in entries:
        purl = parse_purl(entry.purl)
        if purl is not None:
            names_by_ref[entry.ref] = (f"{purl.namespace}/{purl.name}"
                                       if purl.type == "npm" and purl.namespace else purl.name)
    packages = tuple(package for entry in entries
                     if (package := _package(entry, layers, names_by_ref)) is not None)
    return Catalog(image=metadata, distro=image.catalog_distro(packages), scope=image.scope(),
                   packages=packages, anomalies=image.anomalies())


# -- CycloneDX -------------------------------------------------------------------------------


def _cdx_properties(component: dict[str, Any], what: str) -> dict[str, list[str]]:
    facts: dict[str, list[str]] = {}
    for item in _objects(component.get("properties"), f"{what}.properties"):
        name = _text(item.get("name"), f"{what}.properties[].name")
        value = item.get("value")
        facts.setdefault(name, []).append(_text(value, f"{what} property {name}")
                                          if value is not None else "")
    return facts


def _cdx_licenses(component: dict[str, Any], what: str) -> list[str]:
    found: list[str] = []
    for item in _objects(component.get("licenses"), f"{what}.licenses"):
        if "expression" in item:
            found.append(_text(item["expression"], f"{what} licence expression"))
            continue
        licence = item.get("license")
        if isinstance(licence, dict):
            text = licence.get("id") or licence.get("name")
            if isinstance(text, str) and text:
                found.append(text)
    return found


def _cdx_components(components: list[dict[str, Any]], what: str) -> Iterator[dict[str, Any]]:
    for index, component in enumerate(components):
        yield component
        yield from _cdx_components(
            _objects(component.get("components"), f"{what}[{index}].components"),
            f"{what}[{index}].components")


def _cdx_supplier(component: dict[str, Any]) -> str | None:
    supplier = component.get("supplier")
    if isinstance(supplier, dict) and isinstance(supplier.get("name"), str):
        return str(supplier["name"])
    publisher = component.get("publisher") or component.get("author")
    return publisher if isinstance(publisher, str) and publisher else None


def _from_cyclonedx(data: dict[str, Any], subject: str) -> Catalog:
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise CorruptContentError("metadata is not an object")
    root = metadata.get("component") or {}
    if not isinstance(root, dict):
        raise CorruptContentError("metadata.component is not an object")
    root_type = root.get("type")
    image = _Image(
        name=_optional_text(root.get("name"), "metadata.component.name"),
        version=_optional_text(root.get("version"), "metadata.component.version"),
        kind=SourceKind.REGISTRY if root_type == "container" else SourceKind.DIRECTORY,
        facts=_cdx_properties(root, "metadata.component"),
        purl=_optional_text(root.get("purl"), "metadata.component.purl"))
    depends: dict[str, list[str]] = {}
    for item in _objects(data.get("dependencies"), "dependencies"):
        ref = _text(item.get("ref"), "dependencies[].ref")
        targets = item.get("dependsOn") or []
        if not isinstance(targets, list):
            raise CorruptContentError("dependencies[].dependsOn is not a list")
        depends[ref] = [_text(target, "dependsOn[]") for target in targets]
    entries: list[_Entry] = []
    for position, component in enumerate(
            _cdx_components(_objects(data.get("components"), "components"), "components")):
        what = f"components[{position}]"
        name = _text(component.get("name"), f"{what}.name")
        version = _optional_text(component.get("version"), f"{what}.version") or ""
        facts = _cdx_properties(component, what)
        if component.get("type") == "operating-system":
            if image.distro is None:
                image.distro = Distro(
                    name, version or None,
                    _optional_text(component.get("description"), f"{what}.description"),
                    next(iter(facts.get("syft:distro:versionCodename", [])), None),
                    tuple((facts.get("syft:distro:idLike") or [""])[0].split()))
            continue
        ref = _optional_text(component.get("bom-ref"), f"{what}.bom-ref") or f"#{position}"
        cpe = _optional_text(component.get("cpe"), f"{what}.cpe")
        entries.append(_Entry(
            ref=ref, name=name, version=version,
            purl=_optional_text(component.get("purl"), f"{what}.purl"),
            group=_optional_text(component.get("group"), f"{what}.group"),
            cpes=([cpe] if cpe else []) + facts.get("syft:cpe23", []),
            licenses=_cdx_licenses(component, what), supplier=_cdx_supplier(component),
            facts=facts, depends_on=depends.get(ref, [])))
    return _catalog(image, entries, subject)


# -- SPDX ------------------------------------------------------------------------------------


_TRIVY_ANNOTATION = re.compile(r"^([A-Za-z]+): (.*)$", re.DOTALL)


def _spdx_facts(package: dict[str, Any], what: str) -> dict[str, list[str]]:
    facts: dict[str, list[str]] = {}
    for item in _objects(package.get("annotations"), f"{what}.annotations"):
        comment = _text(item.get("comment"), f"{what}.annotations[].comment")
        if comment.startswith(PREFIX) and "=" in comment:
            key, _, value = comment.partition("=")
            facts.setdefault(key, []).append(value)
        elif (match := _TRIVY_ANNOTATION.match(comment)) and "trivy" in str(
                item.get("annotator", "")).lower():
            facts.setdefault(match.group(1), []).append(match.group(2))
    return facts


def _spdx_supplier(value: object) -> str | None:
    if not isinstance(value, str) or value == "NOASSERTION":
        return None
    _, _, text = value.partition(":")
    text = text.strip()
    if text.endswith(")") and " (" in text:
        name, _, email = text[:-1].rpartition(" (")
        return f"{name} <{email}>"
    return text or None


def _spdx_licenses(package: dict[str, Any], extracted: dict[str, str], ours: bool) -> list[str]:
    declared = package.get("licenseDeclared")
    if not isinstance(declared, str) or declared in ("NOASSERTION", "NONE", ""):
        declared = package.get("licenseConcluded")
    if not isinstance(declared, str) or declared in ("NOASSERTION", "NONE", ""):
        return []
    if ours:
        return [declared]
    return [extracted.get(declared, declared)]


def _from_spdx(data: dict[str, Any], subject: str) -> Catalog:
    extracted: dict[str, str] = {}
    for item in _objects(data.get("hasExtractedLicensingInfos"), "hasExtractedLicensingInfos"):
        licence_id, name = item.get("licenseId"), item.get("name") or item.get("extractedText")
        if isinstance(licence_id, str) and isinstance(name, str):
            extracted[licence_id] = name
    relationships = _objects(data.get("relationships"), "relationships")
    described = [_text(item, "documentDescribes[]") for item in data.get("documentDescribes", [])
                 if item is not None]
    depends: dict[str, list[str]] = {}
    for item in relationships:
        kind = item.get("relationshipType")
        source = _text(item.get("spdxElementId"), "relationships[].spdxElementId")
        target = item.get("relatedSpdxElement")
        if not isinstance(target, str):
            continue
        if kind == "DESCRIBES" and source == "SPDXRef-DOCUMENT":
            described.append(target)
        elif kind == "DEPENDS_ON":
            depends.setdefault(source, []).append(target)
        elif kind == "DEPENDENCY_OF":
            depends.setdefault(target, []).append(source)
    packages = _objects(data.get("packages"), "packages")
    image = _Image(name=_optional_text(data.get("name"), "name"), version=None,
                   kind=SourceKind.DIRECTORY, facts={})
    entries: list[_Entry] = []
    for position, package in enumerate(packages):
        what = f"packages[{position}]"
        spdx_id = _text(package.get("SPDXID"), f"{what}.SPDXID")
        name = _text(package.get("name"), f"{what}.name")
        version = _optional_text(package.get("versionInfo"), f"{what}.versionInfo") or ""
        facts = _spdx_facts(package, what)
        purl: str | None = None
        cpes: list[str] = []
        for ref in _objects(package.get("externalRefs"), f"{what}.externalRefs"):
            kind = ref.get("referenceType")
            locator = _text(ref.get("referenceLocator"), f"{what}.externalRefs[].locator")
            if kind == "purl" and purl is None:
                purl = locator
            elif kind in ("cpe23Type", "cpe22Type"):
                cpes.append(locator)
        purpose = package.get("primaryPackagePurpose")
        if spdx_id in described or purpose == "CONTAINER":
            if image.version is None:
                image = _Image(name=name if purl or PREFIX + "image:name" in facts else image.name,
                               version=version or None,
                               kind=SourceKind.REGISTRY if purpose == "CONTAINER" or (
                                   purl or "").startswith("pkg:oci/") else SourceKind.DIRECTORY,
                               facts=facts, purl=purl, distro=image.distro)
            continue
        if purpose == "OPERATING-SYSTEM":
            if image.distro is None:
                image.distro = Distro(name, version or None, _optional_text(
                    package.get("description"), f"{what}.description"))
            continue
        entry = _Entry(ref=spdx_id, name=name, version=version, purl=purl, cpes=cpes,
                       supplier=_spdx_supplier(package.get("supplier")), facts=facts,
                       source_info=_optional_text(package.get("sourceInfo"),
                                                  f"{what}.sourceInfo"),
                       depends_on=depends.get(spdx_id, []))
        entry.licenses = _spdx_licenses(package, extracted, entry.ours)
        entries.append(entry)
    return _catalog(image, entries, subject)
