"""Run the checks an image scan asks for, sharing the catalog's one pass over the layers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hullscan.catalog.identity import OS_ECOSYSTEMS
from hullscan.catalog.package import LayerRef
from hullscan.catalog.run import ImageAnalysis
from hullscan.checks import files, secrets
from hullscan.checks.config import check_config
from hullscan.checks.finding import Category, CheckFinding
from hullscan.checks.secrets.config import load_max_file_size, load_secret_config
from hullscan.errors import CorruptContentError
from hullscan.image.filesystem import deleting_layer
from hullscan.image.layer import LayerVisitor


@dataclass(frozen=True)
class CheckOptions:
    """Which checks run, and their inputs."""

    categories: frozenset[Category]
    dockerfile: Path | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The configuration file's mapping (``secrets:`` rules, allow rules, size limit)."""


class CheckRun:
    """The visitors a scan adds to the layer pass, and the findings made from them after."""

    def __init__(self, options: CheckOptions) -> None:
        self.options = options
        self.secret_visitor: secrets.SecretVisitor | None = None
        self.md5_visitor: files.Md5Visitor | None = None
        if Category.SECRET in options.categories:
            try:
                rules, allow = load_secret_config(options.settings)
                size = load_max_file_size(options.settings)
            except ValueError as error:
                raise CorruptContentError(str(error), subject="configuration file") from None
            self.secret_visitor = secrets.SecretVisitor(rules, allow, max_file_size=size)
        if Category.FILE in options.categories:
            self.md5_visitor = files.Md5Visitor()

    @property
    def visitors(self) -> list[LayerVisitor]:
        """The visitors to run during the layer pass."""
        return [v for v in (self.secret_visitor, self.md5_visitor) if v is not None]

    @property
    def keep(self) -> Callable[[str], bool]:
        """Files whose contents the checks read after the pass."""
        return files.wanted_paths

    def findings(self, analysis: ImageAnalysis) -> list[CheckFinding]:
        """Every check finding for the analysed image."""
        image = analysis.catalog.image
        refs: list[LayerRef] = [LayerRef(layer.index, layer.diff_id, layer.created_by)
                                for layer in image.layers]
        filesystem = analysis.filesystem
        found: list[CheckFinding] = []
        categories = self.options.categories
        if Category.CONFIG in categories and image.config is not None:
            found += check_config(image, filesystem, self.options.dockerfile)
        if self.secret_visitor is not None:
            found += [self._deleted_by_whiteouts(finding, analysis, refs) for finding in
                      secrets.findings(self.secret_visitor, filesystem.layer_of, refs)]
            if image.config is not None:
                found += secrets.scan_config(image.config, refs, self.secret_visitor.rules,
                                             self.secret_visitor.allow)
        if Category.FILE in categories:
            owned = {file.lstrip("/") for package in analysis.catalog.packages
                     if package.type in OS_ECOSYSTEMS for file in package.files}
            found += files.check_files(analysis.layers, filesystem, refs, owned.__contains__,
                                       md5=self.md5_visitor)
        return found


    @staticmethod
    def _deleted_by_whiteouts(finding: CheckFinding, analysis: ImageAnalysis,
                              refs: Sequence[LayerRef]) -> CheckFinding:
        """The secret scanner sees files, not whiteouts: name the layer that really
        deleted the file."""
        if finding.deleted_by is None or finding.layer is None or finding.path is None:
            return finding
        index = deleting_layer(analysis.layers, finding.path, finding.layer.index)
        if index is None or not 0 <= index < len(refs):
            return finding
        return replace(finding, deleted_by=refs[index])


def sort_check_findings(found: Sequence[CheckFinding]) -> list[CheckFinding]:
    """Worst first, then by category, rule and place."""
    return sorted(found, key=lambda f: (-f.severity, f.category, f.rule_id, f.path or "",
                                        f.config_key or ""))
