"""Alembic environment: migrates the engine handed over by storage.schema."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    """Run migrations on the connection given in config attributes, or on the URL."""
    connection = config.attributes.get("connection")
    if connection is None:
        from storage.db import make_engine

        url = config.get_main_option("sqlalchemy.url")
        assert url is not None, "storage/schema.py gives a connection or a URL"
        engine = make_engine(url)
        with engine.connect() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection: Connection) -> None:
    """Configure the context on a connection and run the upgrade."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
