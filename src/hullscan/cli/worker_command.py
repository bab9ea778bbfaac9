"""``hullscan worker``: a Celery worker that analyses queued digests against the shared store."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hullscan.cli.db_commands import DbOption, database_path
from hullscan.errors import HullscanError
from hullscan.service.settings import (
    BROKER_VARIABLE,
    CLAIM_STALE_AFTER,
    DATA_DIR_VARIABLE,
    DATABASE_URL_VARIABLE,
    DEFAULT_QUEUE,
    VISIBILITY_TIMEOUT,
    data_dir_from,
)

if TYPE_CHECKING:
    from hullscan.service.celery_app import Analyse
    from hullscan.service.operations import Service

# The Celery and SQLAlchemy stacks are imported inside the functions: `hullscan --version`
# and every other command must not pay for them.

TEST_DELAY_VARIABLE = "HULLSCAN_TEST_ANALYSIS_DELAY"
"""Test-only: seconds each analysis sleeps before pulling, so a test can kill a worker while
it holds a claim. Never set it in production."""

_MIGRATION_LOCK = 0x68756C6C  # "hull": serialises the schema upgrade of workers starting at once


def worker(
    broker: Annotated[str, typer.Option(
        "--broker", envvar=BROKER_VARIABLE,
        help="Broker URL: amqp://USER:PASS@HOST:5672// (RabbitMQ, preferred) or "
             "redis://HOST:6379/0.")],
    database_url: Annotated[str, typer.Option(
        "--database-url", envvar=DATABASE_URL_VARIABLE,
        help="The service's shared store: postgresql+psycopg://USER@HOST/DB.")],
    db: DbOption = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", envvar=DATA_DIR_VARIABLE, show_default=False,
        help="Working files (registry CA files); default $XDG_DATA_HOME/hullscan.")] = None,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", min=1, help="Jobs at once (1: in this process; more: a process pool).")
    ] = 1,
    queue: Annotated[str, typer.Option("--queue", help="Broker queue to consume.")
                     ] = DEFAULT_QUEUE,
    claim_stale_after: Annotated[float, typer.Option(
        "--claim-stale-after", min=1.0,
        help="Seconds without a heartbeat after which another worker takes a claim over.")
    ] = CLAIM_STALE_AFTER,
    visibility_timeout: Annotated[float, typer.Option(
        "--visibility-timeout", min=1.0,
        help="Redis only: seconds before an unacknowledged job goes to another worker.")
    ] = VISIBILITY_TIMEOUT,
    loglevel: Annotated[str, typer.Option("--loglevel", help="Celery log level.")] = "INFO",
) -> None:
    """Analyse queued images: run one Celery worker against the shared PostgreSQL store."""
    from hullscan.service.celery_app import WorkerSettings, make_celery
    from hullscan.service.operations import Service
    from hullscan.service.sealing import SecretBox
    from hullscan.service.store.database import Store

    if not database_url.startswith("postgresql"):
        raise HullscanError("workers share one store: give a PostgreSQL URL "
                            "(postgresql+psycopg://...)", subject="--database-url")
    SecretBox.from_environment()  # fail now, not at the first job
    vulnerability_db = database_path(db)
    if not vulnerability_db.is_file():
        raise HullscanError("no vulnerability database (run `hullscan db build` or "
                            "`hullscan db update`)", subject=str(vulnerability_db))
    directory = data_dir or data_dir_from(dict(os.environ))
    migrate_locked(database_url)
    settings = WorkerSettings(queue=queue, claim_stale_after=claim_stale_after,
                              visibility_timeout=visibility_timeout,
                              redis_restore_interval=min(10.0, visibility_timeout / 4))

    def service() -> Service:
        return Service(Store(database_url, upgrade=False), vulnerability_db,
                       SecretBox.from_environment(), directory)

    app = make_celery(broker, service, settings=settings, analyse=analysis_function())
    # A single job runs in this process (solo pool), so killing the process kills the job:
    # the broker then redelivers it. More jobs at once need the prefork pool.
    pool = "solo" if concurrency == 1 else "prefork"
    app.worker_main([
        "worker", "--pool", pool, "--concurrency", str(concurrency), "--queues", queue,
        "--loglevel", loglevel, "--hostname", f"hullscan-{os.getpid()}@%h",
        "--without-gossip", "--without-mingle",
    ])


def migrate_locked(url: str) -> None:
    """Bring the schema up to date once, however many workers start together."""
    from sqlalchemy import text

    from hullscan.service.store.database import make_engine, migrate

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            try:
                migrate(url)
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": _MIGRATION_LOCK})
    finally:
        engine.dispose()


def analysis_function() -> Analyse:
    """The analysis a worker runs: :func:`analyse_inventory`, delayed when a test asks."""
    from hullscan.image.sources.interface import AcquireOptions
    from hullscan.service.inventory import Inventory, analyse_inventory

    delay = float(os.environ.get(TEST_DELAY_VARIABLE) or 0)
    if delay <= 0:
        return analyse_inventory

    def delayed(reference: str, options: AcquireOptions) -> Inventory:
        time.sleep(delay)
        return analyse_inventory(reference, options)
    return delayed
