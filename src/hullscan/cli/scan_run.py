"""The ``scan`` command's work: catalog, match, suppress, report, decide the exit code."""

from __future__ import annotations

import datetime
import io
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from hullscan.catalog.package import Scope
from hullscan.errors import HullscanError
from hullscan.image.sources.interface import AcquireOptions
from hullscan.report.scan_report import render_json, render_table, scan_document
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.finding import FixState
from hullscan.vuln.matcher import match_catalog
from hullscan.vuln.severity import Severity
from hullscan.vuln.suppression import (
    CONFIG_NAME,
    IgnoreRule,
    SuppressionResult,
    apply_suppressions,
    load_ignore_rules,
    load_vex,
)

EXIT_FAILED_GATE = 1


def run_scan(image: str, *, output_format: str, output: Path | None, db: Path,
             fail_on: str | None, only_fixed: bool, config: Path | None, vex: Sequence[Path],
             max_db_age: int, fail_on_stale_db: bool, scope: str, cpe_matching: bool,
             options: AcquireOptions,
             write: Callable[[str, Path | None], None]) -> int:
    """Run a scan; returns the exit code (0, or 1 when ``fail_on`` is reached)."""
    from hullscan.cli.app import load_catalog

    threshold = _threshold(fail_on)
    if scope not in {s.value for s in Scope}:
        raise HullscanError("choose squashed or all-layers", subject=f"--scope {scope}")
    rules = _rules(config)
    statements = [statement for path in vex for statement in load_vex(path)]
    today = datetime.date.today()
    with VulnerabilityDatabase.open(db) as database:
        warnings = _staleness(database, max_db_age, fail_on_stale_db)
        status = database.status()
        catalog = load_catalog(image, options, Scope(scope))
        matched = match_catalog(catalog, database, cpe_matching=cpe_matching)
    findings = [f for f in matched.findings
                if not only_fixed or f.fix_state is FixState.FIXED]
    result = apply_suppressions(findings, rules, statements, today)
    document = scan_document(catalog, result, {
        "location": str(status.location), "built_at": status.built_at,
        "schema_version": status.schema_version}, [*warnings, *matched.warnings])
    if output_format == "json":
        write(render_json(document), output)
    elif output is None:
        # CI logs are no terminal; rich would assume 80 columns and cut the ids.
        render_table(document, Console(width=None if sys.stdout.isatty() else 140))
    else:
        console = Console(record=True, width=160, file=io.StringIO())
        render_table(document, console)
        write(console.export_text(), output)
    return EXIT_FAILED_GATE if _gate_fails(result, threshold) else 0


def _threshold(fail_on: str | None) -> Severity | None:
    if fail_on is None:
        return None
    choices = ("critical", "high", "medium", "low", "negligible")
    if fail_on.lower() not in choices:
        raise HullscanError(f"choose {', '.join(choices)}", subject=f"--fail-on {fail_on}")
    return Severity.parse(fail_on)


def _rules(config: Path | None) -> list[IgnoreRule]:
    if config is not None:
        return load_ignore_rules(config)
    default = Path(CONFIG_NAME)
    return load_ignore_rules(default) if default.is_file() else []


def _staleness(database: VulnerabilityDatabase, max_age: int, fail: bool) -> list[str]:
    built = database.status().built_at
    if not built:
        return []
    when = datetime.datetime.fromisoformat(built.replace("Z", "+00:00"))
    age = (datetime.datetime.now(datetime.UTC) - when).days
    if age <= max_age:
        return []
    message = f"vulnerability database is {age} days old (limit {max_age}); run hullscan db update"
    if fail:
        raise HullscanError(message, subject=str(database.path))
    return [message]


def _gate_fails(result: SuppressionResult, threshold: Severity | None) -> bool:
    return threshold is not None and any(f.severity >= threshold for f in result.kept)
