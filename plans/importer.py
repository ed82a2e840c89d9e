"""Write validated units and plans to storage: assignments per unit, occurrences per due date."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, case, exists, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, delete, select

from plans.calendar import Calendar, default_calendar
from plans.clock import local_date
from plans.deadline import Deadline, parse_deadline
from plans.errors import DondocError, UnknownUnitError
from plans.indicator_store import save_specs
from plans.plan_file import Directory, PlanSpec, TaskSpec, load_plan_file
from plans.policy import ReminderPolicy, first_look_at
from plans.units_file import UnitsFile, UnitSpec
from storage.db import insert_ignore, is_sqlite, read_session, session_scope
from storage.enums import AssignmentRole, ReportStatus
from storage.models import (
    Assignment,
    GroupMember,
    Occurrence,
    Plan,
    Task,
    TaskIndicator,
    Unit,
    UnitGroup,
)
from storage.queries import group_members, plan_by_code, units_by_code

ONCE = "once"
UNDATED = "undated"  # the deadline kind of a task the plan gives no date (plans/deadline.py)
BATCH_ROWS = 2_000  # rows per write transaction while a new plan is invisible
# SQLite has one write lock, and a waiting writer's busy handler polls it with growing sleeps
# (up to 100 ms): a writer that takes it again at once starves a reply waiting for it. After
# each batch the importer leaves the lock free for this share of the time it held it.
YIELD_RATIO = 0.5
Progress = Callable[[int], None]
Wanted = dict[str, tuple[date | None, datetime | None]]  # period → (due date, first reminder)


class UnitChangeError(DondocError):
    """A unit change that cannot be made (a unit retired already, a successor not active)."""


class TaskDueError(DondocError):
    """A date given to a task that cannot take it; nothing is changed."""


@dataclass
class ImportSummary:
    """What an import changed, for the command line."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0
    occurrences: int = 0
    missing: list[str] = field(default_factory=list)  # active units a units file leaves out
    retired: list[str] = field(default_factory=list)  # units this import retired

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        counts = (self.created, self.updated, self.deactivated, self.occurrences)
        return any(counts) or bool(self.retired)

    def add(self, other: ImportSummary) -> None:
        """Count another summary's changes in this one."""
        self.created += other.created
        self.updated += other.updated
        self.deactivated += other.deactivated
        self.occurrences += other.occurrences


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
            if _assign(unit, values):
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
            _assign(group, {"name": name or group.name, "aliases": aliases})


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
    _assign(unit, {"active": False, "merged_into": into, "retired_on": today})
    ended = 0
    assignments = session.exec(
        select(Assignment).where(Assignment.unit_id == unit.id, Assignment.active)
    ).all()
    for assignment in assignments:
        _assign(assignment, {"active": False, "ended_on": today})
        rows = session.exec(
            select(Occurrence).where(
                Occurrence.assignment_id == assignment.id,
                Occurrence.active,
                Occurrence.status != ReportStatus.DONE,
            )
        ).all()
        for row in rows:
            _assign(row, {"active": False, "until": today, "next_reminder_at": None})
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
        _assign(target, {"active": True, "ended_on": None})
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
            _assign(found, values)


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the fields that differ; tell whether anything changed (so re-imports stay no-ops)."""
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    return bool(changed)


def directory_from_db(session: Session) -> Directory:
    """The units directory a plan is validated against: retired units lead to their successor."""
    units = units_by_code(session=session)
    names = {code: (unit.name, *unit.aliases) for code, unit in units.items()}
    for group in session.exec(select(UnitGroup)):
        names[group.code] = (group.name, *group.aliases)
    members = group_members(session=session)
    return Directory(
        units=frozenset(c for c, u in units.items() if u.active),
        groups={code: tuple(codes) for code, codes in members.items()},
        names=names,
        retired={c: u.merged_into for c, u in units.items() if not u.active},
    )


def _stored_units(
    session: Session,
) -> tuple[Directory, dict[str, int], dict[int, tuple[int, date]]]:
    """The directory, unit ids by code, and each retired unit's heir (`_Scope.heirs`)."""
    units = units_by_code(session=session)
    directory = directory_from_db(session)
    ids = {code: unit.id for code, unit in units.items() if unit.id is not None}
    heirs: dict[int, tuple[int, date]] = {}
    for code, unit in units.items():
        heir = directory.successor(code) if not unit.active else None
        if heir is not None and unit.retired_on is not None:
            heirs[ids[code]] = (ids[heir], unit.retired_on)
    return directory, ids, heirs


def _current_units(directory: Directory, code: str) -> tuple[str, ...]:
    """The active units a stored owner or partner code stands for now."""
    if code in directory.groups:
        return directory.groups[code]
    if code in directory.units:
        return (code,)
    successor = directory.successor(code)
    return (successor,) if successor else ()


def sync_assignments(
    session: Session, *, now: datetime, calendar: Calendar | None = None
) -> ImportSummary:
    """Bring every shown plan's assignments in line with the stored units and groups.

    A unit that joined a group is assigned the group's tasks due from today on, never a deadline
    already past; one that left (or retired) is no longer reminded and keeps its history.
    """
    calendar = calendar or default_calendar()
    session.flush()
    directory, unit_ids, heirs = _stored_units(session)
    writer = _Writer(session.get_bind(), size=BATCH_ROWS)  # type: ignore[arg-type]
    writer.session = session
    summary = ImportSummary()
    for plan in session.exec(select(Plan).where(Plan.visible)).all():
        assert plan.id is not None
        scope = _Scope(
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
            state = _read_task(session, task.id)
            units = scope.with_heirs(
                scope.units(task.owners or [task.owner_code], task.partners), state
            )
            wanted = scope.wanted(deadline)
            changes = _changes(state, units, wanted, today=scope.today, new_from=scope.today)
            _write(writer, task.id, changes, summary)
    return summary


def load_and_import_plan(
    engine: Engine,
    path: Path,
    *,
    now: datetime,
    calendar: Calendar | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> tuple[PlanSpec, ImportSummary]:
    """Validate a plan file against the stored units, then import it."""
    with read_session(engine) as session:
        directory = directory_from_db(session)
    spec = load_plan_file(path, directory, calendar=calendar)
    summary = import_plan(
        engine, spec, now=now, calendar=calendar, batch_rows=batch_rows, progress=progress
    )
    return spec, summary


def horizon_for(now: datetime, issued: date, until: date | None = None) -> date:
    """Recurring occurrences are expanded to the end of the year after now (or after issued),
    never past the plan's end (`until`)."""
    year = max(local_date(now).year, issued.year) + 1
    return min(date(year, 12, 31), until or date.max)


def import_plan(
    engine: Engine,
    spec: PlanSpec,
    *,
    now: datetime,
    calendar: Calendar | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> ImportSummary:
    """Create or update a plan; reports already received are kept.

    What to write is worked out from reads, which take no write lock. A visible plan's changes
    are then written in one transaction, so no reader sees half of them. A new plan, or one
    whose first import stopped midway, is written in transactions of `batch_rows` rows while
    it is invisible (`Plan.visible` false, its tasks inactive: the tick, /viec, /status and the
    reports skip it), and shown by a last short one; a failure removes it, a crash leaves it
    invisible and the next import finishes it. `progress` hears the rows written so far.
    """
    with read_session(engine) as session:
        plan = plan_by_code(session=session, code=spec.code)
        directory, unit_ids, heirs = _stored_units(session)
        scope = _Scope(
            directory=directory,
            unit_ids=unit_ids,
            horizon=min(
                max(horizon_for(now, spec.issued), (plan and plan.horizon) or date.min),
                spec.until or date.max,
            ),
            now=now,
            policy=spec.policy,
            calendar=calendar or default_calendar(),
            heirs=heirs,
        )
    writer = _Writer(engine, size=batch_rows, progress=progress)
    if plan is not None and plan.visible:
        assert plan.id is not None
        return _update_visible(writer, spec, plan.id, scope)
    return _write_invisible(writer, spec, plan.id if plan else None, scope)


@dataclass(frozen=True)
class _Scope:
    """What every task of one import shares."""

    directory: Directory
    unit_ids: dict[str, int]
    horizon: date
    now: datetime
    policy: ReminderPolicy
    calendar: Calendar
    # retired unit id → (the id of the active unit that took over its work, the day it retired)
    heirs: dict[int, tuple[int, date]] = field(default_factory=dict)

    @property
    def today(self) -> date:
        """The local day of the import."""
        return local_date(self.now)

    def units(self, owners: Sequence[str], partners: Sequence[str]) -> dict[int, AssignmentRole]:
        """The ids of the units a task assigns (a group: each member), with how each takes part.

        Every owner ("chủ trì") is assigned, a unit named both ways leads; partners ("phối
        hợp") are assigned too: the tick tells them once, and they report only if asked.
        """
        roles: dict[int, AssignmentRole] = {}
        for role, codes in ((AssignmentRole.PARTNER, partners), (AssignmentRole.OWNER, owners)):
            for code in codes:
                for unit in _current_units(self.directory, code):
                    roles[self.unit_ids[unit]] = role
        return roles

    def of_spec(self, spec: TaskSpec) -> dict[int, AssignmentRole]:
        """The units a task of the file assigns."""
        return self.units(spec.owners, spec.partners)

    def with_heirs(
        self, units: dict[int, AssignmentRole], state: _TaskState
    ) -> dict[int, AssignmentRole]:
        """`units`, and the successor of every unit whose part in the task ended when it
        retired: it carries that part on, whether or not it belongs to the task's groups."""
        found = dict(units)
        for unit_id, held in state.assignments.items():
            if unit_id not in self.heirs or held.ended_on is None:
                continue
            heir, retired_on = self.heirs[unit_id]
            if held.ended_on >= retired_on and (
                heir not in found or held.role == AssignmentRole.OWNER
            ):
                found[heir] = held.role
        return found

    def due(self, spec: TaskSpec, override: str | None) -> tuple[TaskSpec, str | None]:
        """The task with its deadline: the file's, or while the file gives none, the date a
        coordinator gave it (`set_task_due`), which is then kept."""
        if not override or spec.deadline.kind != UNDATED:
            return spec, None
        deadline = parse_deadline(override, issued=spec.deadline.issued, calendar=self.calendar)
        return replace(spec, deadline=deadline, due_text=deadline.text.strip()), override

    def wanted(self, deadline: Deadline) -> Wanted:
        """The occurrences a deadline asks for up to the horizon."""
        return wanted_periods(
            Expansion(deadline, self.horizon, self.now, self.policy, self.calendar)
        )


def _plan_values(spec: PlanSpec) -> dict[str, Any]:
    """The plan's columns taken from its file."""
    return {
        "number": spec.number,
        "title": spec.title,
        "issuer": spec.issuer,
        "issued": spec.issued,
        "coordinator_code": spec.coordinator,
        "reminders": spec.reminders,
        "source": str(spec.path),
        "until": spec.until,
        "implements": spec.implements,
        "issued_note": spec.issued_note,
    }


def _update_visible(writer: _Writer, spec: PlanSpec, plan_id: int, scope: _Scope) -> ImportSummary:
    """Work out a shown plan's changes from a read, then write them in one transaction."""
    work: list[tuple[TaskSpec | None, int | None, str | None, _Changes]] = []
    with read_session(writer.engine) as session:
        stored = _task_ids(session, plan_id)
        for task_spec in spec.tasks:
            task_id, override = stored.pop(task_spec.key, (None, None))
            task_spec, override = scope.due(task_spec, override)
            state = _read_task(session, task_id)
            # A unit newly assigned a task it did not have starts today: no deadline already past.
            new_from = scope.today if task_id is not None else None
            wanted = scope.wanted(task_spec.deadline)
            units = scope.with_heirs(scope.of_spec(task_spec), state)
            changes = _changes(state, units, wanted, today=scope.today, new_from=new_from)
            work.append((task_spec, task_id, override, changes))
        for task_id, _ in stored.values():  # removed from the file: keep history, stop tracking
            changes = _changes(_read_task(session, task_id), {}, {}, today=scope.today)
            work.append((None, task_id, None, changes))
    summary = ImportSummary()
    with session_scope(writer.engine) as session:
        writer.session = session
        plan = session.get(Plan, plan_id)
        assert plan is not None
        if _assign(plan, _plan_values(spec)):
            plan.imported_at = scope.now
            summary.updated += 1
        plan.horizon = scope.horizon
        for position, (listed, task_id, override, changes) in enumerate(work):
            task_id = _save_task(
                session, plan_id, position, listed, task_id, True, summary, override
            )
            _write(writer, task_id, changes, summary)
    return summary


def _write_invisible(
    writer: _Writer, spec: PlanSpec, plan_id: int | None, scope: _Scope
) -> ImportSummary:
    """Write a plan nobody sees yet in short transactions, then show it."""
    engine = writer.engine
    summary = ImportSummary()
    with session_scope(engine) as session:
        plan = session.get(Plan, plan_id) if plan_id is not None else None
        if plan is None:
            plan = Plan(code=spec.code, imported_at=scope.now, visible=False, **_plan_values(spec))
            session.add(plan)
            summary.created += 1
        _assign(plan, {**_plan_values(spec), "imported_at": scope.now, "horizon": scope.horizon})
        session.flush()
        assert plan.id is not None
        plan_id = plan.id
    try:
        with read_session(engine) as session:
            stored = _task_ids(session, plan_id)
        for position, task_spec in enumerate(spec.tasks):
            with session_scope(engine) as session:
                task_id, override = stored.pop(task_spec.key, (None, None))
                task_spec, override = scope.due(task_spec, override)
                task_id = _save_task(
                    session, plan_id, position, task_spec, task_id, False, summary, override
                )
            with read_session(engine) as session:
                state = _read_task(session, task_id)
            wanted = scope.wanted(task_spec.deadline)
            changes = _changes(state, scope.of_spec(task_spec), wanted, today=scope.today)
            _write(writer, task_id, changes, summary)
        for task_id, _ in stored.values():  # left by an earlier attempt, no longer in the file
            with read_session(engine) as session:
                state = _read_task(session, task_id)
            _write(writer, task_id, _changes(state, {}, {}, today=scope.today), summary)
        with session_scope(engine) as session:
            keys = [t.key for t in spec.tasks]
            connection = session.connection()
            connection.execute(
                update(Task)
                .where(col(Task.plan_id) == plan_id, col(Task.key).in_(keys))
                .values(active=True)
            )
            connection.execute(update(Plan).where(col(Plan.id) == plan_id).values(visible=True))
    except BaseException:
        _discard(engine, plan_id)
        raise
    return summary


def _task_ids(session: Session, plan_id: int) -> dict[str, tuple[int, str | None]]:
    """The plan's stored tasks: key → (id, the date a coordinator gave it)."""
    rows = session.execute(
        select(Task.key, Task.id, Task.due_override).where(Task.plan_id == plan_id)
    ).all()
    return {key: (task_id, override) for key, task_id, override in rows}


def _save_task(
    session: Session,
    plan_id: int,
    position: int,
    spec: TaskSpec | None,
    task_id: int | None,
    active: bool,
    summary: ImportSummary,
    override: str | None = None,
) -> int:
    """Create or update a task row from the file; without a spec, stop tracking it."""
    task = session.get(Task, task_id) if task_id is not None else None
    if spec is None:
        assert task is not None and task.id is not None
        if task.active:
            task.active = False
            summary.deactivated += 1
        return task.id
    values: dict[str, Any] = {
        "position": position,
        "title": spec.title,
        "owner_code": spec.owner,
        "owners": list(spec.owners),
        "partners": list(spec.partners),
        "external_partners": list(spec.external_partners),
        "partners_report": spec.partners_report,
        "request": spec.request,
        "due_text": spec.due_text,
        "due_kind": spec.deadline.kind,
        "due_override": override,
        "active": active,
    }
    if task is None:
        task = Task(plan_id=plan_id, key=spec.key, **values)
        session.add(task)
        session.flush()
        summary.created += 1
        assert task.id is not None
        save_specs(session, task.id, spec.indicators)
        return task.id
    changed = _assign(task, values)
    assert task.id is not None
    if save_specs(session, task.id, spec.indicators) or changed:  # plans/indicator_store.py
        summary.updated += 1
    return task.id


def _discard(engine: Engine, plan_id: int) -> None:
    """Remove a plan that failed before it was shown, in short transactions."""
    with read_session(engine) as session:
        plan = session.get(Plan, plan_id)
        if plan is None or plan.visible:
            return
        assignment_ids = list(
            session.scalars(
                select(Assignment.id)
                .join(Task, col(Task.id) == col(Assignment.task_id))
                .where(col(Task.plan_id) == plan_id)
            )
        )
    step = 200  # assignments per transaction: a few thousand occurrences
    for start in range(0, len(assignment_ids), step):
        chunk = assignment_ids[start : start + step]
        with session_scope(engine) as session:
            connection = session.connection()
            connection.execute(delete(Occurrence).where(col(Occurrence.assignment_id).in_(chunk)))
            connection.execute(delete(Assignment).where(col(Assignment.id).in_(chunk)))
    with session_scope(engine) as session:
        tasks = select(col(Task.id)).where(col(Task.plan_id) == plan_id)
        indicators = col(TaskIndicator.task_id).in_(tasks)
        session.connection().execute(delete(TaskIndicator).where(indicators))
        session.connection().execute(delete(Task).where(col(Task.plan_id) == plan_id))
        session.connection().execute(delete(Plan).where(col(Plan.id) == plan_id))


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


@dataclass(frozen=True)
class _Held:
    """An assignment as read before writing."""

    id: int
    active: bool
    role: AssignmentRole
    starts_on: date | None  # periods due before it are not this unit's
    ended_on: date | None  # the day its unit left the task's groups or retired


@dataclass
class _TaskState:
    """A stored task: unit id → assignment, assignment id → period → occurrence."""

    assignments: dict[int, _Held] = field(default_factory=dict)
    occurrences: dict[int, dict[str, _Stored]] = field(default_factory=dict)


def _read_task(session: Session, task_id: int | None) -> _TaskState:
    """A task's assignments and occurrences (nothing for a task not stored yet)."""
    state = _TaskState()
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
        )
        .join(Assignment, col(Assignment.id) == col(Occurrence.assignment_id))
        .where(col(Assignment.task_id) == task_id)
    )
    for occurrence_id, assignment_id, period, due, active, status in occurrences:
        stored = _Stored(occurrence_id, due, active, status == ReportStatus.DONE)
        state.occurrences.setdefault(assignment_id, {})[period] = stored
    return state


@dataclass
class _Changes:
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


def _changes(
    state: _TaskState,
    units: dict[int, AssignmentRole],
    wanted: Wanted,
    *,
    today: date,
    new_from: date | None = None,
) -> _Changes:
    """One assignment per unit with the wanted occurrences; the rest stop being tracked.

    A new assignment starts at `new_from` (None: with the plan); periods due before an
    assignment's start are neither created nor retired. An assignment no longer wanted ends:
    its open occurrences stop, its done ones stay (a unit that left keeps its history).
    """
    changes = _Changes()
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
            elif row.due != due or not row.active:
                changes.moved.append({"row_id": row.id, "due": due, "next": first})
        changes.retired += [r.id for p, r in stored.items() if r.active and p not in wanted]
    for held in others.values():
        if held.active:
            changes.ended.append({"row_id": held.id, "day": today})
            stored = state.occurrences.get(held.id, {})
            closing = [r.id for r in stored.values() if r.active and not r.done]
            changes.closed += [{"row_id": i, "until": today} for i in closing]
    return changes


ACTIVATE_ASSIGNMENT = (
    update(Assignment)
    .where(Assignment.id == bindparam("row_id"))  # type: ignore[arg-type]
    .values(active=True, ended_on=None, role=bindparam("role"))
)
END_ASSIGNMENT = (
    update(Assignment)
    .where(Assignment.id == bindparam("row_id"))  # type: ignore[arg-type]
    .values(active=False, ended_on=bindparam("day"))
)
MOVE_OCCURRENCE = (
    update(Occurrence)
    .where(Occurrence.id == bindparam("row_id"))  # type: ignore[arg-type]
    .values(
        due_date=bindparam("due"),
        active=True,
        until=None,
        # A done occurrence needs no reminder; the others start again from the new date.
        next_reminder_at=case(
            (Occurrence.status == "done", Occurrence.next_reminder_at),  # type: ignore[arg-type]
            else_=bindparam("next", type_=Occurrence.__table__.c.next_reminder_at.type),  # type: ignore[attr-defined]
        ),
    )
)
RETIRE_OCCURRENCE = (
    update(Occurrence)
    .where(Occurrence.id == bindparam("row_id"))  # type: ignore[arg-type]
    .values(active=False, next_reminder_at=None)
)
# Tracked until today: reports dated before it still show the row (reports/model.py).
CLOSE_OCCURRENCE = (
    update(Occurrence)
    .where(Occurrence.id == bindparam("row_id"))  # type: ignore[arg-type]
    .values(active=False, next_reminder_at=None, until=bindparam("until"))
)


@cache
def _delete_unreferenced() -> Any:
    """Delete an occurrence unless a row refers to it (report, outbox row, reply code, …).

    Checked in the writing transaction, so a reminder sent since the read is seen; the
    referring columns come from the schema, so a new table that points at occurrences counts.
    """
    table = Occurrence.__table__  # type: ignore[attr-defined]
    references = [
        fk.parent
        for other in SQLModel.metadata.sorted_tables
        for fk in other.foreign_keys
        if fk.column.table is table
    ]
    return delete(table).where(
        table.c.id == bindparam("row_id"),
        *(~exists().where(column == table.c.id) for column in references),
    )


def _write(writer: _Writer, task_id: int, changes: _Changes, summary: ImportSummary) -> None:
    """Write one task's changes; occurrences no longer wanted are retired or, unused, deleted."""
    writer.execute(ACTIVATE_ASSIGNMENT, changes.activated)
    writer.execute(END_ASSIGNMENT, changes.ended)
    writer.insert(
        Assignment,
        [
            {"task_id": task_id, "unit_id": u, "active": True, "role": role, "starts_on": starts}
            for u, role, starts in changes.new_units
        ],
    )
    if changes.new_occurrences:
        ids = dict(
            writer.read(
                select(Assignment.unit_id, Assignment.id).where(Assignment.task_id == task_id)
            )
        )
        writer.insert(
            Occurrence,
            [
                {
                    "assignment_id": ids[unit_id],
                    "period": period,
                    "due_date": due,
                    "next_reminder_at": first,
                    "status": "none",
                    "active": True,
                    "since": since,
                }
                for unit_id, period, due, first, since in changes.new_occurrences
            ],
        )
    writer.execute(MOVE_OCCURRENCE, changes.moved)
    retired = [{"row_id": i} for i in changes.retired]
    writer.execute(_delete_unreferenced(), retired)
    writer.execute(RETIRE_OCCURRENCE, retired)  # those still there: something refers to them
    writer.execute(CLOSE_OCCURRENCE, changes.closed)
    summary.created += len(changes.new_units)
    summary.updated += len(changes.activated) + len(changes.moved)
    summary.deactivated += len(changes.ended) + len(changes.retired) + len(changes.closed)
    summary.occurrences += len(changes.new_occurrences)


class _Writer:
    """An import's writes: in `session` when one is set, else in short transactions."""

    def __init__(self, engine: Engine, *, size: int, progress: Progress | None = None) -> None:
        self.engine = engine
        self.yields = is_sqlite(engine)
        self.session: Session | None = None
        self.size = size
        self.progress = progress
        self.written = 0

    def execute(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        """Run a statement for each row (executemany), `size` rows at a time."""
        self._run(lambda session, chunk: session.connection().execute(statement, chunk), rows)

    def insert(self, model: type, rows: list[dict[str, Any]]) -> None:
        """Insert rows, skipping those already there (a concurrent tick may have added them)."""
        self._run(lambda session, chunk: insert_ignore(session, model, chunk), rows)

    def read(self, query: Any) -> Sequence[Any]:
        """Rows of a query, seeing what this writer wrote."""
        if self.session is not None:
            return self.session.execute(query).all()
        with read_session(self.engine) as session:
            return session.execute(query).all()

    def _run(self, work: Callable[[Session, list[dict[str, Any]]], object], rows: list) -> None:
        """Do `work` on chunks of rows, each in its own transaction unless a session is set."""
        for start in range(0, len(rows), self.size):
            chunk = rows[start : start + self.size]
            if self.session is not None:
                work(self.session, chunk)
            else:
                started = time.monotonic()
                with session_scope(self.engine) as session:
                    work(session, chunk)
                if self.yields:
                    time.sleep((time.monotonic() - started) * YIELD_RATIO)
            self.written += len(chunk)
            if self.progress is not None:
                self.progress(self.written)


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
    calendar = calendar or default_calendar()
    summary = ImportSummary()
    with read_session(engine) as session:
        plans = [
            (plan.id, plan.issued, plan.reminders, horizon_for(now, plan.issued, plan.until))
            for plan in session.exec(select(Plan).where(Plan.visible))
            if (plan.horizon or date.min) < horizon_for(now, plan.issued, plan.until)
        ]
    writer = _Writer(engine, size=batch_rows)
    for plan_id, issued, reminders, horizon in plans:
        policy = ReminderPolicy.from_mapping(reminders)
        with read_session(engine) as session:
            tasks = session.execute(
                select(Task.id, Task.due_text).where(Task.plan_id == plan_id, Task.active)
            ).all()
        for task_id, due_text in tasks:
            deadline = parse_deadline(due_text, issued=issued, calendar=calendar)
            if not deadline.recurring:
                continue
            with read_session(engine) as session:
                state = _read_task(session, task_id)
            units = {unit: held.role for unit, held in state.assignments.items() if held.active}
            wanted = wanted_periods(Expansion(deadline, horizon, now, policy, calendar))
            changes = _changes(state, units, wanted, today=local_date(now))
            added = changes.new_occurrences  # the rest are imports' to decide
            _write(writer, task_id, _Changes(new_occurrences=added), summary)
        with session_scope(engine) as session:
            session.connection().execute(
                update(Plan).where(col(Plan.id) == plan_id).values(horizon=horizon)
            )
    return summary


def set_task_due(
    session: Session,
    *,
    plan_code: str,
    task_key: str,
    expression: str,
    now: datetime,
    calendar: Calendar | None = None,
) -> Deadline:
    """Give an undated task of a shown plan a deadline; its units are reminded from then on.

    The plan's imports keep it until the file gives the task a date of its own. Bad input
    raises TaskDueError or DeadlineError and changes nothing.
    """
    calendar = calendar or default_calendar()
    plan = plan_by_code(session=session, code=plan_code)
    if plan is None or plan.id is None or not plan.visible:
        raise TaskDueError(f"Không có kế hoạch mã {plan_code}.")
    task = session.exec(
        select(Task).where(Task.plan_id == plan.id, Task.key == task_key, Task.active)
    ).first()
    if task is None or task.id is None:
        raise TaskDueError(f"Kế hoạch {plan.code} không có nhiệm vụ {task_key}.")
    if task.due_kind != UNDATED and task.due_override is None:
        raise TaskDueError(f"Nhiệm vụ {task.key} đã có thời hạn trong kế hoạch: {task.due_text}.")
    deadline = parse_deadline(expression, issued=plan.issued, calendar=calendar)
    if deadline.kind != "dated":
        raise TaskDueError(
            "Thời hạn phải cho ra ngày cụ thể, ví dụ «trước ngày 30/6/2026» "
            "hoặc «Tháng 12 hằng năm»."
        )
    text = deadline.text.strip()
    _assign(task, {"due_text": text, "due_kind": deadline.kind, "due_override": text})
    session.flush()
    scope = _Scope(
        directory=directory_from_db(session),
        unit_ids={},
        horizon=plan.horizon or horizon_for(now, plan.issued, plan.until),
        now=now,
        policy=ReminderPolicy.from_mapping(plan.reminders),
        calendar=calendar,
    )
    state = _read_task(session, task.id)
    units = {unit: held.role for unit, held in state.assignments.items() if held.active}
    writer = _Writer(session.get_bind(), size=BATCH_ROWS)  # type: ignore[arg-type]
    writer.session = session
    changes = _changes(state, units, scope.wanted(deadline), today=scope.today)
    _write(writer, task.id, changes, ImportSummary())
    return deadline
