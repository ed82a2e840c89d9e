"""Stored inbound rows: an update kept before it is answered, found again, set aside, counted.

The storing half of the shared inbound loop (bot/channels/inbox.py holds the handling half).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, col, select

from handlers.types import Incoming
from scheduler.quota import count_sent as count_sent_in
from storage.db import insert_ignore, is_sqlite, session_scope, table_of
from storage.models import Inbound


class StoreFailed(Exception):
    """The update could not be stored: the platform must be asked to send it again."""


def is_busy(exc: BaseException) -> bool:
    """Whether a database error is worth retrying: locked, timed out, connection lost."""
    # sqlite3's own error too: storage/db.py sends BEGIN IMMEDIATE to the driver, unwrapped.
    if isinstance(exc, OperationalError | PoolTimeout | sqlite3.OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def store(
    engine: Engine,
    incoming: Incoming,
    raw: dict[str, Any],
    *,
    now: datetime,
    lock_wait: float | None = None,
) -> bool:
    """Insert the update unhandled and commit; False when it was stored before.

    `lock_wait` bounds how long a locked database is waited for (the engine's default if None).
    """
    row = _row(incoming, raw, now)
    sqlite = is_sqlite(engine)
    with engine.connect() as connection:
        usual = None  # SQLite: the wait is set before BEGIN IMMEDIATE, which is what waits
        if lock_wait is not None and sqlite:
            usual = _busy_timeout(connection, int(lock_wait * 1000))
        try:
            with connection.begin():
                if lock_wait is not None and not sqlite:
                    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_wait * 1000)}")
                return insert_ignore(connection, Inbound, [row]) > 0
        finally:
            if usual is not None:
                _busy_timeout(connection, usual)


def store_many(
    engine: Engine, updates: list[tuple[Incoming, dict[str, Any]]], *, now: datetime
) -> set[str]:
    """Insert a polled batch unhandled in one transaction; the update keys not stored before."""
    if not updates:
        return set()
    rows = [_row(incoming, raw, now) for incoming, raw in updates]
    with engine.begin() as connection:
        statement = _store_returning(connection.dialect.name)
        return set(connection.execute(statement, rows).scalars())


@lru_cache(maxsize=2)
def _store_returning(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING update_key: one statement for a whole batch."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = table_of(Inbound)
    return insert(table).on_conflict_do_nothing().returning(table.c.update_key)


def _row(incoming: Incoming, raw: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The inbound row of an update, unhandled."""
    return {
        "channel": incoming.channel,
        "update_key": incoming.update_key,
        "chat_id": incoming.chat_id,
        "payload": raw,
        "received_at": now,
        "handled_at": None,
    }


def _busy_timeout(connection: Connection, milliseconds: int) -> int:
    """Set how long this SQLite connection waits for the write lock; return the former wait."""
    driver = connection.connection.driver_connection
    assert driver is not None
    (former,) = driver.execute("PRAGMA busy_timeout").fetchone()
    driver.execute(f"PRAGMA busy_timeout = {milliseconds}")
    return int(former)


def unhandled(
    engine: Engine, *, channel: str, before: datetime | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(update key, raw update) of the channel's unhandled rows, oldest first."""
    query = select(Inbound.update_key, Inbound.payload).where(
        col(Inbound.channel) == channel, col(Inbound.handled_at).is_(None)
    )
    if before is not None:
        query = query.where(col(Inbound.received_at) <= before)
    with Session(engine) as session:
        rows = session.exec(query.order_by(col(Inbound.id)))
        return [(key, dict(payload)) for key, payload in rows]


def set_aside(engine: Engine, *, channel: str, update_key: str, now: datetime) -> None:
    """Mark a row that cannot be handled as done, so that it is not tried again and again."""
    with session_scope(engine) as session:
        session.execute(
            update(Inbound)
            .where(
                col(Inbound.channel) == channel,
                col(Inbound.update_key) == update_key,
                col(Inbound.handled_at).is_(None),
            )
            .values(handled_at=now)
        )


def count_sent(engine: Engine, *, channel: str, now: datetime, count: int) -> None:
    """Add replies sent outside the dispatcher to the channel's monthly count."""
    if count > 0:
        with session_scope(engine) as session:
            count_sent_in(session, channel, now, count)
