"""A database kept busy by another connection, as a long import or a stuck process would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from storage.db import is_sqlite, make_engine


@contextmanager
def locked(database_url: str, table: str = "inbound") -> Iterator[Callable[[], None]]:
    """Hold SQLite's write lock (BEGIN IMMEDIATE) or an exclusive lock on a PostgreSQL table.

    Yields `release`, which may be called early (it is called on exit anyway).
    """
    engine = make_engine(database_url, poolclass=NullPool)
    connection = engine.connect()
    transaction = connection.begin()  # SQLite: storage/db.py makes this BEGIN IMMEDIATE
    if not is_sqlite(engine):
        connection.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    held = {"lock": True}

    def release() -> None:
        if held["lock"]:
            held["lock"] = False
            transaction.rollback()
            connection.close()
            engine.dispose()

    try:
        yield release
    finally:
        release()


def impatient(database_url: str, *, wait_ms: int = 200) -> Engine:
    """An engine whose connections give up on a lock after `wait_ms` instead of 30 s."""
    engine = make_engine(database_url)

    @event.listens_for(engine, "connect")
    def _short_waits(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        if is_sqlite(engine):
            cursor.execute(f"PRAGMA busy_timeout = {wait_ms}")
        else:
            cursor.execute(f"SET lock_timeout = {wait_ms}")
            dbapi_connection.commit()  # type: ignore[attr-defined]
        cursor.close()

    return engine


class Waits:
    """An injected wait between retries: recorded, running `then` at the first one."""

    def __init__(self) -> None:
        self.seen: list[float] = []
        self.then: Callable[[], None] = lambda: None

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)
        if len(self.seen) == 1:
            self.then()
