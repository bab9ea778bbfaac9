"""``hullscan scan``'s table: findings grouped by severity, then the checks (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hullscan.vuln.severity import Severity


def render_table(document: dict[str, Any], console: Console) -> None:
    """Findings grouped by severity, each with its fix and the layer that brought it in."""
    image = document["image"]
    # Image-derived text (names, paths, build steps) is untrusted: never read as rich markup.
    console.print(f"[bold]{escape(image['reference'])}[/bold]  "
                  f"{escape(image['manifest_digest'] or '')}",
                  highlight=False)
    summary = ", ".join(f"{count} {name}" for name, count in document["summary"].items() if count)
    console.print(f"{document['packages']} packages, "
                  f"{len(document['findings'])} vulnerabilities"
                  + (f" ({summary})" if summary else ""), highlight=False)
    for severity in sorted(Severity, reverse=True):
        rows = [f for f in document["findings"] if f["severity"] == str(severity)]
        if not rows:
            continue
        table = Table(title=f"{severity} ({len(rows)})", title_justify="left")
        for column in ("Vulnerability", "Package", "Installed", "Fixed in"):
            table.add_column(column, no_wrap=True)
        table.add_column("Layer", overflow="ellipsis", no_wrap=True, max_width=40)
        table.add_column("EPSS / KEV", no_wrap=True)
        for finding in rows:
            package = finding["package"]
            layer = package["layer"]
            layer_text = "-" if layer is None else \
                f"#{layer['index']} {(layer['created_by'] or '')[:60]}"
            fix = ", ".join(finding["fix"]["versions"]) or finding["fix"]["state"]
            epss = finding["epss"]["score"]
            risk = " ".join(filter(None, (f"{epss:.1%}" if epss is not None else None,
                                          "KEV" if finding["kev"]["listed"] else None)))
            table.add_row(*_cells(finding["id"], package["name"], package["version"], fix,
                                  layer_text, risk or "-"))
        console.print(table)
    if document["checks"]:
        table = Table(title=f"Checks ({len(document['checks'])})", title_justify="left")
        for column in ("Severity", "Rule", "Where", "Layer", "Title"):
            table.add_column(column, no_wrap=column != "Title", overflow="fold")
        for check in document["checks"]:
            where = (check["path"] and f"/{check['path']}") or check["config_key"] or "-"
            if check["line"]:
                where += f":{check['line']}"
            layer = check["layer"]
            layer_text = "-" if layer is None else f"#{layer['index']}"
            if check["deleted"]:
                layer_text += f" (deleted in #{check['deleted_by']['index']})"
            table.add_row(*_cells(check["severity"], check["rule_id"], where[:60], layer_text,
                                  check["title"]))
        console.print(table)
    if document["suppressed"] or document["suppressed_checks"]:
        console.print(f"{len(document['suppressed']) + len(document['suppressed_checks'])} "
                      "suppressed "
                      "(see --format json for reasons)", highlight=False)
    for rule in document["expired_rules"]:
        console.print(Text(f"expired ignore rule {rule['rule']} ({rule['expired']}): "
                           f"{rule['reason']}", style="yellow"), highlight=False)
    for warning in document["warnings"]:
        console.print(Text(f"warning: {warning}", style="yellow"), highlight=False)


def _cells(*values: str) -> list[Text]:
    """Table cells as plain text (no markup interpretation)."""
    return [Text(value) for value in values]
