"""Importing units and plans: group expansion, idempotence, what re-imports keep and retire."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from handlers.conversation import handle_incoming
from handlers.types import Incoming
from plans.importer import load_and_import_plan
from plans.units_file import load_units_file
from plans.units_import import import_units
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import unlimited
from scheduler.tick import tick
from storage.db import session_scope
from storage.enums import AssignmentRole
from storage.models import (
    Assignment,
    Contact,
    MessageRef,
    Occurrence,
    Outbox,
    Plan,
    Report,
    Task,
    Unit,
)
from tests.utils.clock import local_time
from tests.utils.db import snapshot
from tests.utils.senders import RecordingSender
from tests.utils.world import build_world

NOW = local_time("2024-12-02 09:00")
IMPORTED = local_time("2026-11-02 09:00")


def load_examples(engine: Engine, examples: Path) -> None:
    """Import the example units and both example plans."""
    with session_scope(engine) as session:
        import_units(session, load_units_file(examples / "units.yaml"), now=NOW)
    for name in ("kh-gddt-2023.yaml", "kh-315-hu.yaml"):
        load_and_import_plan(engine, examples / name, now=NOW)


def test_every_owner_group_is_assigned_one_unit_at_a_time(engine: Engine, examples: Path) -> None:
    load_examples(engine, examples)
    with Session(engine) as session:
        task = session.exec(select(Task).where(Task.key == "IV.10")).one()  # owner: [XA, TRUONG]
        owners = session.exec(
            select(Unit.code).join(Assignment).where(Assignment.task_id == task.id)
        ).all()
    kinds = {code.split("_")[0] for code in owners}
    assert kinds == {"MN", "TH", "THCS", "XA", "TT"}  # schools, communes and townships
    assert len(owners) == len(set(owners)) == 17 * 4  # 17 communes, each with 3 schools


def test_recurring_task_has_one_occurrence_per_year(engine: Engine, examples: Path) -> None:
    load_examples(engine, examples)
    with Session(engine) as session:
        task = session.exec(select(Task).where(Task.key == "IV.3")).one()  # tháng 11 hằng năm
        dues = session.exec(
            select(Occurrence.due_date)
            .join(Assignment)
            .where(Assignment.task_id == task.id, Assignment.role == AssignmentRole.OWNER)
            .order_by(Occurrence.due_date)
        ).all()
    assert [d.isoformat() for d in dues] == ["2023-11-30", "2024-11-30", "2025-11-30"]


def test_importing_twice_changes_nothing(engine: Engine, examples: Path) -> None:
    load_examples(engine, examples)
    before = snapshot(engine)
    _, summary = load_and_import_plan(engine, examples / "kh-315-hu.yaml", now=NOW)
    assert not summary.changed
    assert snapshot(engine) == before


def test_changed_plan_keeps_reports(engine: Engine, examples: Path, tmp_path: Path) -> None:
    load_examples(engine, examples)
    with session_scope(engine) as session:
        occurrence = session.exec(
            select(Occurrence)
            .join(Assignment)
            .join(Task)
            .join(Plan)
            .where(Plan.code == "KH-315-HU", Task.key == "I.2")
        ).first()
        assert occurrence is not None
        session.add(
            Report(occurrence_id=occurrence.id, status="done", note="Đã ban hành", created_at=NOW)
        )
        occurrence.status = "done"
        removed = session.exec(
            select(Occurrence).join(Assignment).join(Task).where(Task.key == "II.1")
        ).one()
        session.add(Report(occurrence_id=removed.id, status="in_progress", created_at=NOW))
        kept_id, removed_id = occurrence.id, removed.id
    text = (examples / "kh-315-hu.yaml").read_text(encoding="utf-8")
    changed = text.replace("due: Tháng 12/2024", "due: Tháng 1/2025", 1)
    # Drop task II.1 (and its comment block) from the file.
    start = changed.index("  - id: II.1")
    end = changed.index("  - id: III.1")
    changed = changed[:start] + changed[end:]
    path = tmp_path / "kh-315-hu.yaml"
    path.write_text(changed, encoding="utf-8")
    _, summary = load_and_import_plan(engine, path, now=NOW)
    assert summary.changed
    with Session(engine) as session:
        kept = session.get(Occurrence, kept_id)
        assert kept is not None and kept.active
        assert kept.status == "done"
        assert kept.due_date.isoformat() == "2025-01-31"
        assert (
            session.exec(select(Report).where(Report.occurrence_id == kept_id)).one().note
            == "Đã ban hành"
        )
        gone_task = session.exec(select(Task).where(Task.key == "II.1")).one()
        assert not gone_task.active
        assert session.exec(select(Report).where(Report.occurrence_id == removed_id)).one()


def run_tick(engine: Engine, at: str) -> list[str]:
    """One scheduler pass at a local moment; the chats that got a message."""
    sender = RecordingSender()
    dispatcher = Dispatcher(engine, {"telegram": sender}, limiter=unlimited())
    asyncio.run(tick(engine, dispatcher, now=local_time(at)))
    return sender.chats


def say(engine: Engine, chat_id: str, text: str, at: str) -> str:
    """What the bot answers a chat's message (the real inbound path)."""
    incoming = Incoming(channel="telegram", chat_id=chat_id, update_key=f"{at} {text}", text=text)
    outcome = handle_incoming(engine, incoming, now=local_time(at))
    return "\n".join(m.text for m in outcome.messages)


def test_recurring_deadline_changed_after_reminders_went_out(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(
        engine, tmp_path, now=IMPORTED, schools=2, tasks=[("1", "TRUONG", "Tháng 11 hằng năm")]
    )
    principal = world.school_chats["THCS_0001"]
    assert principal in run_tick(engine, "2026-11-23 08:00")  # 7 days before 30/11/2026
    with Session(engine) as session:
        code = session.exec(
            select(MessageRef.code).join(Contact).where(Contact.chat_id == principal)
        ).one()
    path = tmp_path / "plan.yaml"
    changed = path.read_text(encoding="utf-8").replace("Tháng 11 hằng năm", "Tháng 12 hằng năm")
    path.write_text(changed, encoding="utf-8")

    _, summary = load_and_import_plan(engine, path, now=local_time("2026-11-24 09:00"))

    assert summary.changed
    listed = say(engine, principal, "/viec", "2026-11-24 10:00")
    assert "31/12/2026" in listed and "30/11/2026" not in listed
    refused = say(engine, principal, f"{code} 1 đã xong", "2026-11-24 10:05")
    assert "không còn được theo dõi" in refused
    with Session(engine) as session:
        rows = session.exec(
            select(Occurrence.period, Occurrence.active, func.count(Outbox.id))
            .join(Assignment)
            .outerjoin(Outbox, Outbox.occurrence_id == Occurrence.id)
            .group_by(Occurrence.period, Occurrence.active)
        ).all()
        reports = session.exec(select(func.count()).select_from(Report)).one()
    # The reminded November row is kept, retired, with its reminders; the unused one is gone.
    assert sorted(rows) == [
        ("2026-11-30", False, 2),
        ("2026-12-31", True, 0),
        ("2027-12-31", True, 0),
    ]
    assert reports == 0
    schools = set(world.school_chats.values())
    assert not schools & set(run_tick(engine, "2026-11-29 08:00"))  # no reminder for 30/11
    assert schools <= set(run_tick(engine, "2026-12-24 08:00"))  # 7 days before 31/12


def test_a_school_taken_out_of_the_group_is_no_longer_reminded(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=IMPORTED, schools=2)
    units = tmp_path / "units.yaml"
    left = "name: Trường THCS số 2, parent: PGDDT, groups: [TRUONG]}"
    text = units.read_text(encoding="utf-8")
    units.write_text(text.replace(left, "name: Trường THCS số 2, parent: PGDDT}"), "utf-8")
    with session_scope(engine) as session:
        import_units(session, load_units_file(units), now=IMPORTED)
    load_and_import_plan(engine, tmp_path / "plan.yaml", now=IMPORTED)
    reminded = run_tick(engine, "2026-11-23 08:00")
    assert world.school_chats["THCS_0001"] in reminded
    assert world.school_chats["THCS_0002"] not in reminded


def test_the_tick_extends_recurring_tasks_past_the_horizon(engine: Engine, tmp_path: Path) -> None:
    build_world(
        engine, tmp_path, now=IMPORTED, schools=2, tasks=[("1", "TRUONG", "Tháng 11 hằng năm")]
    )
    run_tick(engine, "2027-01-04 08:00")
    with Session(engine) as session:
        dues = session.exec(select(Occurrence.due_date, func.count()).group_by(Occurrence.due_date))
        assert [(d.isoformat(), n) for d, n in dues] == [
            ("2026-11-30", 2),
            ("2027-11-30", 2),
            ("2028-11-30", 2),
        ]
        assert session.exec(select(Plan.horizon)).one().isoformat() == "2028-12-31"
