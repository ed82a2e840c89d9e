"""How a task's deadline becomes occurrences, and what one task's import changes in storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from plans.calendar import Calendar
from plans.clock import local_date
from plans.deadline import Deadline
from plans.policy import ReminderPolicy, first_look_at
from storage.enums import AssignmentRole, ReportStatus
from storage.models import Assignment, Closing, Occurrence

ONCE = "once"


UNDATED = "undated"  # the deadline kind of a task the plan gives no date (plans/deadline.py)


Wanted = dict[str, tuple[date | None, datetime | None]]  # period → (due date, first reminder)


def horizon_for(now: datetime, issued: date, until: date | None = None) -> date:
    """Recurring occurrences are expanded to the end of the year after now (or after issued),
    never past the plan's end (`until`)."""
    year = max(local_date(now).year, issued.year) + 1
    return min(date(year, 12, 31), until or date.max)


@dataclass(frozen=True)
class Expansion:
    """How a task's deadline becomes occurrences: up to a horizon, as seen at `now`."""

    deadline: Deadline
    horizon: date
    now: datetime
    policy: ReminderPolicy
    calendar: Calendar

    def first_reminder(self, due: date | None) -> datetime | None:
        """When the tick should first look at a new occurrence (plans/policy.py decides)."""
        return first_look_at(
            due=due,
            ongoing=self.deadline.kind == "ongoing",
            now=self.now,
            policy=self.policy,
            calendar=self.calendar,
        )


def periods_for(deadline: Deadline, horizon: date) -> dict[str, date | None]:
    """Occurrence period key → due date for a deadline up to the horizon."""
    if deadline.kind != "dated":
        return {deadline.kind: None}
    dates = deadline.dates(until=horizon)
    if not deadline.recurring and len(dates) == 1:
        # A one-time task keeps one row even if its date is edited, so its reports stay put.
        return {ONCE: dates[0]}
    return {d.isoformat(): d for d in dates}


def wanted_periods(expansion: Expansion) -> Wanted:
    """Period → due date and first reminder; every owner unit shares them, so once per task."""
    periods = periods_for(expansion.deadline, expansion.horizon)
    first = {due: expansion.first_reminder(due) for due in set(periods.values())}
    return {period: (due, first[due]) for period, due in periods.items()}


@dataclass(frozen=True)
class _Stored:
    """An occurrence as read before writing."""

    id: int
    due: date | None
    active: bool
    done: bool
    closed: bool  # by its coordinator (handlers/closing.py): a re-import leaves it closed


@dataclass(frozen=True)
class _Held:
    """An assignment as read before writing."""

    id: int
    active: bool
    role: AssignmentRole
    starts_on: date | None  # periods due before it are not this unit's
    ended_on: date | None  # the day its unit left the task's groups or retired


@dataclass
class TaskState:
    """A stored task: unit id → assignment, assignment id → period → occurrence."""

    assignments: dict[int, _Held] = field(default_factory=dict)
    occurrences: dict[int, dict[str, _Stored]] = field(default_factory=dict)


def read_task(session: Session, task_id: int | None) -> TaskState:
    """A task's assignments and occurrences (nothing for a task not stored yet)."""
    state = TaskState()
    if task_id is None:
        return state
    assignments = session.execute(
        sa_select(
            col(Assignment.id),
            col(Assignment.unit_id),
            col(Assignment.active),
            col(Assignment.role),
            col(Assignment.starts_on),
            col(Assignment.ended_on),
        ).where(col(Assignment.task_id) == task_id)
    )
    for assignment_id, unit_id, active, role, starts_on, ended_on in assignments:
        state.assignments[unit_id] = _Held(assignment_id, active, role, starts_on, ended_on)
    occurrences = session.execute(
        sa_select(
            col(Occurrence.id),
            col(Occurrence.assignment_id),
            col(Occurrence.period),
            col(Occurrence.due_date),
            col(Occurrence.active),
            col(Occurrence.status),
            col(Closing.occurrence_id).is_not(None),
        )
        .join(Assignment, col(Assignment.id) == col(Occurrence.assignment_id))
        .outerjoin(Closing, col(Closing.occurrence_id) == col(Occurrence.id))
        .where(col(Assignment.task_id) == task_id)
    )
    for occurrence_id, assignment_id, period, due, active, status, closed in occurrences:
        stored = _Stored(occurrence_id, due, active, status == ReportStatus.DONE, closed)
        state.occurrences.setdefault(assignment_id, {})[period] = stored
    return state


@dataclass
class Changes:
    """What one task's import writes."""

    # (unit id, role, first day) of assignments to create
    new_units: list[tuple[int, AssignmentRole, date | None]] = field(default_factory=list)
    activated: list[dict[str, Any]] = field(default_factory=list)  # back in use, or a new role
    ended: list[dict[str, Any]] = field(default_factory=list)  # assignments no longer wanted
    # (unit id, period, due date, first reminder, tracked since) of occurrences to create
    new_occurrences: list[tuple[int, str, date | None, datetime | None, date | None]] = field(
        default_factory=list
    )
    moved: list[dict[str, Any]] = field(default_factory=list)  # due date changed or back in use
    retired: list[int] = field(default_factory=list)  # occurrence ids no longer wanted
    # open occurrences of ended assignments, tracked until the day they end
    closed: list[dict[str, Any]] = field(default_factory=list)


def task_changes(
    state: TaskState,
    units: dict[int, AssignmentRole],
    wanted: Wanted,
    *,
    today: date,
    new_from: date | None = None,
) -> Changes:
    """One assignment per unit with the wanted occurrences; the rest stop being tracked.

    A new assignment starts at `new_from` (None: with the plan); periods due before an
    assignment's start are neither created nor retired. An assignment no longer wanted ends:
    its open occurrences stop, its done ones stay (a unit that left keeps its history).
    """
    changes = Changes()
    others = dict(state.assignments)
    for unit_id, role in units.items():
        found = others.pop(unit_id, None)
        stored: dict[str, _Stored] = {}
        starts = new_from
        if found is None:
            changes.new_units.append((unit_id, role, new_from))
        else:
            starts = found.starts_on
            if not found.active or found.role != role:
                changes.activated.append({"row_id": found.id, "role": role})
            stored = state.occurrences.get(found.id, {})
        for period, (due, first) in wanted.items():
            if starts is not None and due is not None and due < starts:
                continue
            row = stored.get(period)
            if row is None:
                changes.new_occurrences.append((unit_id, period, due, first, starts))
            elif not row.closed and (row.due != due or not row.active):
                changes.moved.append({"row_id": row.id, "due": due, "next": first})
        changes.retired += [r.id for p, r in stored.items() if r.active and p not in wanted]
    for held in others.values():
        if held.active:
            changes.ended.append({"row_id": held.id, "day": today})
            stored = state.occurrences.get(held.id, {})
            closing = [r.id for r in stored.values() if r.active and not r.done]
            changes.closed += [{"row_id": i, "until": today} for i in closing]
    return changes
