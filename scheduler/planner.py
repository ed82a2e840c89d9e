"""Plan due reminder steps into the outbox; the occurrence's next_reminder_at keeps ticks cheap."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from plans.calendar import Calendar, default_calendar
from plans.importer import extend_horizons
from plans.policy import ReminderPolicy, latest_due_step, next_step_after
from storage.db import insert_ignore, session_scope
from storage.models import Assignment, Contact, Occurrence, Outbox, Plan, Task, Unit
from storage.queries import contacts_of_units

logger = logging.getLogger(__name__)

BATCH = 2000


@dataclass
class PlanResult:
    """What one planning pass did."""

    occurrences: int = 0
    planned: int = 0


def plan_due_reminders(
    engine: Engine, *, now: datetime, calendar: Calendar | None = None
) -> PlanResult:
    """Plan every reminder whose time has come, in batches, each batch its own transaction."""
    calendar = calendar or default_calendar()
    result = PlanResult()
    with session_scope(engine) as session:
        extend_horizons(session, now=now, calendar=calendar)
    while True:
        with session_scope(engine) as session:
            done, planned = _plan_batch(session, now=now, calendar=calendar)
        result.occurrences += done
        result.planned += planned
        if done < BATCH:
            return result


def _plan_batch(session: Session, *, now: datetime, calendar: Calendar) -> tuple[int, int]:
    """Handle up to BATCH occurrences whose next reminder time has come."""
    rows = session.exec(
        select(Occurrence, Assignment.unit_id, Task, Plan)
        .join(Assignment, Assignment.id == Occurrence.assignment_id)
        .join(Task, Task.id == Assignment.task_id)
        .join(Plan, Plan.id == Task.plan_id)
        .where(Occurrence.next_reminder_at <= now)  # type: ignore[operator]
        .order_by(Occurrence.next_reminder_at)  # type: ignore[arg-type]
        .limit(BATCH)
    ).all()
    if not rows:
        return 0, 0
    unit_ids = {unit_id for _, unit_id, _, _ in rows}
    contacts = contacts_of_units(session=session, unit_ids=list(unit_ids), role="contact")
    parents = _parent_ids(session, unit_ids)
    heads = contacts_of_units(session=session, unit_ids=list(set(parents.values())), role="head")
    policies: dict[int, ReminderPolicy] = {}
    outbox: list[dict[str, Any]] = []
    for occurrence, unit_id, task, plan in rows:
        policy = policies.setdefault(plan.id, ReminderPolicy.from_mapping(plan.reminders))
        open_ = occurrence.active and occurrence.status != "done" and task.active
        ongoing = occurrence.period == "ongoing"
        kwargs = {"due": occurrence.due_date, "ongoing": ongoing, "policy": policy}
        step = latest_due_step(now=now, calendar=calendar, **kwargs) if open_ else None
        if step is not None:
            kind = "checkin" if ongoing else "reminder"
            for contact in contacts.get(unit_id, []):
                outbox.append(_row(occurrence, contact, kind, step.name, step.send_at, now))
            if step.escalates(policy):
                for head in heads.get(parents.get(unit_id, -1), []):
                    outbox.append(
                        _row(occurrence, head, "escalation", step.name, step.send_at, now)
                    )
        nxt = next_step_after(after=now, calendar=calendar, **kwargs) if open_ else None
        occurrence.next_reminder_at = nxt.send_at if nxt else None
        session.add(occurrence)
    planned = insert_ignore(session, Outbox, outbox)
    logger.debug("planned %s reminders for %s occurrences", planned, len(rows))
    return len(rows), planned


def _row(
    occurrence: Occurrence, contact: Contact, kind: str, step: str, at: datetime, now: datetime
) -> dict[str, Any]:
    """An outbox row; the key makes planning the same step twice a no-op."""
    return {
        "key": f"{occurrence.id}:{step}:{contact.id}",
        "contact_id": contact.id,
        "occurrence_id": occurrence.id,
        "kind": kind,
        "step": step,
        "planned_for": at,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
    }


def _parent_ids(session: Session, unit_ids: set[int]) -> dict[int, int]:
    """unit id → its parent unit's id (for escalation)."""
    units = session.exec(select(Unit).where(Unit.id.in_(unit_ids))).all()  # type: ignore[union-attr]
    codes = {u.parent_code for u in units if u.parent_code}
    if not codes:
        return {}
    parent_ids = dict(
        session.exec(select(Unit.code, Unit.id).where(Unit.code.in_(codes))).all()  # type: ignore[attr-defined]
    )
    return {u.id: parent_ids[u.parent_code] for u in units if u.parent_code in parent_ids}  # type: ignore[misc]
