"""The service's store: SQLAlchemy models, Alembic migrations, sessions."""
