"""Overdue work is chased every week, with escalation, until it is done or closed."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.conversation import handle_incoming
from handlers.invites import create_invite
from handlers.reporting import record_report
from handlers.types import Incoming
from plans.calendar import default_calendar
from plans.clock import at_local, local
from plans.importer import load_and_import_plan
from plans.units_file import load_units_file
from plans.units_import import import_units, retire_unit
from scheduler.planner import plan_due_reminders
from storage.db import session_scope
from storage.models import Contact, Occurrence, Outbox, Unit
from tests.utils.clock import local_time
from tests.utils.world import add_contact, build_world, plan_yaml, units_yaml

IMPORTED = local_time("2026-11-02 09:00")
DUE = date(2026, 11, 30)  # the world's default task, a Monday


def sent(engine: Engine) -> list[tuple[str, str, date]]:
    """(chat, kind, local day planned for) of every outbox row."""
    with Session(engine) as session:
        rows = session.exec(select(Outbox, Contact).join(Contact)).all()
    return sorted((c.chat_id, o.kind, local(o.planned_for or o.created_at).date()) for o, c in rows)


def run_days(engine: Engine, first: date, last: date) -> None:
    """A tick at 08:00 and 15:00 every day from `first` to `last`."""
    day = first
    while day <= last:
        for hour in (8, 15):
            plan_due_reminders(engine, now=at_local(day, hour))
        day += timedelta(days=1)


def weeks(rows: list[tuple[str, str, date]], chat: str, kind: str) -> Counter[date]:
    """How many rows of a chat and kind each week (keyed by its Monday) holds."""
    return Counter(d - timedelta(days=d.weekday()) for c, k, d in rows if (c, k) == (chat, kind))


def test_a_unit_overdue_for_six_weeks_is_reminded_every_week_and_its_head_told(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=IMPORTED, schools=1)
    run_days(engine, DUE, DUE + timedelta(days=7 * 10 + 6))  # Tết 2027 included
    rows = sent(engine)
    chat = world.school_chats["THCS_0001"]
    mondays = [DUE + timedelta(days=7 * n) for n in range(1, 11)]
    reminded, told = weeks(rows, chat, "reminder"), weeks(rows, world.head_chat, "escalation")
    assert [m for m in mondays if not reminded[m]] == []
    assert [m for m in mondays[1:] if not told[m]] == []  # from the 3rd overdue step on
    # Once the frequent steps are spent, one a week, on its first working day.
    late = [d for c, k, d in rows if (c, k) == (chat, "reminder") and d > date(2027, 1, 11)]
    calendar = default_calendar()
    first_working = [  # Monday, or Thursday 11/2 after the Tết break
        not any(calendar.is_working_day(d - timedelta(days=n)) for n in range(1, d.weekday() + 1))
        for d in late
    ]
    assert late and all(first_working) and len(late) == len(set(late))


def test_a_contact_who_registers_late_gets_its_overdue_work_at_the_next_tick(
    engine: Engine, tmp_path: Path
) -> None:
    build_world(engine, tmp_path, now=IMPORTED, schools=1, register=False)
    run_days(engine, DUE, date(2027, 1, 12))  # six weeks overdue, nobody registered
    joined = local_time("2027-01-13 14:00")  # a Wednesday
    with session_scope(engine) as session:
        code = create_invite(session, unit_code="THCS_0001", role="contact", now=joined).code
    handle_incoming(engine, Incoming("telegram", "4242", "u1", text=f"/start {code}"), now=joined)
    plan_due_reminders(engine, now=joined + timedelta(minutes=1))
    assert sent(engine) == [("4242", "reminder", date(2027, 1, 11))]  # this week's step, once
    run_days(engine, date(2027, 1, 14), date(2027, 1, 24))
    assert [d for _, _, d in sent(engine)] == [date(2027, 1, 11), date(2027, 1, 18)]


def test_a_done_report_stops_the_chase_and_a_returned_one_resumes_it(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=IMPORTED, schools=1)
    chat = world.school_chats["THCS_0001"]
    run_days(engine, DUE, date(2027, 1, 20))
    with Session(engine) as session:
        contact = session.exec(select(Contact).where(Contact.chat_id == chat)).one()
        occurrence = session.exec(select(Occurrence)).one()
        record_report(
            session,
            contact=contact,
            occurrence=occurrence,
            status="done",
            percent=None,
            note="xong",
            now=local_time("2027-01-20 10:00"),
        )
        session.commit()
    before = len(sent(engine))
    run_days(engine, date(2027, 1, 21), date(2027, 3, 31))
    assert len(sent(engine)) == before


def test_a_task_the_coordinator_closes_is_no_longer_chased(engine: Engine, tmp_path: Path) -> None:
    build_world(
        engine,
        tmp_path,
        now=IMPORTED,
        schools=1,
        tasks=[("1", "TRUONG", "30/11/2026"), ("2", "TRUONG", "30/11/2026")],
    )
    run_days(engine, DUE, date(2027, 1, 20))
    # The coordinator's office drops task 1 from the plan and imports it again.
    revised = tmp_path / "plan.yaml"
    revised.write_text(plan_yaml([("2", "TRUONG", "30/11/2026")]), encoding="utf-8")
    load_and_import_plan(engine, revised, now=local_time("2027-01-20 10:00"))
    with Session(engine) as session:
        before = set(session.exec(select(Outbox.occurrence_id)))
    run_days(engine, date(2027, 1, 21), date(2027, 3, 31))
    with Session(engine) as session:
        later = session.exec(
            select(Outbox.occurrence_id).where(Outbox.planned_for > local_time("2027-01-21 00:00"))
        ).all()
    assert later and len(set(later)) == 1 and len(before) == 2  # only task 2 is still chased


def test_a_long_downtime_sends_one_overdue_reminder_not_one_per_missed_step(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=IMPORTED, schools=1)
    plan_due_reminders(engine, now=local_time("2026-11-30 08:00"))  # the due-day reminder
    back: datetime = local_time("2027-01-29 15:00")  # down for 60 days
    plan_due_reminders(engine, now=back)
    rows = [r for r in sent(engine) if r[2] > DUE]
    assert rows == [
        (world.school_chats["THCS_0001"], "reminder", date(2027, 1, 25)),
        (world.head_chat, "escalation", date(2027, 1, 25)),
    ]


def test_a_successor_is_reminded_of_overdue_work_it_takes_over(
    engine: Engine, tmp_path: Path
) -> None:
    build_world(engine, tmp_path, now=IMPORTED, schools=1)
    run_days(engine, DUE, date(2027, 1, 19))  # seven weeks overdue at the first school
    units = tmp_path / "units-2027.yaml"
    extra = "  - {code: THCS_MOI, name: Trường THCS sáp nhập, parent: PGDDT}\n"
    units.write_text(units_yaml(1).replace("\ngroups:", "\n" + extra + "groups:"), encoding="utf-8")
    merged = local_time("2027-01-20 09:00")
    with session_scope(engine) as session:
        import_units(session, load_units_file(units), now=merged)
        successor = session.exec(select(Unit).where(Unit.code == "THCS_MOI")).one()
        add_contact(session, successor, "777", "contact", merged, "telegram")
    with session_scope(engine) as session:
        retire_unit(session, "THCS_0001", into="THCS_MOI", now=merged)
    plan_due_reminders(engine, now=merged + timedelta(minutes=1))
    taken = [r for r in sent(engine) if r[0] == "777"]
    assert taken == [("777", "reminder", date(2027, 1, 18))]  # this week's step, at once
