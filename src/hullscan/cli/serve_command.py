"""``hullscan serve``: the continuous scanning service's HTTP API with an in-process worker
pool. Register with ``app.command()(serve)``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hullscan.cli.db_commands import DbOption, database_path
from hullscan.errors import HullscanError
from hullscan.service.settings import (
    ALLOW_PRIVATE_NETWORKS_VARIABLE,
    ALLOWED_NETWORKS_VARIABLE,
    BROKER_VARIABLE,
    DATA_DIR_VARIABLE,
    default_data_dir,
)

if TYPE_CHECKING:
    import threading

    from hullscan.service.egress import EgressPolicy
    from hullscan.service.operations import Service
    from hullscan.service.queue import JobQueue


def build_service(data_dir: Path | None = None, database_url: str | None = None,
                  db: Path | None = None, egress: EgressPolicy | None = None) -> Service:
    """The service over ``database_url`` (default: SQLite in ``data_dir``), migrated, with the
    vulnerability database ``db``, the secret key from ``HULLSCAN_SECRET_KEY`` and the egress
    guard ``egress`` (default: ``HULLSCAN_ALLOWED_NETWORKS``)."""
    from hullscan.service.operations import Service
    from hullscan.service.sealing import SecretBox
    from hullscan.service.store.database import Store, default_database_url

    directory = data_dir or default_data_dir()
    box = SecretBox.from_environment()
    directory.mkdir(parents=True, exist_ok=True)
    store = Store(database_url or default_database_url(directory))
    return Service(store, database_path(db), box, directory, egress=egress)


def _create_token(data_dir: Path | None, database_url: str | None, name: str,
                  scopes: str) -> None:
    from hullscan.service.store.database import Store, default_database_url
    from hullscan.service.tokens import create_token, parse_scopes

    directory = data_dir or default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    store = Store(database_url or default_database_url(directory))
    try:
        issued = create_token(store, name, parse_scopes(scopes.replace(",", " ").split()))
    finally:
        store.close()
    typer.echo(issued.secret)
    typer.echo(f"token {issued.info.id} ({' '.join(issued.info.scopes)}) for {name}: shown "
               "once, store it now", err=True)


def _resume_queued(service: Service, submit: Callable[[str], None]) -> int:
    """Submit every analysis still queued (jobs of the in-process pool die with it)."""
    from sqlalchemy import select

    from hullscan.service.store.models import Analysis, AnalysisStatus

    with service.store.session() as session:
        digests = list(session.scalars(select(Analysis.digest).where(
            Analysis.status == AnalysisStatus.QUEUED)))
    for digest in digests:
        submit(digest)
    return len(digests)


def serve(
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", envvar=DATA_DIR_VARIABLE, show_default=False,
        help="Where the service keeps its files (default ~/.local/share/hullscan/service).")
    ] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", envvar="HULLSCAN_DATABASE_URL", show_default=False,
        help="sqlite:///FILE or postgresql+psycopg://USER@HOST/DB (default: SQLite file in "
             "the data directory).")] = None,
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Analyses run at once (in-process pool).")] = 2,
    max_request_bytes: Annotated[int, typer.Option(
        "--max-request-bytes", min=1, help="Larger request bodies get 413.")
    ] = 10 * 1024 * 1024,
    generate_key: Annotated[bool, typer.Option(
        "--generate-key", help="Print a new HULLSCAN_SECRET_KEY and exit.")] = False,
    create_token: Annotated[str | None, typer.Option(
        "--create-token", metavar="NAME", show_default=False,
        help="Create an API token named NAME, print it and exit.")] = None,
    scopes: Annotated[str, typer.Option(
        "--scopes", help="Scopes of --create-token: read, write, admin (comma-separated).")
    ] = "admin",
    broker: Annotated[str | None, typer.Option(
        "--broker", envvar=BROKER_VARIABLE, show_default=False,
        help="Send analyses to Celery workers (`hullscan worker`) through this broker "
             "instead of the in-process pool.")] = None,
    scheduler: Annotated[bool, typer.Option(
        "--scheduler/--no-scheduler",
        help="Run the scheduler (watches, database updates, re-matching, webhooks) in this "
             "process; one is active across processes either way.")] = True,
    db_update_interval: Annotated[float, typer.Option(
        "--db-update-interval", min=0.0,
        help="Seconds between vulnerability database updates (0: never).")] = 6 * 3600.0,
    poll_interval: Annotated[float, typer.Option(
        "--poll-interval", min=1.0, help="Seconds between scheduler rounds.")] = 30.0,
    harbor_port: Annotated[int | None, typer.Option(
        "--harbor-port", min=1, max=65535, show_default=False,
        help="Also serve the Harbor scanner adapter API on this port.")] = None,
    harbor_token: Annotated[str | None, typer.Option(
        "--harbor-token", envvar="HULLSCAN_HARBOR_TOKEN", show_default=False,
        help="The token Harbor must send to the adapter (its 'access credential').")] = None,
    allow_network: Annotated[list[str] | None, typer.Option(
        "--allow-network", envvar=ALLOWED_NETWORKS_VARIABLE, metavar="CIDR",
        show_default=False,
        help="Let registries and webhooks named through the API resolve to this network "
             "although it is not public (repeatable; 'private' for RFC 1918, loopback and "
             "ULA). Metadata addresses need their own /32 or /128.")] = None,
    allow_private_networks: Annotated[bool, typer.Option(
        "--allow-private-networks", envvar=ALLOW_PRIVATE_NETWORKS_VARIABLE,
        help="Same as --allow-network private.")] = False,
) -> None:
    """Run the scanning service: HTTP API (/v1, /openapi.json) and analysis workers."""
    if generate_key:
        from hullscan.service.sealing import SecretBox

        typer.echo(SecretBox.generate_key())
        return
    if create_token is not None:
        _create_token(data_dir, database_url, create_token, scopes)
        return
    import threading

    import uvicorn

    from hullscan.service.api import create_app
    from hullscan.service.egress import EgressPolicy
    from hullscan.service.queue import InProcessQueue
    from hullscan.service.rematch import notify_change

    egress = EgressPolicy.from_settings(allow_network or (),
                                        allow_private=allow_private_networks)
    service = build_service(data_dir, database_url, db, egress)
    if not service.database_path.is_file():
        raise HullscanError("no vulnerability database; run `hullscan db update` first",
                            subject=str(service.database_path))
    queue: JobQueue
    if broker:
        from hullscan.service.celery_app import CeleryQueue

        queue = CeleryQueue(broker)
    else:
        queue = InProcessQueue(service, workers)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        resumed = _resume_queued(service, queue.submit)
        if resumed:
            typer.echo(f"resumed {resumed} queued analyses", err=True)
        if scheduler:
            threads.append(_start_scheduler(service, queue, stop, db_update_interval,
                                            poll_interval))
        if harbor_port is not None:
            threads.append(_start_harbor(service, host, harbor_port, harbor_token))
        app = create_app(service, queue, max_request_bytes=max_request_bytes,
                         on_change=partial(notify_change, service))
        uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        queue.close()
        service.store.close()


def _start_scheduler(service: Service, queue: JobQueue, stop: threading.Event,
                     db_update_interval: float, poll_interval: float) -> threading.Thread:
    """The scheduler on a daemon thread of this process (it takes the lease when free)."""
    import threading

    from hullscan.service.scheduler import Scheduler, SchedulerConfig, download_update

    runner = Scheduler(service, queue, config=SchedulerConfig(
        poll_interval=poll_interval, db_update_interval=db_update_interval or None),
        update_database=download_update(service.data_dir / "feeds"))
    thread = threading.Thread(target=runner.run_forever, args=(stop,), daemon=True,
                              name="hullscan-scheduler")
    thread.start()
    return thread


def _start_harbor(service: Service, host: str, port: int, token: str | None
                  ) -> threading.Thread:
    """The Harbor adapter's own server, on its own port and token, on a daemon thread."""
    import threading

    import uvicorn

    from hullscan.service.harbor import create_harbor_app

    if not token:
        raise HullscanError("the Harbor adapter needs its own token (Harbor's access "
                            "credential)", subject="--harbor-token")
    server = uvicorn.Server(uvicorn.Config(create_harbor_app(service, None, token), host=host,
                                           port=port, log_level="info", server_header=False))
    thread = threading.Thread(target=server.run, daemon=True, name="hullscan-harbor")
    thread.start()
    return thread
