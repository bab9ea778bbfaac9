"""Every report ``scan`` can write to a file, by the name of its ``--output-<name>`` option.

The CLI loops over the options it was given and calls ``REPORT_FORMATS[name].render``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hullscan.report import html, junit, markdown, policy_document, sarif, vex
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


REPORT_FORMATS: dict[str, ReportFormat] = {
    format_.name: format_ for format_ in (
        ReportFormat("json", policy_document.MEDIA_TYPE, "json", policy_document.render_json),
        ReportFormat("sarif", sarif.MEDIA_TYPE, "sarif", sarif.render),
        ReportFormat("junit", junit.MEDIA_TYPE, "xml", junit.render),
        ReportFormat("cyclonedx", vex.MEDIA_TYPE, "cdx.json", vex.render),
        ReportFormat("markdown", markdown.MEDIA_TYPE, "md", markdown.render),
        ReportFormat("html", html.MEDIA_TYPE, "html", html.render),
    )
}

__all__ = ["REPORT_FORMATS", "ReportFormat"]
