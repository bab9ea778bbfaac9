"""Every report ``scan`` can write to a file, by the name of its ``--output-<name>`` option.

The CLI loops over the options it was given and calls ``REPORT_FORMATS[name].render``.
Renderers are imported on first use: the CycloneDX library alone costs a warm scan a
quarter of a second to import (tests keep the media types here equal to the modules').
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hullscan.lazy import lazy_function
from hullscan.report.outcome import ScanOutcome


@dataclass(frozen=True)
class ReportFormat:
    """One report file format."""

    name: str
    """As in ``--output-<name>``."""
    media_type: str
    extension: str
    """The usual file name suffix, without the dot."""
    render: Callable[[ScanOutcome], str]
    """The whole file's text."""


def _renderer(module: str, function: str = "render") -> Callable[[ScanOutcome], str]:
    return lazy_function(f"hullscan.report.{module}", function)


REPORT_FORMATS: dict[str, ReportFormat] = {
    format_.name: format_ for format_ in (
        ReportFormat("json", "application/json", "json",
                     _renderer("policy_document", "render_json")),
        ReportFormat("sarif", "application/sarif+json", "sarif", _renderer("sarif")),
        ReportFormat("junit", "application/xml", "xml", _renderer("junit")),
        ReportFormat("cyclonedx", "application/vnd.cyclonedx+json; version=1.6", "cdx.json",
                     _renderer("vex")),
        ReportFormat("markdown", "text/markdown", "md", _renderer("markdown")),
        ReportFormat("html", "text/html", "html", _renderer("html")),
    )
}

__all__ = ["REPORT_FORMATS", "ReportFormat"]
