"""Alembic environment: migrations run on the URL the service was configured with."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from hullscan.service.store.models import Base

target_metadata = Base.metadata


def run() -> None:
    """Online migrations (the service always has its database at hand)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
