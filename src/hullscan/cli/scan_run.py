"""The ``scan`` command's work: catalog, match, check, suppress, evaluate, report, exit code."""

from __future__ import annotations

import datetime
import io
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from hullscan.catalog.package import Scope
from hullscan.checks.finding import Category
from hullscan.checks.run import CheckOptions, CheckRun, sort_check_findings
from hullscan.errors import HullscanError
from hullscan.image.layer_cache import LayerCache
from hullscan.image.sources.interface import AcquireOptions
from hullscan.pipeline import analyse
from hullscan.policy.base_image import detect_base_image
from hullscan.policy.collect import build_context, database_facts
from hullscan.policy.content import content_patterns
from hullscan.policy.context import DatabaseFacts, ImageName
from hullscan.policy.evaluate import evaluate
from hullscan.policy.load import load_bundle, load_default_bundle
from hullscan.policy.model import Bundle
from hullscan.report.outcome import ScanOutcome
from hullscan.report.scan_report import scan_document
from hullscan.vuln.db.store import VulnerabilityDatabase
from hullscan.vuln.finding import Finding, FixState
from hullscan.vuln.matcher import match_catalog
from hullscan.vuln.severity import Severity
from hullscan.vuln.suppression import (
    CONFIG_NAME,
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


@dataclass(frozen=True)
class ScanSettings:
    """Everything ``scan`` (and ``promote``) needs besides the image and the outputs."""

    db: Path
    options: AcquireOptions
    scanners: frozenset[str] = frozenset(SCANNERS)
    scope: str = "squashed"
    only_fixed: bool = False
    config: Path | None = None
    vex: Sequence[Path] = ()
    max_db_age: int = 5
    fail_on_stale_db: bool = False
    cpe_matching: bool = False
    dockerfile: Path | None = None
    policy: Path | None = None
    """The policy bundle; None: the built-in default (unless ``use_policy`` is False)."""
    use_policy: bool = True
    base_layers: int | None = None
    layer_cache: LayerCache | None = None
    """Where per-layer analysis results are reused and kept (None: no cache)."""


def perform_scan(image: str, settings: ScanSettings, *, name: ImageName | None = None,
                 bundle: Bundle | None = None) -> ScanOutcome:
    """Catalog, match, check, suppress and evaluate the policy; writes nothing.

    ``name`` overrides the image name policy mappings see (``promote`` scans a digest but
    maps by the tag it was asked for); ``bundle`` a bundle already loaded.
    """
    if settings.scope not in {s.value for s in Scope}:
        raise HullscanError("choose squashed or all-layers", subject=f"--scope {settings.scope}")
    dockerfile = settings.dockerfile
    if dockerfile is not None and not dockerfile.is_file():
        raise HullscanError("no such file", subject=f"--dockerfile {dockerfile}")
    if settings.base_layers is not None and settings.base_layers < 0:
        raise HullscanError("must be 0 or more", subject=f"--base-layers {settings.base_layers}")
    if bundle is None and settings.use_policy:
        bundle = load_policy(settings.policy)
    config = settings.config
    file_settings = _settings(config)
    rules = ignore_rules(file_settings, config or Path(CONFIG_NAME))
    statements = [statement for path in settings.vex for statement in load_vex(path)]
    today = datetime.date.today()
    check_run = CheckRun(CheckOptions(
        frozenset(Category(n) for n in settings.scanners if n != "vuln"), dockerfile,
        file_settings))
    patterns = content_patterns(bundle) if bundle is not None else ()
    warnings: list[str] = []
    database_document: dict[str, object] = {}
    facts: DatabaseFacts | None = None
    matched_findings: list[Finding] | None = None
    scope = Scope(settings.scope)
    if "vuln" in settings.scanners:
        with VulnerabilityDatabase.open(settings.db) as database:
            warnings += _staleness(database, settings.max_db_age, settings.fail_on_stale_db)
            status = database.status()
            database_document = {"location": str(status.location), "built_at": status.built_at,
                                 "schema_version": status.schema_version}
            facts = database_facts(database)
            analysed = analyse(image, settings.options, scope, check_run, patterns,
                               cache=settings.layer_cache)
            matched = match_catalog(analysed.catalog, database,
                                    cpe_matching=settings.cpe_matching)
        warnings += matched.warnings
        matched_findings = [f for f in matched.findings
                            if not settings.only_fixed or f.fix_state is FixState.FIXED]
    else:
        analysed = analyse(image, settings.options, scope, check_run, patterns,
                           cache=settings.layer_cache)
    catalog = analysed.catalog
    result = apply_suppressions(matched_findings or [], rules, statements, today)
    kept_checks, suppressed_checks = apply_check_suppressions(analysed.checks, rules, today)
    kept_checks = sort_check_findings(kept_checks)
    document = scan_document(catalog, result, database_document, warnings, kept_checks,
                             suppressed_checks)
    evaluation = None
    if bundle is not None:
        base = detect_base_image(catalog.image.config, len(catalog.image.layers),
                                 settings.base_layers)
        context = build_context(
            metadata=catalog.image, catalog=catalog,
            vulnerabilities=tuple(result.kept) if matched_findings is not None else None,
            checks=tuple(kept_checks), files=analysed.files,
            file_contents=analysed.file_contents, content_matches=analysed.content_matches,
            database=facts, dockerfile=dockerfile,
            base=base)
        if name is not None:
            context = replace(context, image=name)
        evaluation = evaluate(bundle, context)
    return ScanOutcome(document=document, catalog=catalog, findings=tuple(result.kept),
                       checks=tuple(kept_checks), evaluation=evaluation, dockerfile=dockerfile)


def load_policy(path: Path | None) -> Bundle:
    """The bundle in ``path``, or the built-in default."""
    return load_bundle(path) if path is not None else load_default_bundle()


def run_scan(image: str, settings: ScanSettings, *, output_format: str, output: Path | None,
             reports: Mapping[str, Path], fail_on: str | None,
             write: Callable[[str, Path | None], None]) -> int:
    """Run a scan and write its reports; returns the exit code (0 pass, 1 fail)."""
    threshold = threshold_of(fail_on)
    outcome = perform_scan(image, settings)
    write_reports(outcome, output_format=output_format, output=output, reports=reports,
                  write=write)
    return exit_code(outcome, threshold)


def write_reports(outcome: ScanOutcome, *, output_format: str, output: Path | None,
                  reports: Mapping[str, Path],
                  write: Callable[[str, Path | None], None]) -> None:
    """The main output (table or JSON, to ``output`` or stdout) and every ``--output-*``."""
    # The renderers (CycloneDX, SPDX libraries) load only when a report asks for them.
    from hullscan.report.formats import REPORT_FORMATS

    rendered = {name: REPORT_FORMATS[name].render(outcome) for name in reports}
    if output_format == "json":
        write(REPORT_FORMATS["json"].render(outcome), output)
    else:
        _write_table(outcome, output, write)
    for name, path in reports.items():
        write(rendered[name], path)


def _write_table(outcome: ScanOutcome, output: Path | None,
                 write: Callable[[str, Path | None], None]) -> None:
    """The rich table, to the terminal or as text to ``output`` (rich loads only here)."""
    from rich.console import Console

    from hullscan.report.policy_table import render_policy_table
    from hullscan.report.scan_table import render_table

    def render(console: Console) -> None:
        render_table(dict(outcome.document), console)
        if outcome.evaluation is not None:
            render_policy_table(outcome.evaluation, console)

    if output is None:
        # CI logs are no terminal; rich would assume 80 columns and cut the ids.
        render(Console(width=None if sys.stdout.isatty() else 140))
    else:
        console = Console(record=True, width=160, file=io.StringIO())
        render(console)
        write(console.export_text(), output)


def exit_code(outcome: ScanOutcome, threshold: Severity | None) -> int:
    """1 when the policy says STOP or a finding reaches ``--fail-on``; else 0."""
    failed = outcome.evaluation is not None and not outcome.evaluation.passed
    if threshold is not None:
        failed = failed or any(f.severity >= threshold for f in outcome.findings) or any(
            f.severity >= threshold for f in outcome.checks)
    return EXIT_FAILED_GATE if failed else 0


def _settings(config: Path | None) -> dict[str, object]:
    if config is not None:
        return read_config(config)
    default = Path(CONFIG_NAME)
    return read_config(default) if default.is_file() else {}


def threshold_of(fail_on: str | None) -> Severity | None:
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
