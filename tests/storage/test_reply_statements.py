"""The statements one report reply costs: each is a round trip on PostgreSQL (bench/RESULTS.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from handlers.conversation import handle_incoming
from handlers.types import Incoming
from tests.utils.clock import local_time
from tests.utils.coded import coded_schools

NOW = local_time("2026-11-23 08:00")
# Store the update, the chat's contacts, the coded task (with whether it has indicators and
# whether the chat has a pending step), the report with its occurrence's summary: one statement
# on PostgreSQL, two on SQLite. Before: 7 statements, and a ping per checkout on PostgreSQL.
BOUND = {"postgresql": 4, "sqlite": 5}


def test_a_report_reply_runs_the_fewest_statements(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ((chat, code),) = coded_schools(engine, tmp_path).items()
    run: list[str] = []
    pings: list[Any] = []
    event.listen(engine, "before_cursor_execute", lambda *args: run.append(args[2]))
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)

    outcome = handle_incoming(
        engine,
        Incoming("telegram", chat, "u-1", text=f"{code} 1 Đã xong, đã gửi biên bản"),
        now=NOW,
    )

    (answer,) = outcome.messages
    assert "Đã ghi nhận" in answer.text and "Đã hoàn thành" in answer.text
    assert not pings, "a ping per checkout"
    assert len(run) <= BOUND[engine.dialect.name], "\n".join(run)
