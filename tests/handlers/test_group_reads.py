"""A group of stored updates handled together answers and writes exactly as one by one would."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bot.channels.inbound import store_many
from chat.buttons import StatusPick, data_of
from handlers.conversation import handle_stored, handle_stored_group
from handlers.types import Incoming, Outcome
from storage.db import make_engine
from storage.enums import ReportStatus
from tests.pg import PostgresServer, selected_backend
from tests.utils.clock import local_time
from tests.utils.coded import coded_schools

NOW = local_time("2026-11-23 08:00")
HEAD = "900001"  # tests/utils/world.py
OTHER_DATABASES = itertools.count(1)


@pytest.fixture
def twin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A second migrated database on the same engine kind, for the same world built again."""
    if selected_backend() == "sqlite":
        path = tmp_path / "twin.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        name = None
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        name = f"twin_{next(OTHER_DATABASES)}"
        url = server.create_database(name, template=request.getfixturevalue("postgres_template"))
    eng = make_engine(url)
    yield eng
    eng.dispose()
    if name is not None:
        server.drop_database(name)


def _stored(engine: Engine, incomings: list[Incoming]) -> None:
    """The updates stored unhandled, as the poller leaves them."""
    store_many(engine, [(i, {"key": i.update_key}) for i in incomings], now=NOW)


def _scenario(chats: dict[str, str]) -> list[Incoming]:
    """Coded replies mixed with what breaks the read-ahead: a step, a status read, odd chats."""
    (s1, c1), (s2, c2), (s3, c3) = sorted(chats.items())
    said = [
        (s1, {"text": f"{c1} 1 Đã xong, đã gửi biên bản"}),
        (s3, {"text": f"{c3} 3 vướng kinh phí"}),
        (s1, {"text": f"{c1} 2 đạt 50%, làm lại biên bản"}),  # a correction in the same group
        (s1, {"text": "ảnh biên bản", "attachments": ("photo-1",)}),  # onto the report just made
        ("555", {"text": f"{c1} 1 xong"}),  # not registered
        (s3, {"text": "ZZZ9 1 xong"}),  # a code that is not this chat's
        (s2, {"button_data": data_of(StatusPick(c2, ReportStatus.IN_PROGRESS))}),  # a step
        (HEAD, {"text": "/status"}),  # reads every report so far
        (s2, {"text": f"{c2} 1 xong rồi"}),  # clears the step the button left
        (s3, {"text": f"{c3} 1 đã khắc phục, xong"}),
    ]
    return [Incoming("telegram", chat, f"u-{n}", **fields) for n, (chat, fields) in enumerate(said)]


def _facts(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """What the database holds after the scenario, as a user of it would compare."""
    queries = {
        "occurrences": "SELECT id, status, percent, done_at, reported_at, next_reminder_at "
        "FROM occurrence ORDER BY id",
        "reports": "SELECT id, occurrence_id, contact_id, status, percent, note FROM report "
        "ORDER BY id",
        "steps": "SELECT channel, chat_id FROM chat_state ORDER BY chat_id",
    }
    with engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(text(q))] for name, q in queries.items()
        }


def _texts(outcomes: list[Outcome | None]) -> list[list[str]]:
    """Every answer's messages, in order."""
    assert all(outcome is not None for outcome in outcomes)
    return [[m.text for m in outcome.messages] for outcome in outcomes if outcome is not None]


def test_a_group_answers_and_writes_as_its_updates_would_one_by_one(
    engine: Engine, twin: Engine, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    incomings = _scenario(coded_schools(engine, tmp_path / "a", schools=3))
    twins = _scenario(coded_schools(twin, tmp_path / "b", schools=3))  # its own codes
    _stored(engine, incomings)
    _stored(twin, twins)

    together = _texts(handle_stored_group(engine, incomings, now=NOW))
    alone = _texts([handle_stored(twin, incoming, now=NOW) for incoming in twins])

    assert together == alone
    assert _facts(engine) == _facts(twin)
    assert "Đã hoàn thành" in together[0][0] and "Đang thực hiện" in together[2][0]
    assert "50%" in together[2][0], "the correction comes after the first reply"
    assert "Trường THCS số 1" in together[3][0], "the photo found the report of the group"
    assert "ZZZ9" in together[5][0]
    facts = _facts(engine)
    assert len(facts["reports"]) == 6 and facts["steps"] == []


def test_a_group_of_coded_replies_runs_five_statements(engine: Engine, tmp_path: Path) -> None:
    chats = coded_schools(engine, tmp_path, schools=20)
    incomings = [
        Incoming("telegram", chat, f"u-{n}", text=f"{code} 1 Đã xong")
        for n, (chat, code) in enumerate(sorted(chats.items()))
    ]
    _stored(engine, incomings)
    run: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: run.append(args[2]))

    outcomes = handle_stored_group(engine, incomings, now=NOW)

    assert all("Đã ghi nhận" in text for (text,) in _texts(outcomes))
    # The claim, the chats' contacts, the codes' occurrences, the reports, their summaries.
    assert len(run) == 5, "\n".join(run)
    with engine.connect() as connection:
        done = connection.execute(text("SELECT count(*) FROM occurrence WHERE status = 'done'"))
        assert done.scalar_one() == 20
        assert connection.execute(text("SELECT count(*) FROM report")).scalar_one() == 20


def test_an_update_alone_runs_no_more_statements_than_before(
    engine: Engine, tmp_path: Path
) -> None:
    ((chat, code),) = coded_schools(engine, tmp_path).items()
    (incoming,) = incomings = [Incoming("telegram", chat, "u-1", text=f"{code} 1 Đã xong")]
    _stored(engine, incomings)
    run: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: run.append(args[2]))

    outcome = handle_stored(engine, incoming, now=NOW)

    assert outcome is not None and "Đã ghi nhận" in outcome.messages[0].text
    # The claim, the contacts, the code's occurrence, the report with its summary (two
    # statements on SQLite, one on PostgreSQL).
    assert len(run) <= {"postgresql": 4, "sqlite": 5}[engine.dialect.name], "\n".join(run)
