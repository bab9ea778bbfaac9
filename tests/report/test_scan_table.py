"""The scan table prints image-derived text literally (never as rich markup)."""

from __future__ import annotations

import io

from rich.console import Console

from hullscan.report.scan_table import render_table


def test_markup_in_image_strings_is_printed_literally() -> None:
    hostile = "[link=http://evil.example]click[/link] [bold red]x"
    layer = {"index": 1, "diff_id": None, "created_by": f"RUN {hostile}"}
    document = {
        "image": {"reference": f"oci-dir:/tmp/{hostile}", "manifest_digest": None},
        "summary": {"High": 1}, "packages": 1,
        "findings": [{"id": "CVE-1", "severity": "High", "package": {
            "name": hostile, "version": "1", "layer": layer},
            "fix": {"versions": [], "state": "unknown"}, "epss": {"score": None},
            "kev": {"listed": False}}],
        "checks": [{"path": hostile, "config_key": None, "line": None, "layer": layer,
                    "deleted": False, "severity": "High", "rule_id": "HS-FILE-X",
                    "title": hostile}],
        "suppressed": [], "suppressed_checks": [], "expired_rules": [],
        "warnings": [f"warning about {hostile}"],
    }
    console = Console(record=True, width=400, file=io.StringIO())
    render_table(document, console)
    text = console.export_text()
    assert text.count("[link=http://evil.example]click[/link]") >= 4
