"""One scheduler leader among the `dondoc run` processes sharing a database.

Every process serves chats, but only the leader runs the minute tick, so reminders are planned
and sent by one process under one rate limiter (25 messages/s overall). On PostgreSQL the leader
holds a session advisory lock on a dedicated connection for as long as it lives; when it dies
its connection drops, the server releases the lock, and whichever process asks next (every tick)
takes over. On a SQLite file the same is done with an exclusive `flock` on a lock file beside the
database, which the kernel releases when the holder dies: a second `dondoc run` started on the
same file by mistake stands by instead of doubling the send rate. A clean shutdown unlocks
explicitly, so the lock is free when `release()` returns (closing a connection frees it only once
the server has noticed).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import IO, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

fcntl: ModuleType | None
try:
    fcntl = importlib.import_module("fcntl")
except ImportError:  # not POSIX: no lock file, a single process is assumed
    fcntl = None

logger = logging.getLogger(__name__)

LOCK_NAME = "dondoc.scheduler"
# Advisory locks are keyed by a 64-bit integer, scoped to the database.
LOCK_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)
CONNECT_TIMEOUT_S = 10


class Leadership(Protocol):
    """Tells whether this process is the scheduler leader, taking the lead when it is free."""

    def is_leader(self) -> bool:
        """Whether this process leads now (tries to take the lead if nobody holds it)."""
        ...

    def release(self) -> None:
        """Give the lead up (at shutdown)."""
        ...


class SoleLeader:
    """A database no other process can share (SQLite in memory): this process leads."""

    def is_leader(self) -> bool:
        """Always."""
        return True

    def release(self) -> None:
        """Nothing to release."""


class AdvisoryLockLeader:
    """PostgreSQL: `pg_try_advisory_lock` held on a connection of its own."""

    def __init__(self, engine: Engine, *, key: int = LOCK_KEY) -> None:
        # Its own unpooled engine: the lock belongs to a session, and a pooled connection would
        # carry it to whatever borrowed the connection next.
        self._engine = create_engine(
            engine.url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        )
        self._key = key
        self._conn: Connection | None = None
        self._leading = False
        self._standing_by = False

    def is_leader(self) -> bool:
        """Keep the lead while the connection lives; otherwise try to take the lock."""
        try:
            conn = self._connection()
            if self._leading:
                conn.exec_driver_sql("SELECT 1")  # the session, hence the lock, is still there
                return True
            taken = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar()
        except DBAPIError as exc:
            if self._leading:
                logger.warning("scheduler leadership lost: its database connection failed")
            else:
                logger.warning("cannot reach the database to elect a scheduler leader: %s", exc)
            self._close()
            return False
        if taken:
            self._leading, self._standing_by = True, False
            logger.info("this process is now the scheduler leader")
        elif not self._standing_by:
            self._standing_by = True
            logger.info("another process is the scheduler leader; this one stands by")
        return bool(taken)

    def release(self) -> None:
        """Unlock, so the lead is free when this returns, then close the connection."""
        if self._leading and self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            except DBAPIError:
                pass  # the connection is broken: the server frees the lock with the session
        self._close()
        self._engine.dispose()

    def _connection(self) -> Connection:
        """The dedicated connection, opened on first use or after a failure."""
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def _close(self) -> None:
        """Drop the connection (and with it any lock it held)."""
        self._leading = False
        if self._conn is not None:
            try:
                self._conn.close()
            except DBAPIError:
                pass  # already broken: closing is all that was asked
            self._conn = None


class LockFileLeader:
    """SQLite file: an exclusive, non-blocking `flock` on `<database>.leader`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None
        self._standing_by = False
        self._unlockable = False

    def is_leader(self) -> bool:
        """Hold the lock once taken; otherwise try to take it."""
        if self._handle is not None or self._unlockable:
            return True
        try:
            handle = self.path.open("ab")
        except OSError as exc:  # no lock file possible: fall back to the single-process rule
            logger.warning("cannot open %s (%s); assuming this is the only process", self.path, exc)
            self._unlockable = True
            return True
        assert fcntl is not None, "a lock file leader is only built where fcntl exists"
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            if not self._standing_by:
                self._standing_by = True
                logger.info("another process holds %s; this one stands by", self.path)
            return False
        self._handle, self._standing_by = handle, False
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        logger.info("this process is now the scheduler leader")
        return True

    def release(self) -> None:
        """Unlock the file, then close it."""
        if self._handle is not None and fcntl is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def scheduler_leader(engine: Engine) -> Leadership:
    """The leader election that fits the engine's database."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeader(engine)
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    if in_memory or fcntl is None or database is None:
        return SoleLeader()
    return LockFileLeader(Path(database).with_name(Path(database).name + ".leader"))
