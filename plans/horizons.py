"""Move recurring plans' horizons forward: the tick adds the occurrences a new year brings.

Most ticks find every horizon far enough, so the check is one narrow read of the shown plans;
only a plan whose horizon is too close to now has its tasks read and expanded.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from plans.calendar import Calendar, default_calendar
from plans.clock import local_date
from plans.deadline import parse_deadline
from plans.expansion import Changes, Expansion, horizon_for, read_task, task_changes, wanted_periods
from plans.import_writer import BATCH_ROWS, BatchWriter, ImportSummary, write_changes
from plans.policy import ReminderPolicy
from storage.db import read_session, session_scope
from storage.models import Plan, Task


def extend_horizons(
    engine: Engine,
    *,
    now: datetime,
    calendar: Calendar | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportSummary:
    """Expand recurring occurrences of every plan whose horizon is too close to now.

    Only rows are added, and they lie past the old horizon, months ahead: no view shows them
    yet, so they are written in short transactions like a new plan, and the horizon moves in
    the last one (a pass cut short is done again by the next tick).
    """
    summary = ImportSummary()
    due = _plans_due(engine, now=now)
    if not due:
        return summary
    calendar = calendar or default_calendar()
    writer = BatchWriter(engine, size=batch_rows)
    for plan_id, issued, horizon in due:
        with read_session(engine) as session:
            plan = session.get(Plan, plan_id)
            assert plan is not None  # shown plans are never deleted
            tasks = session.execute(
                select(Task.id, Task.due_text).where(Task.plan_id == plan_id, Task.active)
            ).all()
        policy = ReminderPolicy.from_mapping(plan.reminders)
        for task_id, due_text in tasks:
            deadline = parse_deadline(due_text, issued=issued, calendar=calendar)
            if not deadline.recurring:
                continue
            with read_session(engine) as session:
                state = read_task(session, task_id)
            units = {unit: held.role for unit, held in state.assignments.items() if held.active}
            wanted = wanted_periods(Expansion(deadline, horizon, now, policy, calendar))
            changes = task_changes(state, units, wanted, today=local_date(now))
            added = changes.new_occurrences  # the rest are imports' to decide
            write_changes(writer, task_id, Changes(new_occurrences=added), summary)
        with session_scope(engine) as session:
            session.connection().execute(
                update(Plan).where(col(Plan.id) == plan_id).values(horizon=horizon)
            )
    return summary


def _plans_due(engine: Engine, *, now: datetime) -> list[tuple[int, date, date]]:
    """(id, issued, new horizon) of each shown plan whose horizon is too close to now."""
    with read_session(engine) as session:
        rows = session.execute(
            sa_select(col(Plan.id), col(Plan.issued), col(Plan.until), col(Plan.horizon)).where(
                col(Plan.visible)
            )
        ).all()
    due = []
    for plan_id, issued, until, stored in rows:
        horizon = horizon_for(now, issued, until)
        if (stored or date.min) < horizon:
            due.append((plan_id, issued, horizon))
    return due
