"""``hullscan scheduler``: the continuous loop as its own process (scaled-out deployments).

Any number may run; the database lease keeps exactly one active, the others wait to take
over.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from hullscan.cli.db_commands import DbOption, database_path
from hullscan.errors import HullscanError
from hullscan.service.settings import (
    BROKER_VARIABLE,
    DATA_DIR_VARIABLE,
    DATABASE_URL_VARIABLE,
    default_data_dir,
)


def scheduler(
    database_url: Annotated[str | None, typer.Option(
        "--database-url", envvar=DATABASE_URL_VARIABLE, show_default=False,
        help="The service's store: sqlite:///FILE or postgresql+psycopg://USER@HOST/DB "
             "(default: SQLite in the data directory).")] = None,
    db: DbOption = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", envvar=DATA_DIR_VARIABLE, show_default=False,
        help="Working files (SQLite store, feed cache, registry CA files); default "
             "$XDG_DATA_HOME/hullscan.")] = None,
    db_update_interval: Annotated[float, typer.Option(
        "--db-update-interval", min=0.0,
        help="Seconds between vulnerability database updates; 0: never (the database file "
             "is replaced by other means; changes are still noticed and re-matched).")
    ] = 6 * 3600.0,
    poll_interval: Annotated[float, typer.Option(
        "--poll-interval", min=0.1,
        help="Seconds between rounds (watches due, update due, re-match, webhooks).")] = 30.0,
    lease_seconds: Annotated[float, typer.Option(
        "--lease-seconds", min=5.0,
        help="How long the active scheduler's lease lasts without renewal.")] = 120.0,
    broker: Annotated[str | None, typer.Option(
        "--broker", envvar=BROKER_VARIABLE, show_default=False,
        help="Send analyses to `hullscan worker`s over this Celery broker (amqp://... or "
             "redis://...); default: analyse in this process.")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="In-process analysis threads (without --broker).")] = 2,
    include_nvd: Annotated[bool, typer.Option(
        "--nvd/--no-nvd", help="Include the NVD API feed in database updates.")] = False,
) -> None:
    """Poll watched tags and repositories, update the vulnerability database on a schedule,
    re-match stored images after each change and deliver webhooks; runs until stopped."""
    from hullscan.service.operations import Service
    from hullscan.service.queue import InProcessQueue, JobQueue
    from hullscan.service.scheduler import Scheduler, SchedulerConfig, download_update
    from hullscan.service.sealing import SecretBox
    from hullscan.service.store.database import Store, default_database_url

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s "
                        "%(message)s")
    box = SecretBox.from_environment()
    directory = data_dir or default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    vulnerability_db = database_path(db)
    store = Store(database_url or default_database_url(directory))
    service = Service(store, vulnerability_db, box, directory)
    queue: JobQueue
    if broker:
        try:
            from hullscan.service.celery_app import CeleryQueue
        except ImportError as error:
            raise HullscanError(f"Celery support is not available ({error})",
                                subject="--broker") from None
        queue = CeleryQueue(broker)
    else:
        queue = InProcessQueue(service, workers=workers)
    config = SchedulerConfig(poll_interval=poll_interval,
                             db_update_interval=db_update_interval or None,
                             lease_seconds=lease_seconds)
    runner = Scheduler(service, queue, config=config,
                       update_database=download_update(directory / "feeds",
                                                       include_nvd=include_nvd))
    stop = threading.Event()

    def _stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(f"scheduler {runner.holder}: store {store.engine.url!r}, database "
               f"{vulnerability_db}", err=True)
    try:
        runner.run_forever(stop)
    finally:
        queue.close()
        store.close()
