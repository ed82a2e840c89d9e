"""Plan due reminder steps into the outbox; the occurrence's next_reminder_at keeps ticks cheap."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from plans.calendar import Calendar, default_calendar
from plans.horizons import extend_horizons
from plans.policy import ReminderPolicy, Step, due_and_next_step
from scheduler.notices import PartnerStep, ShowsOf, partner_notices, plain, retirement_notices
from storage.db import session_scope
from storage.enums import AssignmentRole
from storage.models import Assignment, Contact, Occurrence, Plan, Task, Unit
from storage.outbox import outbox_row, queue

logger = logging.getLogger(__name__)

BATCH = 2000


@dataclass
class PlanResult:
    """What one planning pass did."""

    occurrences: int = 0
    planned: int = 0


def plan_due_reminders(
    engine: Engine,
    *,
    now: datetime,
    calendar: Calendar | None = None,
    shows_of: ShowsOf = plain,  # what each channel shows, for the notices written now
) -> PlanResult:
    """Plan every reminder whose time has come, in batches, each batch its own transaction."""
    calendar = calendar or default_calendar()
    result = PlanResult()
    extend_horizons(engine, now=now, calendar=calendar)
    with session_scope(engine) as session:
        result.planned += queue(session, retirement_notices(session, now=now, shows_of=shows_of))
    while True:
        with session_scope(engine) as session:
            done, planned = _plan_batch(session, now=now, calendar=calendar, shows_of=shows_of)
        result.occurrences += done
        result.planned += planned
        if done < BATCH:
            return result


def _plan_batch(
    session: Session, *, now: datetime, calendar: Calendar, shows_of: ShowsOf
) -> tuple[int, int]:
    """Handle up to BATCH occurrences whose next reminder time has come, in a few statements."""
    rows = session.execute(
        select(
            col(Occurrence.id).label("occurrence_id"),
            col(Occurrence.due_date),
            col(Occurrence.period),
            (col(Occurrence.active) & col(Task.active) & (col(Occurrence.status) != "done")).label(
                "open"
            ),
            col(Assignment.unit_id),
            col(Plan.id).label("plan_id"),
            col(Plan.reminders),
            col(Assignment.id).label("assignment_id"),
            # A partner reports only when the task asks it to; else it is told once.
            ((col(Assignment.role) == AssignmentRole.OWNER) | col(Task.partners_report)).label(
                "reports"
            ),
        )
        .join(Assignment, col(Assignment.id) == col(Occurrence.assignment_id))
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        # A plan still being imported is skipped, its reminder times kept (plans/importer.py).
        .where(col(Occurrence.next_reminder_at) <= now, col(Plan.visible))
        .order_by(col(Occurrence.next_reminder_at))
        .limit(BATCH)
    ).all()
    if not rows:
        return 0, 0
    unit_ids = {row.unit_id for row in rows}
    contacts = _contact_ids(session, unit_ids, "contact")
    parents = _parent_ids(session, unit_ids)
    heads = _contact_ids(session, set(parents.values()), "head")
    policies: dict[int, ReminderPolicy] = {}
    steps: dict[tuple[int, date | None, bool], tuple[Step | None, Step | None]] = {}
    outbox: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    partners: list[PartnerStep] = []
    for occurrence_id, due, period, open_, unit_id, plan_id, reminders, held, reports in rows:
        if plan_id not in policies:
            policies[plan_id] = ReminderPolicy.from_mapping(reminders)
        policy = policies[plan_id]
        ongoing = period == "ongoing"
        step, nxt = None, None
        if open_:
            key = (plan_id, due, ongoing)
            if key not in steps:
                steps[key] = due_and_next_step(
                    due=due, ongoing=ongoing, now=now, policy=policy, calendar=calendar
                )
            step, nxt = steps[key]
        if step is not None and not reports:  # its first step: told once, no more steps
            partners.append(PartnerStep(occurrence_id, held, unit_id))
            step, nxt = None, None
        if step is not None:
            kind = "checkin" if ongoing else "reminder"
            for contact_id in contacts.get(unit_id, ()):
                outbox.append(_row(occurrence_id, contact_id, kind, step, now))
            if step.escalates(policy):
                for head_id in heads.get(parents.get(unit_id, -1), ()):
                    outbox.append(_row(occurrence_id, head_id, "escalation", step, now))
        moves.append({"occurrence": occurrence_id, "next": nxt.send_at if nxt else None})
    session.connection().execute(MOVE_NEXT_REMINDER, moves)  # Core executemany, not ORM bulk
    outbox += partner_notices(session, partners, now=now, shows_of=shows_of)
    planned = queue(session, outbox)
    logger.debug("planned %s reminders for %s occurrences", planned, len(rows))
    return len(rows), planned


MOVE_NEXT_REMINDER = (
    update(Occurrence)
    .where(col(Occurrence.id) == bindparam("occurrence"))
    .values(next_reminder_at=bindparam("next"))
)


def _row(occurrence_id: int, contact_id: int, kind: str, step: Step, now: datetime) -> dict:
    """An outbox row; the key makes planning the same step twice a no-op."""
    return outbox_row(
        key=f"{occurrence_id}:{step.name}:{contact_id}",
        contact_id=contact_id,
        occurrence_id=occurrence_id,
        kind=kind,
        step=step.name,
        planned_for=step.send_at,
        now=now,
    )


def _contact_ids(session: Session, unit_ids: set[int], role: str) -> dict[int, list[int]]:
    """unit id → ids of its reachable contacts with `role`."""
    found: dict[int, list[int]] = defaultdict(list)
    if unit_ids:
        rows = session.execute(
            select(col(Contact.unit_id), col(Contact.id)).where(
                col(Contact.unit_id).in_(unit_ids),
                col(Contact.role) == role,
                col(Contact.reachable),
            )
        )
        for unit_id, contact_id in rows:
            found[unit_id].append(contact_id)
    return found


def _parent_ids(session: Session, unit_ids: set[int]) -> dict[int, int]:
    """unit id → its parent unit's id (for escalation)."""
    parent = aliased(Unit)
    rows = session.execute(
        select(col(Unit.id), col(parent.id))
        .join(parent, col(parent.code) == col(Unit.parent_code))
        .where(col(Unit.id).in_(unit_ids))
    )
    return {unit_id: parent_id for unit_id, parent_id in rows}
