"""One entry point per parser family: ``(data: bytes) -> None``, shared by atheris and tests.

The contract every target checks: on arbitrary bytes a parser returns a result or raises a
:class:`~hullscan.errors.HullscanError` subclass (the CLI turns those into one line and exit
code 2). Targets swallow exactly those; anything else escaping a target is a bug. Where a
family has several parsers (dpkg status, copyright and file lists), each input goes through
all of them: they are cheap, and one corpus then feeds every parser of the family.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from hullscan.catalog.catalogers import CATALOGERS, Cataloger
from hullscan.catalog.os import dpkg, rpm_header
from hullscan.catalog.os.rpm import package_from_header
from hullscan.errors import HullscanError
from hullscan.image.config import parse_config
from hullscan.image.decompress import DecompressedLayer
from hullscan.image.layer import FileEntry, LayerInfo, read_layer_tar
from hullscan.image.limits import ReadBudget, ReadLimits
from hullscan.image.manifest import ImageIndex, ImageManifest, Platform, parse_manifest
from hullscan.versions import SCHEMES, compare
from hullscan.versions.ranges import (
    composer_constraint_satisfies,
    gem_requirement_satisfies,
    npm_range_satisfies,
    osv_range_affected,
)

Target = Callable[[bytes], None]

_MIB = 1024 * 1024
#: Small enough that a decompression bomb found by the fuzzer costs milliseconds, not minutes.
LAYER_LIMITS = ReadLimits(max_image_bytes=8 * _MIB, max_files=10_000, ratio_grace_bytes=_MIB,
                          max_captured_file_bytes=_MIB, max_header_bytes=64 * 1024)


def contract(parse: Callable[[], Any]) -> None:
    """Run ``parse``; a :class:`HullscanError` is an accepted outcome, anything else escapes."""
    with contextlib.suppress(HullscanError):
        parse()


#: A path each cataloger would be handed (some parsers look at the file name).
CATALOGER_PATHS = {
    "dpkg-db": "var/lib/dpkg/status",
    "apk-db": "lib/apk/db/installed",
    "rpm-db": "var/lib/rpm/Packages",
    "python-installed": "usr/lib/python3/site-packages/fuzz-1.0.dist-info/METADATA",
    "python-requirements": "app/requirements.txt",
    "python-poetry-lock": "app/poetry.lock",
    "python-pipfile-lock": "app/Pipfile.lock",
    "python-uv-lock": "app/uv.lock",
    "npm-installed": "app/node_modules/fuzz/package.json",
    "npm-project": "app/package.json",
    "npm-lock": "app/package-lock.json",
    "yarn-lock": "app/yarn.lock",
    "pnpm-lock": "app/pnpm-lock.yaml",
    "gem-installed": "usr/lib/ruby/gems/3.1.0/specifications/fuzz-1.0.gemspec",
    "gem-lock": "app/Gemfile.lock",
    "composer-installed": "app/vendor/composer/installed.json",
    "composer-lock": "app/composer.lock",
    "dotnet-deps": "app/fuzz.deps.json",
    "cargo-lock": "app/Cargo.lock",
    "go-mod": "app/go.mod",
    "java-archive": "app/lib/fuzz-1.0.jar",
    "go-binary": "usr/local/bin/fuzz",
    "rust-binary": "usr/local/bin/fuzz",
}


def _cataloger(name: str) -> Cataloger:
    return next(cataloger for cataloger in CATALOGERS if cataloger.name == name)


@dataclass(frozen=True)
class CatalogerTarget:
    """Feed the input to each named cataloger's parser (as the layer pass would), then to
    ``more``: the family's parsers that no cataloger calls directly."""

    catalogers: tuple[str, ...]
    more: Callable[[bytes], None] | None = None

    def __call__(self, data: bytes) -> None:
        for name in self.catalogers:
            contract(partial(_cataloger(name).parse, CATALOGER_PATHS[name], data))
        if self.more is not None:
            self.more(data)


class _KeepAll:
    """A layer visitor that wants and keeps every file, so every content path runs."""

    def wants(self, entry: FileEntry) -> bool:
        return True

    def visit(self, entry: FileEntry, content: bytes) -> bool:
        return True


def layer_tar(data: bytes) -> None:
    """Tar entries, whiteouts, hard links and (by magic bytes) decompression of one layer."""
    def read() -> None:
        budget = ReadBudget(LAYER_LIMITS, subject="fuzz")
        stream = DecompressedLayer(io.BytesIO(data), diff_id=None, budget=budget, subject="fuzz")
        info = LayerInfo(index=0, diff_id=None, digest=None, media_type=None, size=len(data))
        read_layer_tar(stream, info, visitor=_KeepAll(), budget=budget, subject="fuzz")
    contract(read)


_MEDIA_TYPES = (None, "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8")


def manifest(data: bytes) -> None:
    """Manifests and indexes under every declared media type, then platform selection."""
    for media_type in _MEDIA_TYPES:
        for require_image in (True, False):
            def parse(media_type: str | None = media_type, strict: bool = require_image) -> None:
                document = parse_manifest(data, media_type, subject="fuzz", require_image=strict)
                if isinstance(document, ImageIndex):
                    document.select(Platform.parse("linux/amd64"), subject="fuzz")
                else:
                    assert isinstance(document, ImageManifest)
            contract(parse)


def config(data: bytes) -> None:
    """Image configs, and the derived views later stages use."""
    def parse() -> None:
        parsed = parse_config(data, subject="fuzz")
        assert isinstance(parsed.env_names, tuple)
        assert len(parsed.layer_history()) == len(parsed.diff_ids)
    contract(parse)


def _dpkg_files(data: bytes) -> None:
    """dpkg ``*.list`` file lists and ``copyright`` files."""
    contract(lambda: dpkg.parse_file_list(data))
    contract(lambda: dpkg.parse_copyright(data))


def _rpm_header(data: bytes) -> None:
    """A bare rpm header blob, as the database back ends yield them."""
    def header() -> None:
        parsed = rpm_header.parse_header(data, subject="fuzz")
        parsed.files()
        package_from_header("fuzz", parsed)
    contract(header)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


_RANGE_EVENTS = ("introduced", "fixed", "last_affected", "limit")


def versions(data: bytes) -> None:
    """Every version scheme's comparison (and its antisymmetry) and every range syntax.

    The first byte picks the scheme; the rest is split on NUL into versions and ranges.
    """
    if not data:
        return
    schemes = sorted(SCHEMES)
    scheme = schemes[data[0] % len(schemes)]
    a, b, c, *_ = [*_text(data[1:]).split("\0"), "", ""]
    contract(lambda: SCHEMES[scheme].validate(a))

    def ordered() -> None:
        forward = compare(scheme, a, b)
        backward = compare(scheme, b, a)
        # A comparison that is not antisymmetric makes sorting and range checks disagree.
        assert (forward > 0) - (forward < 0) == -((backward > 0) - (backward < 0)), (
            f"{scheme}: compare({a!r}, {b!r}) = {forward} but compare(b, a) = {backward}")
    contract(ordered)
    events = [{kind: value} for kind, value in zip(_RANGE_EVENTS, (b, c), strict=False)]
    contract(lambda: osv_range_affected(scheme, a, events))
    contract(lambda: npm_range_satisfies(a, b))
    contract(lambda: composer_constraint_satisfies(a, b))
    contract(lambda: gem_requirement_satisfies(a, b))


TARGETS: dict[str, Target] = {
    "layer_tar": layer_tar,
    "manifest": manifest,
    "config": config,
    "dpkg": CatalogerTarget(("dpkg-db",), _dpkg_files),
    "apk": CatalogerTarget(("apk-db",)),
    "rpm": CatalogerTarget(("rpm-db",), _rpm_header),
    "python": CatalogerTarget(("python-installed", "python-requirements", "python-poetry-lock",
                               "python-pipfile-lock", "python-uv-lock")),
    "npm": CatalogerTarget(("npm-installed", "npm-project", "npm-lock", "yarn-lock",
                            "pnpm-lock")),
    "java": CatalogerTarget(("java-archive",)),
    "go_binary": CatalogerTarget(("go-binary", "go-mod")),
    "rust_binary": CatalogerTarget(("rust-binary", "cargo-lock")),
    "gem": CatalogerTarget(("gem-installed", "gem-lock")),
    "composer": CatalogerTarget(("composer-installed", "composer-lock")),
    "dotnet": CatalogerTarget(("dotnet-deps",)),
    "versions": versions,
}
"""Target name -> entry point; ``fuzz/fuzz_<name>.py`` runs one under atheris."""
