"""Every report ``scan`` can write to a file, by the name of its ``--output-<name>`` option.

The CLI loops over the options it was given and calls ``REPORT_FORMATS[name].render``.
Renderers are imported on first use: the CycloneDX library alone costs a warm scan a
quarter of a second to import (tests keep the media types here equal to the modules').
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from hullscan.report.outcome import ScanOutcome


@dataclass(frozen=True)
class ReportFormat:
    """One report file format."""

    name: str
    """As in ``--output-<name>``."""
    media_type: str
    extension: str
    """The usual file name suffix, without the dot."""
    module: str
    """The module of ``hullscan.report`` holding the renderer."""
    function: str

    def render(self, outcome: ScanOutcome) -> str:
        """The whole file's text."""
        module = importlib.import_module(f"hullscan.report.{self.module}")
        rendered: str = getattr(module, self.function)(outcome)
        return rendered


REPORT_FORMATS: dict[str, ReportFormat] = {
    format_.name: format_ for format_ in (
        ReportFormat("json", "application/json", "json", "policy_document", "render_json"),
        ReportFormat("sarif", "application/sarif+json", "sarif", "sarif", "render"),
        ReportFormat("junit", "application/xml", "xml", "junit", "render"),
        ReportFormat("cyclonedx", "application/vnd.cyclonedx+json; version=1.6", "cdx.json",
                     "vex", "render"),
        ReportFormat("markdown", "text/markdown", "md", "markdown", "render"),
        ReportFormat("html", "text/html", "html", "html", "render"),
    )
}

__all__ = ["REPORT_FORMATS", "ReportFormat"]
