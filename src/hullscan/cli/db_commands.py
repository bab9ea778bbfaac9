"""``hullscan db``: build, update, inspect, export and import the vulnerability database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from hullscan.errors import HullscanError

db_app = typer.Typer(help="Build, update and move the vulnerability database.",
                     no_args_is_help=True)

DbOption = Annotated[Path | None, typer.Option(
    "--db", help="Database file (default $HULLSCAN_DB, else the user cache directory).",
    show_default=False)]


def database_path(db: Path | None) -> Path:
    """The database file a command uses."""
    from hullscan.vuln.db.store import default_database_path
    return db if db is not None else default_database_path()


@db_app.command("build")
def build(
    sources: Annotated[list[Path], typer.Option(
        "--from", help="Feed files, folders or zips (repeatable); recognised by content.")],
    db: DbOption = None,
) -> None:
    """Build a new database from local feed files, then swap it in atomically."""
    from hullscan.vuln.db.build import build_database

    for source in sources:
        if not source.exists():
            raise HullscanError("no such file or folder", subject=f"--from {source}")
    target = database_path(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    report = build_database(sources, target)
    for name, count in sorted(report.sources.items()):
        typer.echo(f"{name:24} {count:>9,} records")
    for failure in report.failures:
        typer.echo(f"warning: {failure}", err=True)
    typer.echo(f"built {target} from {report.documents:,} documents in {report.seconds:.1f} s")


@db_app.command("update")
def update(
    db: DbOption = None,
    cache_dir: Annotated[Path | None, typer.Option(
        "--cache-dir", help="Where downloaded feeds are kept for conditional requests.")] = None,
    nvd_api_key: Annotated[str | None, typer.Option(
        "--nvd-api-key", envvar="HULLSCAN_NVD_API_KEY",
        help="NVD API key (raises NVD's rate limit).")] = None,
    no_nvd: Annotated[bool, typer.Option("--no-nvd", help="Skip the NVD API feed.")] = False,
) -> None:
    """Download the feeds (conditionally), build a new database and swap it in atomically.

    Every feed URL can be changed with HULLSCAN_FEED_<NAME> (``off`` drops the feed).
    """
    from hullscan.vuln.db.download import default_feeds, update_database

    target = database_path(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    cache = cache_dir or target.parent / "feeds"
    report = update_database(target, default_feeds(include_nvd=not no_nvd, environ=os.environ),
                             cache, nvd_api_key=nvd_api_key)
    typer.echo(f"downloaded {len(report.downloaded)}, unchanged {len(report.not_modified)}; "
               f"database {target}")


@db_app.command("status")
def status(db: DbOption = None) -> None:
    """Location, schema version, build time and each source's record count and date."""
    from hullscan.vuln.db.store import VulnerabilityDatabase

    with VulnerabilityDatabase.open(database_path(db)) as database:
        state = database.status()
    typer.echo(f"location        {state.location}")
    typer.echo(f"schema version  {state.schema_version}")
    typer.echo(f"built           {state.built_at}")
    for source in state.sources:
        typer.echo(f"  {source.name:24} {source.records:>9,}  data {source.data_date or '-'}")


@db_app.command("export")
def export(file: Annotated[Path, typer.Argument(help="Compressed export to write.")],
           db: DbOption = None) -> None:
    """Write the database as one compressed file with a checksum (air gaps, CI caches)."""
    from hullscan.vuln.db.download import export_database

    written = export_database(database_path(db), file)
    typer.echo(f"exported to {written}")


@db_app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="An export written by db export.")],
            db: DbOption = None) -> None:
    """Verify an export's checksum and swap it in as the database."""
    from hullscan.vuln.db.download import import_database

    if not file.is_file():
        raise HullscanError("no such file", subject=str(file))
    state = import_database(file, database_path(db))
    typer.echo(f"imported {file} into {state.location}")
