"""``hullscan policy``: the gate catalogue, bundle validation and the bundle schema."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

policy_app = typer.Typer(no_args_is_help=True, help="Policy bundles: gates, validation, schema.")


class CatalogueFormat(StrEnum):
    """How ``policy gates`` prints."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


@policy_app.command("gates")
def gates(output_format: Annotated[CatalogueFormat, typer.Option("--format", "-f")] =
          CatalogueFormat.TABLE) -> None:
    """Every gate, its triggers and their parameters."""
    from hullscan.policy.gates import GATES

    if output_format is CatalogueFormat.MARKDOWN:
        from hullscan.policy.catalogue import gates_markdown

        sys.stdout.write(gates_markdown())
        return
    if output_format is CatalogueFormat.JSON:
        sys.stdout.write(json.dumps([gate.describe() for gate in GATES], indent=2) + "\n")
        return
    from rich.console import Console  # rich only for the table (a few hundredths of a second)
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 140)
    for gate in GATES:
        table = Table(title=f"[bold]{gate.name}[/bold]: {gate.description}", title_justify="left",
                      show_lines=False, expand=False)
        table.add_column("trigger", style="cyan", no_wrap=True)
        table.add_column("description")
        table.add_column("parameters")
        for trigger in gate.triggers:
            params = "\n".join(
                f"{p.name} ({p.kind.value}{', required' if p.required else ''}"
                f"{', one of ' + '/'.join(p.choices) if p.choices else ''}"
                f"{', default ' + str(p.default) if p.default is not None else ''}): "
                f"{p.description}" for p in trigger.params) or "-"
            table.add_row(trigger.name, trigger.description, params)
        console.print(table)


@policy_app.command("check")
def check(bundle: Annotated[Path, typer.Argument(help="Policy bundle (YAML or JSON).")]) -> None:
    """Validate a bundle: every problem with its file, line, path and reason (exit 2)."""
    from hullscan.policy.load import BundleError, load_bundle

    try:
        loaded = load_bundle(bundle)
    except BundleError as error:
        for problem in error.problems:
            print(f"hullscan: error: {problem.render(error.source)}", file=sys.stderr)
        raise typer.Exit(2) from None
    rules = sum(len(p.rules) for p in loaded.policies)
    items = sum(len(a.items) for a in loaded.allowlists)
    print(f"{bundle}: valid policy bundle {loaded.id!r}: {len(loaded.policies)} policies, "
          f"{rules} rules, {len(loaded.allowlists)} allowlists ({items} items), "
          f"{len(loaded.mappings)} mappings")


@policy_app.command("schema")
def schema() -> None:
    """Print the bundle's JSON Schema."""
    from hullscan.policy.schema import BUNDLE_SCHEMA

    sys.stdout.write(json.dumps(BUNDLE_SCHEMA, indent=2) + "\n")
