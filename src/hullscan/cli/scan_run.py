"""The ``scan`` command's work: catalog, match, suppress, report, decide the exit code."""

from __future__ import annotations

import datetime
import io
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from hullscan.catalog.package import Catalog, Scope
from hullscan.catalog.run import analyse_image
from hullscan.checks.finding import Category, CheckFinding
from hullscan.checks.run import CheckOptions, CheckRun, sort_check_findings
from hullscan.errors import HullscanError
from hullscan.image.acquire import open_image
from hullscan.image.reference import SourceKind, parse_image_reference
from hullscan.image.sources.interface import AcquireOptions
from hullscan.report.redaction import redact_catalog, redact_check
from hullscan.report.scan_report import render_json, render_table, scan_document
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.finding import Finding, FixState
from hullscan.vuln.matcher import match_catalog
from hullscan.vuln.severity import Severity
from hullscan.vuln.suppression import (
    CONFIG_NAME,
    SuppressionResult,
    apply_check_suppressions,
    apply_suppressions,
    ignore_rules,
    load_vex,
    read_config,
)

EXIT_FAILED_GATE = 1


SCANNERS = ("vuln", "secret", "config", "file", "license")


def parse_scanners(text: str) -> frozenset[str]:
    """``vuln,secret,config,file,license`` (any subset; empty runs only the catalog)."""
    chosen = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = chosen - set(SCANNERS)
    if unknown:
        raise HullscanError(f"unknown scanner(s) {', '.join(sorted(unknown))} "
                            f"(choose from {', '.join(SCANNERS)})", subject=f"--scanners {text}")
    return chosen


def run_scan(image: str, *, output_format: str, output: Path | None, db: Path,
             fail_on: str | None, only_fixed: bool, config: Path | None, vex: Sequence[Path],
             max_db_age: int, fail_on_stale_db: bool, scope: str, cpe_matching: bool,
             scanners: frozenset[str], dockerfile: Path | None, options: AcquireOptions,
             write: Callable[[str, Path | None], None]) -> int:
    """Run a scan; returns the exit code (0, or 1 when ``fail_on`` is reached)."""
    threshold = _threshold(fail_on)
    if scope not in {s.value for s in Scope}:
        raise HullscanError("choose squashed or all-layers", subject=f"--scope {scope}")
    if dockerfile is not None and not dockerfile.is_file():
        raise HullscanError("no such file", subject=f"--dockerfile {dockerfile}")
    settings = _settings(config)
    rules = ignore_rules(settings, config or Path(CONFIG_NAME))
    statements = [statement for path in vex for statement in load_vex(path)]
    today = datetime.date.today()
    check_run = CheckRun(CheckOptions(
        frozenset(Category(name) for name in scanners if name != "vuln"), dockerfile, settings))
    warnings: list[str] = []
    database_facts: dict[str, object] = {}
    findings: list[Finding] = []
    if "vuln" in scanners:
        with VulnerabilityDatabase.open(db) as database:
            warnings += _staleness(database, max_db_age, fail_on_stale_db)
            status = database.status()
            database_facts = {"location": str(status.location), "built_at": status.built_at,
                              "schema_version": status.schema_version}
            catalog, checks = _analyse(image, options, Scope(scope), check_run)
            matched = match_catalog(catalog, database, cpe_matching=cpe_matching)
        warnings += matched.warnings
        findings = [f for f in matched.findings
                    if not only_fixed or f.fix_state is FixState.FIXED]
    else:
        catalog, checks = _analyse(image, options, Scope(scope), check_run)
    result = apply_suppressions(findings, rules, statements, today)
    kept_checks, suppressed_checks = apply_check_suppressions(checks, rules, today)
    document = scan_document(catalog, result, database_facts, warnings,
                             sort_check_findings(kept_checks), suppressed_checks)
    if output_format == "json":
        write(render_json(document), output)
    elif output is None:
        # CI logs are no terminal; rich would assume 80 columns and cut the ids.
        render_table(document, Console(width=None if sys.stdout.isatty() else 140))
    else:
        console = Console(record=True, width=160, file=io.StringIO())
        render_table(document, console)
        write(console.export_text(), output)
    failed = _gate_fails(result, threshold) or (
        threshold is not None and any(f.severity >= threshold for f in kept_checks))
    return EXIT_FAILED_GATE if failed else 0


def _analyse(image: str, options: AcquireOptions, scope: Scope,
             check_run: CheckRun) -> tuple[Catalog, list[CheckFinding]]:
    """Catalog and checks in one pass over the layers; an SBOM gives a catalog only."""
    reference = parse_image_reference(image)
    if reference.kind is SourceKind.SBOM:
        from hullscan.cli.app import load_catalog
        return redact_catalog(load_catalog(image, options, scope)), []
    with open_image(image, options) as source:
        analysis = analyse_image(source, scope, visitors=check_run.visitors,
                                 keep=check_run.keep)
    # Checks read the real metadata (that is how they find secrets in it); what is reported
    # is redacted.
    checks = [redact_check(finding) for finding in check_run.findings(analysis)]
    return redact_catalog(analysis.catalog), checks


def _settings(config: Path | None) -> dict[str, object]:
    if config is not None:
        return read_config(config)
    default = Path(CONFIG_NAME)
    return read_config(default) if default.is_file() else {}


def _threshold(fail_on: str | None) -> Severity | None:
    if fail_on is None:
        return None
    choices = ("critical", "high", "medium", "low", "negligible")
    if fail_on.lower() not in choices:
        raise HullscanError(f"choose {', '.join(choices)}", subject=f"--fail-on {fail_on}")
    return Severity.parse(fail_on)


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
