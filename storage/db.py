"""Engine and sessions: SQLite (WAL, busy timeout, immediate transactions) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql import Executable
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
READONLY = "dondoc_readonly"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url`, tuned for dondoc's write pattern."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def is_sqlite(engine: Engine) -> bool:
    """Tell whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def _tune_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE so writers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (pysqlite's own handling is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that later writes can hit SQLITE_BUSY without waiting;
        # taking the write lock up front makes concurrent ticks wait their turn instead.
        # Read-only sessions (reports) take no write lock: WAL readers never block writers.
        readonly = conn.get_execution_options().get(READONLY, False)
        # Straight to the driver: this runs at every transaction, SQLAlchemy's path costs more.
        conn.connection.driver_connection.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for long reads (reports): on SQLite it does not hold the write lock."""
    with Session(engine.execution_options(**{READONLY: True})) as session:
        yield session


def insert_ignore(session: Session, model: type, rows: list[dict[str, Any]]) -> int:
    """Insert rows, silently skipping those that collide with a unique key; return inserted."""
    if not rows:
        return 0
    statement = _insert_ignore_statement(session.get_bind().dialect.name, model)
    # One statement compiled once and cached, run for every row (executemany).
    result = session.connection().execute(statement, rows)
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


@lru_cache(maxsize=64)
def _insert_ignore_statement(dialect: str, model: type) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for a table, per dialect."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = model.__table__  # type: ignore[attr-defined]
    # psycopg's rowcount for an INSERT is lost unless asked for (SQLite keeps it anyway).
    return insert(table).on_conflict_do_nothing().execution_options(preserve_rowcount=True)


@dataclass(frozen=True)
class DriverStatement:
    """A Core statement compiled once to the driver's SQL, for statements run once per message.

    It runs on a `driver_connection`, past SQLAlchemy's per-call machinery, so its values must
    be plain integers and strings (no datetimes, no JSON).
    """

    sql: str
    order: tuple[str, ...] | None  # parameter names in order (positional styles), else None
    fixed: dict[str, Any]  # values written into the statement itself (literals in `values()`)

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect) -> DriverStatement:
        """Compile `statement` for `dialect`."""
        compiled = statement.compile(dialect=dialect)
        order = tuple(compiled.positiontup) if compiled.positiontup else None
        return cls(compiled.string, order, dict(compiled.params))

    def execute(self, connection: Any, values: dict[str, Any]) -> None:
        """Run the statement with `values` on a driver connection (commit is the caller's)."""
        params = {**self.fixed, **values}
        cursor = connection.cursor()
        try:
            cursor.execute(
                self.sql, tuple(params[name] for name in self.order) if self.order else params
            )
        finally:
            cursor.close()


@contextmanager
def driver_connection(engine: Engine) -> Iterator[Any]:
    """A pooled DBAPI connection where writes open a transaction that `commit()` ends.

    That is psycopg's own behaviour; SQLite's connections are in autocommit mode for
    SQLAlchemy's sake, so this one opens BEGIN IMMEDIATE before a write while it is lent out.
    """
    connection = engine.raw_connection()
    sqlite = is_sqlite(engine)
    try:
        if sqlite:
            connection.driver_connection.isolation_level = "IMMEDIATE"  # type: ignore[union-attr]
        yield connection
    finally:
        connection.rollback()  # nothing uncommitted survives a failure
        if sqlite:
            connection.driver_connection.isolation_level = None  # type: ignore[union-attr]
        connection.close()
