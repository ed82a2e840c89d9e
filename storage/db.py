"""Engine and sessions: SQLite (WAL, busy timeout, immediate transactions) or PostgreSQL."""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Table, event, inspect
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session, SQLModel, create_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
READONLY = "dondoc_readonly"
# A server connection is replaced after this long, before idle-timeouts on the way (NAT,
# proxies) can cut it silently; a cut the server announces is seen at checkout (below).
POOL_RECYCLE_S = 1_800


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
    # No pre-ping: it cost a round trip per checkout, one in ten of a reply's (bench/RESULTS.md).
    # A connection the server has closed is dropped at checkout without a round trip
    # (`_drop_if_closed`); one that dies later fails its statement, which invalidates the pool,
    # and the caller retries once on the fresh connections (bot/channels/inbound.py: `is_busy`).
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_S)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkout", _drop_if_closed)
    return engine


def _drop_if_closed(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection whose server has hung up (the pool then opens another).

    An idle connection has nothing to read: a readable socket holds the server's goodbye
    (a terminated backend, a restart) or its end of file. One poll of the socket, no round trip.
    """
    fileno = getattr(dbapi_conn, "fileno", None)
    if fileno is None:
        return
    try:
        poller = select.poll()
        poller.register(fileno(), select.POLLIN)
    except (OSError, ValueError) as exc:  # closed on our side already
        raise DisconnectionError("connection closed") from exc
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection while it was idle")


class MissingDatabase(Exception):
    """The SQLite file of a URL does not exist (connecting to it would create an empty one)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no database file {path}")
        self.path = path


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another engine or an in-memory database."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a URI filename (`?uri=true`)
        if parsed.query.get("mode") == "memory" or database.startswith("file::memory:"):
            return None
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database)


def open_existing(url: str, **kwargs: Any) -> Engine:
    """An engine on a database that must already exist: a missing SQLite file is not created."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise MissingDatabase(path)
    return make_engine(url, **kwargs)


class _Stored(Protocol):
    """A row with an integer primary key."""

    id: int | None


def stored_id(row: _Stored) -> int:
    """The id of a row read from the database (or flushed to it): never None there."""
    assert row.id is not None, "a row that was never stored has no id"
    return row.id


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, for Core statements (SQLModel does not type `__table__`)."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


def is_sqlite(engine: Engine | Connection) -> bool:
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


BEFORE_STATEMENT = "dondoc_before_statement"  # Connection.info: what runs before each statement
_LISTENING = threading.Lock()


@contextmanager
def before_each_statement(connection: Connection, call: Callable[[], None]) -> Iterator[None]:
    """Run `call` before each statement executed on `connection` within the block.

    One listener per engine, installed once, finds the call in the connection's `info`; adding
    and removing listeners per transaction, from several threads, is what SQLAlchemy's event
    registry is not made for.
    """
    engine = connection.engine
    if not event.contains(engine, "before_execute", _before_statement):
        with _LISTENING:
            if not event.contains(engine, "before_execute", _before_statement):
                event.listen(engine, "before_execute", _before_statement)
    connection.info[BEFORE_STATEMENT] = call
    try:
        yield
    finally:
        connection.info.pop(BEFORE_STATEMENT, None)


def _before_statement(connection: Connection, *_: Any) -> None:
    """The engine's listener: the connection's call, if a block set one."""
    call = connection.info.get(BEFORE_STATEMENT)
    if call is not None:
        call()


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


def insert_ignore(
    session: Session | Connection, model: type[SQLModel], rows: list[dict[str, Any]]
) -> int:
    """Insert rows, silently skipping those that collide with a unique key; return inserted."""
    if not rows:
        return 0
    connection = session if isinstance(session, Connection) else session.connection()
    statement = _insert_ignore_statement(connection.dialect.name, model)
    # One statement compiled once and cached, run for every row (executemany).
    result = connection.execute(statement, rows)
    return max(result.rowcount or 0, 0)


@lru_cache(maxsize=64)
def _insert_ignore_statement(dialect: str, model: type[SQLModel]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for a table, per dialect."""
    # psycopg's rowcount for an INSERT is lost unless asked for (SQLite keeps it anyway).
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        on_postgresql = postgresql_insert(table_of(model)).on_conflict_do_nothing()
        return on_postgresql.execution_options(preserve_rowcount=True)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    on_sqlite = sqlite_insert(table_of(model)).on_conflict_do_nothing()
    return on_sqlite.execution_options(preserve_rowcount=True)


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
    def compile(cls, statement: ClauseElement, dialect: Dialect) -> DriverStatement:
        """Compile `statement` for `dialect`."""
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
        order = tuple(compiled.positiontup) if compiled.positiontup else None
        return cls(compiled.string, order, dict(compiled.params))

    def execute(self, connection: Any, values: dict[str, Any]) -> None:
        """Run the statement with `values` on a driver connection (autocommit: one round trip)."""
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
    """A pooled DBAPI connection in autocommit mode: each statement is its own transaction,
    one round trip (what a single statement run per message needs, and no more).

    SQLite's connections are in autocommit mode already, for SQLAlchemy's sake; a psycopg
    connection is put in it while it is lent out.
    """
    connection = engine.raw_connection()
    driver = None if is_sqlite(engine) else connection.driver_connection
    try:
        if driver is not None:
            driver.autocommit = True
        yield connection
    finally:
        if driver is not None:
            driver.autocommit = False
        connection.close()
