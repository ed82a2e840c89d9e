"""Units import, retirement and merger, and the assignments that follow the units and groups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from plans.calendar import Calendar, default_calendar
from plans.clock import local_date
from plans.deadline import parse_deadline
from plans.errors import DondocError, UnknownUnitError
from plans.expansion import horizon_for, read_task, task_changes
from plans.import_scope import ImportScope, stored_units
from plans.import_writer import BATCH_ROWS, BatchWriter, ImportSummary, assign, write_changes
from plans.policy import ReminderPolicy
from plans.units_file import UnitsFile, UnitSpec
from storage.enums import AssignmentRole, ReportStatus
from storage.models import Assignment, GroupMember, Occurrence, Plan, Task, Unit, UnitGroup
from storage.queries import units_by_code


class UnitChangeError(DondocError):
    """A unit change that cannot be made (a unit retired already, a successor not active)."""


def import_units(
    session: Session,
    units_file: UnitsFile,
    *,
    now: datetime,
    retire_missing: bool = False,
    calendar: Calendar | None = None,
) -> ImportSummary:
    """Create or update units and groups in place; nothing is ever deleted.

    A unit the file marks `active: false` is retired (`retire_unit`); stored units the file
    leaves out are listed in `missing` and retired only with `retire_missing`. Group changes
    reach the shown plans at once (`sync_assignments`).
    """
    summary = ImportSummary()
    existing = units_by_code(session=session)
    _import_groups(session, units_file)
    retiring: list[UnitSpec] = []
    for spec in units_file.units:
        unit = existing.get(spec.code)
        values: dict[str, Any] = {
            "name": spec.name,
            "parent_code": spec.parent,
            "aliases": list(spec.aliases),
            "abbreviation": spec.abbreviation,
            "signer": spec.signer,
            "party": spec.party,
            "merged_into": spec.merged_into,
        }
        if unit is None:
            retired_on = None if spec.active else local_date(now)
            unit = Unit(code=spec.code, active=spec.active, retired_on=retired_on, **values)
            session.add(unit)
            summary.created += 1
        else:
            if spec.active:
                values |= {"active": True, "retired_on": None}
            elif unit.active:
                retiring.append(spec)  # once every unit is in: its successor may be new
            if assign(unit, values):
                summary.updated += 1
        session.flush()
        assert unit.id is not None
        current = set(
            session.exec(select(GroupMember.group_code).where(GroupMember.unit_id == unit.id))
        )
        if current != set(spec.groups):
            session.exec(delete(GroupMember).where(col(GroupMember.unit_id) == unit.id))
            session.add_all(GroupMember(group_code=g, unit_id=unit.id) for g in spec.groups)
    listed = {spec.code for spec in units_file.units}
    summary.missing = sorted(c for c, u in existing.items() if u.active and c not in listed)
    leaving = [(spec.code, spec.merged_into) for spec in retiring]
    if retire_missing:
        leaving += [(code, None) for code in summary.missing]
    for code, into in leaving:
        retire_unit(session, code, into=into, now=now)
        summary.retired.append(code)
    summary.add(sync_assignments(session, now=now, calendar=calendar))
    return summary


def _import_groups(session: Session, units_file: UnitsFile) -> None:
    """Create or update the groups the file describes or its units name."""
    groups = {g.code: g for g in session.exec(select(UnitGroup))}
    wanted = {g.code: (g.name, list(g.aliases)) for g in units_file.group_specs}
    for spec in units_file.units:
        for code in spec.groups:
            stored = groups.get(code)
            wanted.setdefault(code, (stored.name, stored.aliases) if stored else ("", []))
    for code, (name, aliases) in wanted.items():
        group = groups.get(code)
        if group is None:
            session.add(UnitGroup(code=code, name=name, aliases=aliases))
        else:
            assign(group, {"name": name or group.name, "aliases": aliases})


def retire_unit(session: Session, code: str, *, into: str | None, now: datetime) -> int:
    """Retire a unit: it gets no more reminders, and its open work moves to `into` or closes.

    What it did stays its own, so reports dated before today are unchanged. Each open
    occurrence ends today; the successor takes it over from today ("tiếp nhận từ …"), or with
    no successor it closes as "đơn vị đã giải thể" and leaves the percentages. The unit's
    contacts are told once by the tick (scheduler/notices.py). Returns the occurrences ended.
    """
    units = units_by_code(session=session)
    unit = units.get(code)
    if unit is None or unit.id is None:
        raise UnknownUnitError(code)
    if not unit.active:
        raise UnitChangeError(f"Đơn vị {code} đã ngừng hoạt động từ trước.")
    successor = units.get(into) if into else None
    if into and successor is None:
        raise UnknownUnitError(into)
    if successor is not None and (successor.code == code or not successor.active):
        raise UnitChangeError(f"Đơn vị tiếp nhận {into} phải là một đơn vị khác còn hoạt động.")
    today = local_date(now)
    assign(unit, {"active": False, "merged_into": into, "retired_on": today})
    ended = 0
    assignments = session.exec(
        select(Assignment).where(Assignment.unit_id == unit.id, Assignment.active)
    ).all()
    for assignment in assignments:
        assign(assignment, {"active": False, "ended_on": today})
        rows = session.exec(
            select(Occurrence).where(
                Occurrence.assignment_id == assignment.id,
                Occurrence.active,
                Occurrence.status != ReportStatus.DONE,
            )
        ).all()
        for row in rows:
            assign(row, {"active": False, "until": today, "next_reminder_at": None})
        if successor is not None:
            _take_over(session, assignment, rows, successor, now=now)
        ended += len(rows)
    session.flush()
    return ended


def _take_over(
    session: Session,
    assignment: Assignment,
    rows: Sequence[Occurrence],
    successor: Unit,
    *,
    now: datetime,
) -> None:
    """Give a successor a retired unit's open occurrences of one task, from today."""
    today = local_date(now)
    target = session.exec(
        select(Assignment).where(
            Assignment.task_id == assignment.task_id, Assignment.unit_id == successor.id
        )
    ).first()
    if target is None:
        assert successor.id is not None
        target = Assignment(
            task_id=assignment.task_id,
            unit_id=successor.id,
            role=assignment.role,
            starts_on=today,
        )
        session.add(target)
        session.flush()
    else:
        assign(target, {"active": True, "ended_on": None})
        if assignment.role == AssignmentRole.OWNER:
            target.role = AssignmentRole.OWNER
    assert target.id is not None
    have = {
        o.period: o
        for o in session.exec(select(Occurrence).where(Occurrence.assignment_id == target.id))
    }
    for row in rows:
        found = have.get(row.period)
        if found is not None and found.active:
            continue  # the successor has this period of its own already
        values: dict[str, Any] = {
            "due_date": row.due_date,
            "active": True,
            "since": today,
            "until": None,
            "taken_from_id": assignment.unit_id,
            "next_reminder_at": now,  # the tick works out which step is due (plans/policy.py)
        }
        if found is None:
            session.add(Occurrence(assignment_id=target.id, period=row.period, **values))
        else:
            assign(found, values)


def sync_assignments(
    session: Session, *, now: datetime, calendar: Calendar | None = None
) -> ImportSummary:
    """Bring every shown plan's assignments in line with the stored units and groups.

    A unit that joined a group is assigned the group's tasks due from today on, never a deadline
    already past; one that left (or retired) is no longer reminded and keeps its history.
    """
    calendar = calendar or default_calendar()
    session.flush()
    directory, unit_ids, heirs = stored_units(session)
    writer = BatchWriter(session.get_bind(), size=BATCH_ROWS)
    writer.session = session
    summary = ImportSummary()
    for plan in session.exec(select(Plan).where(Plan.visible)).all():
        assert plan.id is not None
        scope = ImportScope(
            directory=directory,
            unit_ids=unit_ids,
            horizon=plan.horizon or horizon_for(now, plan.issued, plan.until),
            now=now,
            policy=ReminderPolicy.from_mapping(plan.reminders),
            calendar=calendar,
            heirs=heirs,
        )
        tasks = session.exec(select(Task).where(Task.plan_id == plan.id, Task.active)).all()
        for task in tasks:
            assert task.id is not None
            deadline = parse_deadline(task.due_text, issued=plan.issued, calendar=calendar)
            state = read_task(session, task.id)
            units = scope.with_heirs(
                scope.units(task.owners or [task.owner_code], task.partners), state
            )
            wanted = scope.wanted(deadline)
            changes = task_changes(state, units, wanted, today=scope.today, new_from=scope.today)
            write_changes(writer, task.id, changes, summary)
    return summary
