"""The migrations create exactly the schema the models describe."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.schema import current_revision, migrate


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migrate_is_idempotent(engine: Engine) -> None:
    before = current_revision(engine)
    migrate(engine)
    assert current_revision(engine) == before is not None


@pytest.mark.skipif(
    os.environ.get("DONDOC_TEST_DB", "sqlite") != "sqlite", reason="SQLite pragmas: SQLite pass"
)
def test_sqlite_runs_in_wal_mode(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_read_session_does_not_block_writers(engine: Engine) -> None:
    import threading

    from sqlmodel import select

    from storage.db import read_session, session_scope
    from storage.models import Unit

    def write() -> None:
        with session_scope(engine) as session:
            session.add(Unit(code="NEW", name="Đơn vị mới"))

    with read_session(engine) as session:
        session.exec(select(Unit)).all()  # the report's transaction is open now
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=5)
        assert not writer.is_alive(), "a write waited for a read-only session"
