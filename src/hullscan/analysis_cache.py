"""Whole-image analysis results, kept in the layer cache under the image's config digest.

The per-layer cache spares reading layers, but a scan made of cached layers still rebuilds
the squashed view, attributes packages, reads the dpkg database and runs the checks (about a
sixth of a second for a 180 MB image). An image whose config digest (which fixes every diff
ID, so every layer's content) was analysed before with the same analysers and options skips
all of that: its catalog, check findings, final file list, account files and content-pattern
matches come back from one entry. What depends on the source rather than on the content is
never taken from the entry: the image metadata (reference, name, manifest and blob digests)
is the source's, and the distribution's support status is worked out again for today.

The encoding here (:func:`analysis_document`) is also the service's inventory format.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hullscan.catalog.distro_support import with_support_status
from hullscan.catalog.package import Catalog, LayerRef, Scope
from hullscan.checks.finding import Category, CheckFinding
from hullscan.errors import HullscanError
from hullscan.image.layer import KIND_BY_VALUE, FileEntry
from hullscan.image.layer_cache import CACHE_FORMAT, LayerCache, code_digest, describe
from hullscan.image.limits import ReadLimits
from hullscan.image.model import ImageMetadata
from hullscan.report.redaction import redact_image
from hullscan.report.sbom import hullscan_json
from hullscan.vuln.severity import Severity

if TYPE_CHECKING:
    from hullscan.checks.run import CheckOptions
    from hullscan.pipeline import Analysed

IMAGE_ENTRY_FORMAT = 1
"""Version of the whole-image entry layout; part of every fingerprint."""


def image_fingerprint(limits: ReadLimits, scope: Scope, checks: CheckOptions,
                      patterns: Sequence[str], keep_key: str) -> str:
    """Everything besides the image that changes what :func:`hullscan.pipeline.analyse`
    returns: the analysers' code, every read limit (a lower limit must refuse an image
    again), the scope, the checks with their settings and Dockerfile, the content patterns."""
    dockerfile = "none"
    if checks.dockerfile is not None:
        try:
            dockerfile = hashlib.sha256(checks.dockerfile.read_bytes()).hexdigest()
        except OSError:
            dockerfile = "unreadable"  # the checks report it; such a run is not cached
    parts = (f"image/{IMAGE_ENTRY_FORMAT}", f"v{CACHE_FORMAT}", f"code={code_digest()}",
             f"limits={describe(limits)}", f"scope={scope.value}",
             f"checks={describe(sorted(c.value for c in checks.categories))}",
             f"settings={describe(dict(checks.settings))}", f"dockerfile={dockerfile}",
             f"patterns={describe(list(patterns))}", f"keep={keep_key}")
    return ";".join(parts)


def image_subject(metadata: ImageMetadata) -> str | None:
    """The entry's subject (``image:`` and the config digest); None without a config."""
    if metadata.image_id is None or metadata.config is None:
        return None
    return f"image:{metadata.image_id}"


def load_analysis(cache: LayerCache, metadata: ImageMetadata, fingerprint: str,
                  today: datetime.date | None = None) -> Analysed | None:
    """The cached analysis of the image ``metadata`` describes, made current; None on a miss
    or a damaged entry."""
    from hullscan.pipeline import Analysed

    subject = image_subject(metadata)
    if subject is None:
        return None
    document = cache.load(subject, fingerprint)
    if document is None:
        return None
    try:
        fields = analysis_fields(document, subject="cache entry")
    except (HullscanError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a damaged or foreign entry: analyse the image (and rewrite the entry)
    catalog = fields.pop("catalog")
    distro = catalog.distro
    if distro is not None:
        fresh = replace(distro, support_ends=None, end_of_life=None)
        distro = with_support_status(fresh, today or datetime.date.today())
    return Analysed(catalog=replace(catalog, image=redact_image(metadata), distro=distro),
                    checks=list(fields.pop("checks")), **fields)


def store_analysis(cache: LayerCache, analysed: Analysed, fingerprint: str) -> None:
    """Keep ``analysed`` for the next scan of the same image (errors mean no entry)."""
    subject = image_subject(analysed.catalog.image)
    if subject is None:
        return
    cache.store(subject, fingerprint, analysis_document(
        analysed.catalog, analysed.checks, analysed.files, analysed.file_contents,
        analysed.content_matches))


# --------------------------------------------------------------------------- encodings


def analysis_document(catalog: Catalog, checks: Sequence[CheckFinding],
                      files: Sequence[FileEntry], file_contents: Mapping[str, bytes],
                      content_matches: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """What one pass over an image found, as JSON-able data (a cache entry's body, and the
    service's stored inventories)."""
    return {"catalog": hullscan_json.to_document(catalog),
            "checks": [_check_document(finding) for finding in checks],
            "files": _files_document(files), "file_contents": _contents_document(file_contents),
            "content_matches": {k: list(v) for k, v in content_matches.items()}}


def analysis_fields(document: dict[str, Any], *, subject: str) -> dict[str, Any]:
    """The ``catalog``, ``checks`` (a tuple), ``files``, ``file_contents`` and
    ``content_matches`` :func:`analysis_document` wrote; raises ``CorruptContentError``,
    ``ValueError``, ``KeyError`` or ``TypeError`` on a malformed document."""
    return {"catalog": hullscan_json.from_document(document["catalog"], subject=subject),
            "checks": tuple(_check_from(item) for item in document["checks"]),
            "files": _files_from(document["files"]),
            "file_contents": _contents_from(document["file_contents"]),
            "content_matches": {str(k): tuple(v)
                                for k, v in document["content_matches"].items()}}


def _files_document(files: Sequence[FileEntry]) -> list[list[Any]]:
    """File entries as compact lists."""
    return [[e.path, e.kind.value, e.size, e.mode, e.uid, e.gid, e.mtime, e.link_target,
             e.layer_index] for e in files]


def _files_from(rows: list[list[Any]]) -> tuple[FileEntry, ...]:
    """The entries :func:`_files_document` wrote."""
    return tuple(FileEntry(path, KIND_BY_VALUE[kind], size, mode, uid, gid, mtime, link, layer)
                 for path, kind, size, mode, uid, gid, mtime, link, layer in rows)


def _contents_document(contents: Mapping[str, bytes]) -> dict[str, str]:
    """Small file contents as base64 text."""
    return {path: base64.b64encode(data).decode() for path, data in contents.items()}


def _contents_from(document: Mapping[str, str]) -> dict[str, bytes]:
    """The contents :func:`_contents_document` wrote."""
    return {str(path): base64.b64decode(text, validate=True) for path, text in document.items()}


def _ref(ref: LayerRef | None) -> list[Any] | None:
    return None if ref is None else [ref.index, ref.diff_id, ref.created_by]


def _ref_from(value: list[Any] | None) -> LayerRef | None:
    return None if value is None else LayerRef(value[0], value[1], value[2])


def _check_document(finding: CheckFinding) -> dict[str, Any]:
    """A check finding as JSON-able data."""
    return {"rule_id": finding.rule_id, "title": finding.title,
            "severity": finding.severity.name, "category": finding.category.value,
            "rationale": finding.rationale, "remediation": finding.remediation,
            "layer": _ref(finding.layer), "path": finding.path, "config_key": finding.config_key,
            "line": finding.line, "deleted_by": _ref(finding.deleted_by),
            "evidence": finding.evidence}


def _check_from(data: dict[str, Any]) -> CheckFinding:
    """The finding :func:`_check_document` wrote."""
    return CheckFinding(
        rule_id=data["rule_id"], title=data["title"], severity=Severity[data["severity"]],
        category=Category(data["category"]), rationale=data["rationale"],
        remediation=data["remediation"], layer=_ref_from(data["layer"]), path=data["path"],
        config_key=data["config_key"], line=data["line"],
        deleted_by=_ref_from(data["deleted_by"]), evidence=data["evidence"])
