"""/dongviec: a coordinator closes overdue work that will never be reported, with a reason.

The occurrence stops being reminded and is kept: reports dated from the closing day leave it out
of the percentages and footnote it (reports/reads.py: closed_rows), earlier ones are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from chat.messages import Capabilities
from chat.texts import message
from handlers.confirmations import coordinated_plan_ids
from handlers.state import listed, remember_list
from handlers.types import Incoming, Outcome
from plans.clock import local_date
from storage.db import stored_id
from storage.enums import AssignmentRole, ReportStatus, Role
from storage.models import Assignment, Closing, Contact, Occurrence, Plan, Task, Unit
from storage.queries import with_occurrence_context

LIST_LIMIT = 10
LIST_STEP = "overdue"  # the list of overdue work shown, by position (handlers/state.py)
REASON_LIMIT = 500
FOUND_LIMIT = 200


@dataclass(frozen=True)
class OverdueItem:
    """An open occurrence past its due date, of a plan the caller coordinates."""

    occurrence: Occurrence
    task: Task
    plan: Plan
    unit: Unit


def close_command(
    session: Session, incoming: Incoming, contacts: list[Contact], args: list[str], *, now: datetime
) -> Outcome:
    """`dongviec [MÃ]` lists the overdue work (of a plan or unit); `dongviec N lý do` closes N."""
    shows = incoming.capabilities
    plan_ids = coordinated_plan_ids(session, contacts)
    if not plan_ids:
        return _say(shows, "close_not_allowed")
    if args and args[0].isdigit():
        return _close(session, incoming, contacts, plan_ids, int(args[0]), args[1:], now=now)
    return _list(session, incoming, plan_ids, args[0] if args else None, now=now)


def _list(
    session: Session, incoming: Incoming, plan_ids: set[int], code: str | None, *, now: datetime
) -> Outcome:
    """The open overdue work, oldest first, numbered; the positions are kept for a day."""
    shows = incoming.capabilities
    found = overdue_items(session, plan_ids, now=now, code=code)
    if not found:
        return _say(shows, "close_none", code=code)
    shown = found[:LIST_LIMIT]
    ids = [stored_id(item.occurrence) for item in shown]
    remember_list(session, incoming.channel, incoming.chat_id, LIST_STEP, ids, now=now)
    items = [
        {
            "plan": item.plan.number or item.plan.code,
            "task_key": item.task.key,
            "task_title": item.task.title,
            "unit_name": item.unit.name,
            "due_date": item.occurrence.due_date,
        }
        for item in shown
    ]
    more = len(found) - len(shown)
    return _say(shows, "close_list", items=items, more=more, code=code, limit=FOUND_LIMIT)


def _close(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    plan_ids: set[int],
    position: int,
    words: list[str],
    *,
    now: datetime,
) -> Outcome:
    """Close the item at `position` of the list shown; anything amiss changes nothing."""
    shows = incoming.capabilities
    reason = " ".join(words).strip()
    if not reason or len(reason) > REASON_LIMIT:
        return _say(shows, "close_usage", too_long=bool(reason), limit=REASON_LIMIT)
    occurrence_id = listed(
        session, incoming.channel, incoming.chat_id, LIST_STEP, position, now=now
    )
    if occurrence_id is None:
        return _say(shows, "close_position", position=position)
    found = overdue_items(session, plan_ids, now=now, occurrence_id=occurrence_id)
    coordinator = next(c for c in contacts if c.role == Role.COORDINATOR)
    if not found:
        return _say(shows, "close_gone", position=position)
    item, due = found[0], found[0].occurrence.due_date
    if not close_occurrence(session, occurrence_id, stored_id(coordinator), reason, now=now):
        return _say(shows, "close_gone", position=position)
    return _say(
        shows,
        "closed",
        plan=item.plan.number or item.plan.code,
        task_key=item.task.key,
        unit_name=item.unit.name,
        due_date=due,
        reason=reason,
        today=local_date(now),
    )


def overdue_items(
    session: Session,
    plan_ids: set[int],
    *,
    now: datetime,
    code: str | None = None,
    occurrence_id: int | None = None,
) -> list[OverdueItem]:
    """Open occurrences of the plans due before today, oldest first; `code` keeps one plan's
    or one unit's."""
    query = with_occurrence_context(select(Occurrence, Task, Plan, Unit)).where(
        col(Plan.id).in_(plan_ids),
        col(Plan.visible),
        col(Task.active),
        col(Occurrence.active),
        col(Occurrence.status) != ReportStatus.DONE,
        col(Occurrence.due_date) < local_date(now),
        # Reminded work only: a partner that does not report is told once, never chased.
        or_(col(Assignment.role) == AssignmentRole.OWNER, col(Task.partners_report)),
    )
    if code is not None:
        wanted = code.upper()
        query = query.where(or_(func.upper(Plan.code) == wanted, func.upper(Unit.code) == wanted))
    if occurrence_id is not None:
        query = query.where(col(Occurrence.id) == occurrence_id)
    order = (col(Occurrence.due_date), col(Unit.code), col(Task.position), col(Occurrence.id))
    rows = session.exec(query.order_by(*order).limit(FOUND_LIMIT)).all()
    return [OverdueItem(*row) for row in rows]


def close_occurrence(
    session: Session, occurrence_id: int, contact_id: int, reason: str, *, now: datetime
) -> bool:
    """Close an open occurrence for good, keeping who closed it, when and why; False when a
    "done" report or another closing came first. Its queued reminders are skipped at dispatch
    (scheduler/compose.py)."""
    ended = session.connection().execute(
        update(Occurrence)
        .where(
            col(Occurrence.id) == occurrence_id,
            col(Occurrence.active),
            col(Occurrence.status) != ReportStatus.DONE,
        )
        # Tracked until today, like the open work of a dissolved unit (plans/units_import.py).
        .values(active=False, next_reminder_at=None, until=local_date(now))
    )
    if not ended.rowcount:
        return False
    session.add(
        Closing(occurrence_id=occurrence_id, contact_id=contact_id, closed_at=now, reason=reason)
    )
    loaded = session.identity_map.get(identity_key(Occurrence, occurrence_id))
    if loaded is not None:  # the session's copy is out of date
        session.expire(loaded)
    return True


def _say(shows: Capabilities, template: str, **context: Any) -> Outcome:
    """One message from a template."""
    return Outcome(messages=(message(shows, template, **context),))
