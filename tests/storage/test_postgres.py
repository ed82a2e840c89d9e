"""What PostgreSQL does differently from SQLite, and the tests' own PostgreSQL server."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scheduler.dispatcher import Dispatcher
from scheduler.planner import plan_due_reminders
from scheduler.ratelimit import unlimited
from storage.db import insert_ignore
from storage.models import Contact, Inbound, Outbox
from tests import pg
from tests.pg import PostgresServer, PostgresUnavailable, needs_postgresql
from tests.utils.clock import local_time
from tests.utils.senders import RecordingSender
from tests.utils.world import build_world

NOW = local_time("2026-11-23 08:00")


def test_insert_ignore_counts_only_the_new_rows(session: Session) -> None:
    def row(key: str) -> dict[str, object]:
        return {"channel": "zalo", "update_key": key, "payload": {}, "received_at": NOW}

    assert insert_ignore(session, Inbound, [row("a"), row("b")]) == 2
    assert insert_ignore(session, Inbound, [row("a")]) == 0
    assert insert_ignore(session, Inbound, [row("b"), row("c")]) == 1
    assert insert_ignore(session, Inbound, []) == 0


@needs_postgresql
def test_dispatch_skips_rows_another_worker_has_locked(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=6)
    plan_due_reminders(engine, now=NOW)
    sender = RecordingSender()
    dispatcher = Dispatcher(engine, {"telegram": sender}, limiter=unlimited())
    with engine.connect() as other:  # another worker, in the middle of its claim
        locked = (
            other.execute(text("SELECT id FROM outbox ORDER BY id LIMIT 3 FOR UPDATE"))
            .scalars()
            .all()
        )
        worker = threading.Thread(target=lambda: asyncio.run(dispatcher.dispatch(now=NOW)))
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive(), "dispatch waited for the other worker's locks"
        other.rollback()
    with Session(engine) as session:
        rows = session.exec(select(Outbox, Contact).join(Contact)).all()
    skipped = {contact.chat_id for row, contact in rows if row.id in locked}
    assert {row.status for row, _ in rows if row.id in locked} == {"pending"}
    assert sorted(sender.chats) == sorted(set(world.school_chats.values()) - skipped)


@needs_postgresql
def test_the_test_server_is_a_throwaway_tuned_for_speed(postgres: PostgresServer) -> None:
    with postgres.connect() as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'listen_addresses')"
            ).fetchall()
        )
        assert settings == {"fsync": "off", "listen_addresses": "127.0.0.1"}
    if os.geteuid() == 0:  # initdb refuses root: the server runs as an unprivileged account
        assert postgres.data.stat().st_uid != 0


@needs_postgresql
def test_a_server_that_cannot_start_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, postgres: PostgresServer
) -> None:
    monkeypatch.setattr(pg, "free_port", lambda: postgres.port)  # taken by the session's server
    doomed = PostgresServer()
    with pytest.raises(PostgresUnavailable, match="did not start"):
        doomed.start()
    doomed.stop()
    assert doomed.root is not None and not doomed.root.exists()


def test_the_pass_backend_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DONDOC_TEST_DB", "PostgreSQL")
    assert pg.selected_backend() == "postgresql"
    monkeypatch.delenv("DONDOC_TEST_DB")
    assert pg.selected_backend() == "sqlite"
    monkeypatch.setenv("DONDOC_TEST_DB", "mysql")
    with pytest.raises(pytest.UsageError):
        pg.selected_backend()
