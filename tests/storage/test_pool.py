"""Pooled PostgreSQL connections: no ping per checkout, and a dead one costs no update."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot.channels.inbound import is_busy
from handlers.conversation import handle_incoming
from handlers.types import Incoming
from storage.db import make_engine
from storage.models import Report
from tests.pg import needs_postgresql
from tests.utils.clock import local_time
from tests.utils.coded import coded_schools

NOW = local_time("2026-11-23 08:00")


@pytest.fixture
def killer(database_url: str) -> Iterator[Engine]:
    """Another client of the same database, to end the pool's backends from outside."""
    other = make_engine(database_url)
    yield other
    other.dispose()


def backend_of(engine: Engine) -> int:
    """The server process behind the connection the pool will lend next (left idle in it)."""
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def terminate(killer: Engine, pid: int) -> None:
    """End a backend as an administrator (or a server restart) would, and wait until it is gone."""
    with killer.connect() as connection:
        ended = connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        assert ended.scalar_one()


def reply(engine: Engine, key: str, chat: str, text_: str) -> str:
    """Handle one reply the way the inbox does; the answer's text."""
    incoming = Incoming("telegram", chat, key, text=text_)
    (answer,) = handle_incoming(engine, incoming, now=NOW).messages
    return answer.text


def reports(engine: Engine) -> list[tuple[str, int | None]]:
    """(status, percent) of every stored report."""
    with Session(engine) as session:
        return [(r.status, r.percent) for r in session.exec(select(Report).order_by(Report.id))]


@needs_postgresql
def test_a_connection_the_server_closed_while_idle_costs_no_update(
    engine: Engine, killer: Engine, tmp_path: Path
) -> None:
    ((chat, code),) = coded_schools(engine, tmp_path).items()
    terminate(killer, backend_of(engine))

    answer = reply(engine, "u-1", chat, f"{code} 1 xong")

    assert "Đã ghi nhận" in answer and "Đã hoàn thành" in answer
    assert reports(engine) == [("done", 100)]


@needs_postgresql
def test_a_connection_lost_in_use_is_retried_once_on_a_fresh_one(
    engine: Engine, killer: Engine, tmp_path: Path
) -> None:
    ((chat, code),) = coded_schools(engine, tmp_path).items()
    with engine.connect() as connection:  # checked out alive, then its backend is ended
        pid = int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        connection.commit()
        terminate(killer, pid)
        with pytest.raises(DBAPIError) as lost:
            connection.exec_driver_sql("SELECT 1")
    assert lost.value.connection_invalidated and is_busy(lost.value)  # the inbox retries it

    answer = reply(engine, "u-1", chat, f"{code} 2 đạt 60%")  # the retry: the pool's next one

    assert "Đã ghi nhận" in answer
    assert reports(engine) == [("in_progress", 60)]
