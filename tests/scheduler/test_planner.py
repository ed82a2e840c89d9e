"""Planning reminders into the outbox at explicit moments."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.reporting import record_report
from scheduler.planner import plan_due_reminders
from storage.models import Contact, Occurrence, Outbox
from tests.utils.clock import local_time
from tests.utils.world import build_world

IMPORTED = local_time("2026-11-02 09:00")


def outbox(engine: Engine) -> list[tuple[str, str, str]]:
    """(chat, kind, step) of every outbox row."""
    with Session(engine) as session:
        rows = session.exec(select(Outbox, Contact).join(Contact)).all()
    return sorted((c.chat_id, o.kind, o.step) for o, c in rows)


def test_each_step_is_planned_once_per_contact(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path, now=IMPORTED, schools=2)
    assert plan_due_reminders(engine, now=local_time("2026-11-23 07:59")).planned == 0
    first = plan_due_reminders(engine, now=local_time("2026-11-23 08:00"))
    assert first.planned == 2
    again = plan_due_reminders(engine, now=local_time("2026-11-23 08:01"))
    assert again.planned == 0
    assert outbox(engine) == sorted(
        (chat, "reminder", "before-7") for chat in world.school_chats.values()
    )


def test_done_assignment_gets_nothing_more(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path, now=IMPORTED, schools=2)
    plan_due_reminders(engine, now=local_time("2026-11-23 08:00"))
    with Session(engine) as session:
        contact = session.exec(
            select(Contact).where(Contact.chat_id == world.school_chats["THCS_0001"])
        ).one()
        occurrence = session.exec(select(Occurrence).where(Occurrence.assignment_id == 1)).one()
        record_report(
            session,
            contact=contact,
            occurrence=occurrence,
            status="done",
            percent=None,
            note="xong",
            now=local_time("2026-11-24 10:00"),
        )
        session.commit()
    plan_due_reminders(engine, now=local_time("2026-11-27 08:00"))
    steps = [r for r in outbox(engine) if r[2] == "before-1"]
    assert steps == [(world.school_chats["THCS_0002"], "reminder", "before-1")]


def test_after_downtime_only_the_latest_missed_step_is_planned(
    engine: Engine, tmp_path: Path
) -> None:
    build_world(engine, tmp_path, now=IMPORTED, schools=1)
    plan_due_reminders(engine, now=local_time("2026-12-03 15:00"))
    assert [r[2] for r in outbox(engine)] == ["overdue-2"]


def test_third_overdue_reminder_is_copied_to_the_parent_units_heads(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=IMPORTED, schools=1)
    for moment in ("2026-12-01 08:00", "2026-12-03 08:00", "2026-12-07 08:00"):
        plan_due_reminders(engine, now=local_time(moment))
    rows = outbox(engine)
    assert (world.head_chat, "escalation", "overdue-3") in rows
    assert (world.head_chat, "escalation", "overdue-2") not in rows
    assert (world.school_chats["THCS_0001"], "reminder", "overdue-3") in rows


def test_ongoing_task_gets_monthly_check_in(engine: Engine, tmp_path: Path) -> None:
    world = build_world(
        engine, tmp_path, now=IMPORTED, schools=1, tasks=[("1", "TRUONG", "Thường xuyên")]
    )
    plan_due_reminders(engine, now=local_time("2026-11-25 08:00"))
    plan_due_reminders(engine, now=local_time("2026-12-25 08:00"))
    chat = world.school_chats["THCS_0001"]
    assert outbox(engine) == [
        (chat, "checkin", "checkin-2026-11"),
        (chat, "checkin", "checkin-2026-12"),
    ]


def test_several_contacts_of_one_unit_all_get_it(engine: Engine, tmp_path: Path) -> None:
    from storage.models import Unit
    from tests.utils.world import add_contact

    build_world(engine, tmp_path, now=IMPORTED, schools=1)
    with Session(engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == "THCS_0001")).one()
        add_contact(session, unit, "zalo-chat-1", "contact", IMPORTED, "zalo")
        session.commit()
    plan_due_reminders(engine, now=local_time("2026-11-23 08:00"))
    assert {r[0] for r in outbox(engine)} == {"100001", "zalo-chat-1"}
