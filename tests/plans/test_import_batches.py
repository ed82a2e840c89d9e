"""Plans written in batches: a failed or crashed import never shows a partial plan."""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from handlers.conversation import handle_incoming
from handlers.types import Incoming
from plans.importer import load_and_import_plan
from scheduler.planner import plan_due_reminders
from storage.db import make_engine
from storage.models import Assignment, Occurrence, Outbox, Plan, Task
from storage.queries import plan_by_code
from tests.utils.clock import local_time
from tests.utils.db import snapshot
from tests.utils.world import build_world, plan_yaml

IMPORTED = local_time("2026-11-02 09:00")
REMINDERS_DUE = local_time("2026-11-23 08:00")  # a week before 30/11: the first reminder step
SCHOOLS = 20
BATCH = 50  # rows per transaction: the new plan below takes a dozen of them
NEW_TASKS = [("1", "TRUONG", "Hằng tháng"), ("2", "TRUONG", "30/11/2026")]
# 20 schools x 2 tasks; monthly from November 2026 to the horizon (end of 2027) and one date.
NEW_PLAN_ROWS = (2, 2 * SCHOOLS, SCHOOLS * (14 + 1))
UPDATE_IDS = itertools.count(1)


class InjectedFailure(Exception):
    """Raised from inside an import, after some batches were written."""


def fail_after(rows: int) -> Callable[[int], None]:
    """A progress callback that fails once `rows` rows are written."""

    def progress(written: int) -> None:
        if written >= rows:
            raise InjectedFailure(written)

    return progress


def new_plan_file(folder: Path) -> Path:
    """A second plan, KH-MOI (number 12/KH-MOI), for every school."""
    text = plan_yaml(NEW_TASKS).replace("code: KH-TEST", "code: KH-MOI")
    path = folder / "kh-moi.yaml"
    path.write_text(text.replace('"99/KH-PGDDT"', '"12/KH-MOI"'), encoding="utf-8")
    return path


def say(engine: Engine, chat_id: str, text: str) -> str:
    """What the bot answers a chat's message (the real inbound path)."""
    incoming = Incoming(
        channel="telegram", chat_id=chat_id, update_key=f"u{next(UPDATE_IDS)}", text=text
    )
    outcome = handle_incoming(engine, incoming, now=REMINDERS_DUE)
    return "\n".join(m.text for m in outcome.messages)


def plan_rows(engine: Engine, code: str) -> tuple[int, int, int]:
    """How many tasks, assignments and occurrences a plan has in the database."""
    of_plan = Plan.code == code
    with Session(engine) as session:
        tasks = session.exec(select(func.count()).select_from(Task).join(Plan).where(of_plan))
        assignments = session.exec(
            select(func.count()).select_from(Assignment).join(Task).join(Plan).where(of_plan)
        )
        occurrences = session.exec(
            select(func.count())
            .select_from(Occurrence)
            .join(Assignment)
            .join(Task)
            .join(Plan)
            .where(of_plan)
        )
        return tasks.one(), assignments.one(), occurrences.one()


def reminders_of(engine: Engine, code: str) -> int:
    """Outbox rows planned for a plan's occurrences."""
    with Session(engine) as session:
        return session.exec(
            select(func.count())
            .select_from(Outbox)
            .join(Occurrence, Occurrence.id == Outbox.occurrence_id)
            .join(Assignment)
            .join(Task)
            .join(Plan)
            .where(Plan.code == code)
        ).one()


def test_new_plan_failing_in_a_later_batch_leaves_nothing(engine: Engine, tmp_path: Path) -> None:
    build_world(engine, tmp_path, now=IMPORTED, schools=SCHOOLS)
    before = snapshot(engine)
    path = new_plan_file(tmp_path)
    with pytest.raises(InjectedFailure):
        load_and_import_plan(engine, path, now=IMPORTED, batch_rows=BATCH, progress=fail_after(300))
    assert snapshot(engine) == before
    _, summary = load_and_import_plan(engine, path, now=IMPORTED, batch_rows=BATCH)
    assert summary.changed
    assert plan_rows(engine, "KH-MOI") == NEW_PLAN_ROWS


def test_reimport_failing_in_a_later_batch_keeps_the_previous_version(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(
        engine, tmp_path, now=IMPORTED, schools=SCHOOLS, tasks=[("1", "TRUONG", "Hằng tháng")]
    )
    before = snapshot(engine)
    path = tmp_path / "plan.yaml"
    changed = [("1", "TRUONG", "Trước ngày 5 hằng tháng"), ("2", "TRUONG", "30/11/2026")]
    path.write_text(plan_yaml(changed), encoding="utf-8")
    with pytest.raises(InjectedFailure):
        load_and_import_plan(engine, path, now=IMPORTED, batch_rows=BATCH, progress=fail_after(300))
    assert snapshot(engine) == before
    load_and_import_plan(engine, path, now=IMPORTED, batch_rows=BATCH)
    listed = say(engine, world.school_chats["THCS_0001"], "/viec")
    assert "04/12/2026" in listed and "30/11/2026" in listed  # the working day before the 5th


def _import_then_die(database_url: str, path: str, rows: int) -> None:
    """In a child process: import until `rows` rows are written, then vanish like a SIGKILL."""

    def die(written: int) -> None:
        if written >= rows:
            os._exit(3)  # no cleanup, no rollback handler: what a crash leaves

    load_and_import_plan(
        make_engine(database_url), Path(path), now=IMPORTED, batch_rows=BATCH, progress=die
    )


@pytest.mark.slow  # a subprocess
def test_crashed_import_shows_nothing_and_the_next_import_finishes_it(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=IMPORTED, schools=SCHOOLS)
    path = new_plan_file(tmp_path)
    engine.dispose()  # the child gets no connection of ours
    child = multiprocessing.get_context("fork").Process(
        target=_import_then_die, args=(database_url, str(path), 300)
    )
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 3
    with Session(engine) as session:
        plan = plan_by_code(session=session, code="KH-MOI")
        assert plan is not None and not plan.visible
    assert 0 < plan_rows(engine, "KH-MOI")[2] < NEW_PLAN_ROWS[2]  # a partial plan is stored

    assert "KH-MOI" not in say(engine, world.head_chat, "/status")
    assert "KH-MOI" not in say(engine, world.school_chats["THCS_0001"], "/viec")
    plan_due_reminders(engine, now=REMINDERS_DUE)
    assert reminders_of(engine, "KH-TEST") == SCHOOLS
    assert reminders_of(engine, "KH-MOI") == 0

    load_and_import_plan(engine, path, now=IMPORTED, batch_rows=BATCH)
    assert plan_rows(engine, "KH-MOI") == NEW_PLAN_ROWS
    assert "KH-MOI" in say(engine, world.head_chat, "/status")
    plan_due_reminders(engine, now=REMINDERS_DUE)
    assert reminders_of(engine, "KH-MOI") == 2 * SCHOOLS  # both tasks are due on 30/11
