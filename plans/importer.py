"""Write validated units and plans to storage: assignments per unit, occurrences per due date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, delete, select

from plans.calendar import Calendar, default_calendar
from plans.clock import local_date
from plans.deadline import Deadline, parse_deadline
from plans.plan_file import Directory, PlanSpec, load_plan_file
from plans.policy import ReminderPolicy, next_step_after
from plans.units_file import UnitsFile
from storage.models import (
    Assignment,
    GroupMember,
    Occurrence,
    Plan,
    Report,
    Task,
    Unit,
    UnitGroup,
)
from storage.queries import group_members, plan_by_code, units_by_code

ONCE = "once"


@dataclass
class ImportSummary:
    """What an import changed, for the command line."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0
    occurrences: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.created or self.updated or self.deactivated or self.occurrences)


def import_units(session: Session, units_file: UnitsFile) -> ImportSummary:
    """Create or update units and groups in place; nothing is ever deleted."""
    summary = ImportSummary()
    existing = units_by_code(session=session)
    groups = {g.code: g for g in session.exec(select(UnitGroup))}
    wanted_groups = dict(units_file.groups)
    for spec in units_file.units:
        for code in spec.groups:
            wanted_groups.setdefault(code, groups[code].name if code in groups else "")
    for code, name in wanted_groups.items():
        group = groups.get(code)
        if group is None:
            session.add(UnitGroup(code=code, name=name))
        elif name and group.name != name:
            group.name = name
    for spec in units_file.units:
        unit = existing.get(spec.code)
        values = {
            "name": spec.name,
            "parent_code": spec.parent,
            "aliases": list(spec.aliases),
            "active": True,
        }
        if unit is None:
            unit = Unit(code=spec.code, **values)
            session.add(unit)
            summary.created += 1
        elif _assign(unit, values):
            summary.updated += 1
        session.flush()
        assert unit.id is not None
        current = set(
            session.exec(select(GroupMember.group_code).where(GroupMember.unit_id == unit.id))
        )
        if current != set(spec.groups):
            session.exec(delete(GroupMember).where(GroupMember.unit_id == unit.id))
            session.add_all(GroupMember(group_code=g, unit_id=unit.id) for g in spec.groups)
    return summary


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the fields that differ; tell whether anything changed (so re-imports stay no-ops)."""
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    return bool(changed)


def directory_from_db(session: Session) -> Directory:
    """The units directory a plan is validated against."""
    units = units_by_code(session=session)
    aliases: dict[str, str] = {}
    for unit in units.values():
        if unit.active:
            for name in (unit.name, *unit.aliases):
                aliases.setdefault(name.casefold().strip(), unit.code)
    members = group_members(session=session)
    return Directory(
        units=frozenset(c for c, u in units.items() if u.active),
        groups={code: tuple(codes) for code, codes in members.items()},
        aliases=aliases,
    )


def load_and_import_plan(
    session: Session, path: Path, *, now: datetime, calendar: Calendar | None = None
) -> tuple[PlanSpec, ImportSummary]:
    """Validate a plan file against the stored units and import it."""
    spec = load_plan_file(path, directory_from_db(session), calendar=calendar)
    return spec, import_plan(session, spec, now=now, calendar=calendar)


def horizon_for(now: datetime, issued: date) -> date:
    """Recurring occurrences are expanded to the end of the year after now (or after issued)."""
    year = max(local_date(now).year, issued.year) + 1
    return date(year, 12, 31)


def import_plan(
    session: Session, spec: PlanSpec, *, now: datetime, calendar: Calendar | None = None
) -> ImportSummary:
    """Create or update a plan; reports already received are kept."""
    calendar = calendar or default_calendar()
    summary = ImportSummary()
    horizon = horizon_for(now, spec.issued)
    plan = plan_by_code(session=session, code=spec.code)
    values = {
        "number": spec.number,
        "title": spec.title,
        "issuer": spec.issuer,
        "issued": spec.issued,
        "coordinator_code": spec.coordinator,
        "reminders": spec.reminders,
        "source": str(spec.path),
    }
    if plan is None:
        plan = Plan(code=spec.code, imported_at=now, horizon=horizon, **values)
        session.add(plan)
        summary.created += 1
    elif _assign(plan, values):
        plan.imported_at = now
        summary.updated += 1
    plan.horizon = max(plan.horizon or horizon, horizon)
    session.flush()
    assert plan.id is not None
    units = units_by_code(session=session)
    directory = directory_from_db(session)
    tasks = {t.key: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}
    policy = spec.policy
    for position, task_spec in enumerate(spec.tasks):
        task = tasks.pop(task_spec.key, None)
        task_values = {
            "position": position,
            "title": task_spec.title,
            "owner_code": task_spec.owner,
            "partners": list(task_spec.partners),
            "due_text": task_spec.due_text,
            "due_kind": task_spec.deadline.kind,
            "active": True,
        }
        if task is None:
            task = Task(plan_id=plan.id, key=task_spec.key, **task_values)
            session.add(task)
            summary.created += 1
        elif _assign(task, task_values):
            summary.updated += 1
        session.flush()
        owners = [units[c] for c in directory.members(task_spec.owner)]
        expansion = Expansion(task_spec.deadline, plan.horizon, now, policy, calendar)
        _sync_assignments(session, task, owners, expansion, summary)
    for task in tasks.values():  # removed from the file: keep history, stop tracking
        if task.active:
            task.active = False
            summary.deactivated += 1
    return summary


@dataclass(frozen=True)
class Expansion:
    """How a task's deadline becomes occurrences: up to a horizon, as seen at `now`."""

    deadline: Deadline
    horizon: date
    now: datetime
    policy: ReminderPolicy
    calendar: Calendar

    def first_reminder(self, due: date | None) -> datetime | None:
        """When the tick should first look at a new occurrence (recent missed steps count)."""
        start = self.now - timedelta(days=self.policy.catchup_days)
        step = next_step_after(
            due=due,
            ongoing=self.deadline.kind == "ongoing",
            after=start,
            policy=self.policy,
            calendar=self.calendar,
        )
        return step.send_at if step else None


def _sync_assignments(
    session: Session,
    task: Task,
    owners: list[Unit],
    expansion: Expansion,
    summary: ImportSummary,
) -> None:
    """One assignment per owner unit; units no longer owners are deactivated."""
    assert task.id is not None
    existing = {
        a.unit_id: a for a in session.exec(select(Assignment).where(Assignment.task_id == task.id))
    }
    for unit in owners:
        assert unit.id is not None
        assignment = existing.pop(unit.id, None)
        if assignment is None:
            assignment = Assignment(task_id=task.id, unit_id=unit.id)
            session.add(assignment)
            session.flush()
            summary.created += 1
        elif not assignment.active:
            assignment.active = True
            summary.updated += 1
        sync_occurrences(session, assignment, expansion, summary)
    for assignment in existing.values():
        if assignment.active:
            assignment.active = False
            summary.deactivated += 1


def periods_for(deadline: Deadline, horizon: date) -> dict[str, date | None]:
    """Occurrence period key → due date for a deadline up to the horizon."""
    if deadline.kind != "dated":
        return {deadline.kind: None}
    dates = deadline.dates(until=horizon)
    if not deadline.recurring and len(dates) == 1:
        # A one-time task keeps one row even if its date is edited, so its reports stay put.
        return {ONCE: dates[0]}
    return {d.isoformat(): d for d in dates}


def sync_occurrences(
    session: Session, assignment: Assignment, expansion: Expansion, summary: ImportSummary
) -> None:
    """Make the assignment's occurrences match the deadline; rows with reports are kept."""
    assert assignment.id is not None
    wanted = periods_for(expansion.deadline, expansion.horizon)
    rows = {
        o.period: o
        for o in session.exec(select(Occurrence).where(Occurrence.assignment_id == assignment.id))
    }
    for period, due in wanted.items():
        occurrence = rows.pop(period, None)
        if occurrence is None:
            occurrence = Occurrence(assignment_id=assignment.id, period=period, due_date=due)
            occurrence.next_reminder_at = expansion.first_reminder(due)
            session.add(occurrence)
            summary.occurrences += 1
        elif occurrence.due_date != due or not occurrence.active:
            occurrence.due_date = due
            occurrence.active = True
            if occurrence.status != "done":
                occurrence.next_reminder_at = expansion.first_reminder(due)
            summary.updated += 1
    for occurrence in rows.values():
        has_reports = session.exec(
            select(func.count()).select_from(Report).where(Report.occurrence_id == occurrence.id)
        ).one()
        if has_reports:
            if occurrence.active:
                occurrence.active = False
                occurrence.next_reminder_at = None
                summary.deactivated += 1
        else:
            session.delete(occurrence)
            summary.deactivated += 1


def extend_horizons(
    session: Session, *, now: datetime, calendar: Calendar | None = None
) -> ImportSummary:
    """Expand recurring occurrences of every plan whose horizon is too close to now."""
    calendar = calendar or default_calendar()
    summary = ImportSummary()
    for plan in session.exec(select(Plan)):
        horizon = horizon_for(now, plan.issued)
        if plan.horizon is not None and plan.horizon >= horizon:
            continue
        plan.horizon = horizon
        policy = ReminderPolicy.from_mapping(plan.reminders)
        for task in session.exec(select(Task).where(Task.plan_id == plan.id, Task.active)):
            deadline = parse_deadline(task.due_text, issued=plan.issued, calendar=calendar)
            if not deadline.recurring:
                continue
            assignments = session.exec(
                select(Assignment).where(Assignment.task_id == task.id, Assignment.active)
            )
            expansion = Expansion(deadline, horizon, now, policy, calendar)
            for assignment in assignments:
                sync_occurrences(session, assignment, expansion, summary)
    return summary
