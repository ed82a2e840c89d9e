"""Overdue work its coordinator closes (handlers/closing.py) is chased no more: no reminder, no
escalation, even after the plan is imported again; the rest is still chased every week."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.conversation import handle_incoming
from handlers.types import Incoming
from plans.importer import load_and_import_plan
from scheduler.planner import plan_due_reminders
from storage.models import Contact, Outbox
from tests.scheduler.test_overdue import DUE, IMPORTED, run_days
from tests.utils.clock import local_time
from tests.utils.world import build_world

CLOSED = local_time("2027-01-20 10:00")  # seven weeks overdue


def planned_after(engine: Engine, moment: date) -> Counter[tuple[str, str]]:
    """(chat, kind) of the outbox rows planned from local day `moment` on."""
    with Session(engine) as session:
        rows = session.exec(
            select(Contact.chat_id, Outbox.kind)
            .join(Contact, Contact.id == Outbox.contact_id)
            .where(Outbox.planned_for >= local_time(f"{moment:%Y-%m-%d} 00:00"))
        ).all()
    return Counter((chat, str(kind)) for chat, kind in rows)


def coordinator_says(engine: Engine, chat: str, text: str, update: str) -> None:
    """One message from the coordinator's Telegram chat, at the closing moment."""
    handle_incoming(engine, Incoming("telegram", chat, update, text=text), now=CLOSED)


def test_closed_work_is_no_longer_chased_and_the_rest_still_is(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=IMPORTED, schools=2)
    run_days(engine, DUE, CLOSED.date() - timedelta(days=1))
    first, second = (world.school_chats[code] for code in ("THCS_0001", "THCS_0002"))
    assert planned_after(engine, date(2027, 1, 18)) == {  # both chased, the head told twice
        (first, "reminder"): 1,
        (second, "reminder"): 1,
        (world.head_chat, "escalation"): 2,
    }
    coordinator_says(engine, world.coordinator_chat, "/dongviec", "u1")
    coordinator_says(engine, world.coordinator_chat, "/dongviec 1 trường không dạy khối 9", "u2")
    # The office imports its plan file again the next day: the closing holds.
    load_and_import_plan(engine, tmp_path / "plan.yaml", now=CLOSED + timedelta(days=1))
    plan_due_reminders(engine, now=CLOSED + timedelta(minutes=1))
    run_days(engine, date(2027, 1, 21), date(2027, 2, 12))  # three weeks (Tết: 11/2 the third)
    assert planned_after(engine, date(2027, 1, 20)) == {
        (second, "reminder"): 3,  # every week, the first school's never again
        (world.head_chat, "escalation"): 3,  # the second school's only
    }
