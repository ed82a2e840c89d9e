"""Write validated units and plans to storage: assignments per unit, occurrences per due date."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, case, exists, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, delete, select

from plans.calendar import Calendar, default_calendar
from plans.clock import local_date
from plans.deadline import Deadline, parse_deadline
from plans.plan_file import Directory, PlanSpec, TaskSpec, load_plan_file
from plans.policy import ReminderPolicy, next_step_after
from plans.units_file import UnitsFile
from storage.db import insert_ignore, is_sqlite, read_session, session_scope
from storage.models import (
    Assignment,
    GroupMember,
    Occurrence,
    Plan,
    Task,
    Unit,
    UnitGroup,
)
from storage.queries import group_members, plan_by_code, units_by_code

ONCE = "once"
BATCH_ROWS = 2_000  # rows per write transaction while a new plan is invisible
# SQLite has one write lock, and a waiting writer's busy handler polls it with growing sleeps
# (up to 100 ms): a writer that takes it again at once starves a reply waiting for it. After
# each batch the importer leaves the lock free for this share of the time it held it.
YIELD_RATIO = 0.5
Progress = Callable[[int], None]
Wanted = dict[str, tuple[date | None, datetime | None]]  # period → (due date, first reminder)


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


def horizon_for(now: datetime, issued: date) -> date:
    """Recurring occurrences are expanded to the end of the year after now (or after issued)."""
    year = max(local_date(now).year, issued.year) + 1
    return date(year, 12, 31)


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
        scope = _Scope(
            directory=directory_from_db(session),
            unit_ids={c: u.id for c, u in units_by_code(session=session).items() if u.id},
            horizon=max(horizon_for(now, spec.issued), (plan and plan.horizon) or date.min),
            now=now,
            policy=spec.policy,
            calendar=calendar or default_calendar(),
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

    def owners(self, task: TaskSpec) -> list[int]:
        """The ids of the units owning a task (a group: each member unit)."""
        return [self.unit_ids[code] for code in self.directory.members(task.owner)]

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
    }


def _update_visible(writer: _Writer, spec: PlanSpec, plan_id: int, scope: _Scope) -> ImportSummary:
    """Work out a shown plan's changes from a read, then write them in one transaction."""
    work: list[tuple[TaskSpec | None, int | None, _Changes]] = []
    with read_session(writer.engine) as session:
        stored = _task_ids(session, plan_id)
        for task_spec in spec.tasks:
            task_id = stored.pop(task_spec.key, None)
            state = _read_task(session, task_id)
            changes = _changes(state, scope.owners(task_spec), scope.wanted(task_spec.deadline))
            work.append((task_spec, task_id, changes))
        for task_id in stored.values():  # removed from the file: keep history, stop tracking
            work.append((None, task_id, _changes(_read_task(session, task_id), [], {})))
    summary = ImportSummary()
    with session_scope(writer.engine) as session:
        writer.session = session
        plan = session.get(Plan, plan_id)
        assert plan is not None
        if _assign(plan, _plan_values(spec)):
            plan.imported_at = scope.now
            summary.updated += 1
        plan.horizon = scope.horizon
        for position, (task_spec, task_id, changes) in enumerate(work):
            task_id = _save_task(session, plan_id, position, task_spec, task_id, True, summary)
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
                task_id = stored.pop(task_spec.key, None)
                task_id = _save_task(session, plan_id, position, task_spec, task_id, False, summary)
            with read_session(engine) as session:
                state = _read_task(session, task_id)
            changes = _changes(state, scope.owners(task_spec), scope.wanted(task_spec.deadline))
            _write(writer, task_id, changes, summary)
        for task_id in stored.values():  # left by an earlier attempt, no longer in the file
            with read_session(engine) as session:
                state = _read_task(session, task_id)
            _write(writer, task_id, _changes(state, [], {}), summary)
        with session_scope(engine) as session:
            keys = [t.key for t in spec.tasks]
            connection = session.connection()
            connection.execute(
                update(Task)
                .where(Task.plan_id == plan_id, Task.key.in_(keys))  # type: ignore[attr-defined]
                .values(active=True)
            )
            connection.execute(update(Plan).where(Plan.id == plan_id).values(visible=True))
    except BaseException:
        _discard(engine, plan_id)
        raise
    return summary


def _task_ids(session: Session, plan_id: int) -> dict[str, int]:
    """The plan's stored tasks: key → id."""
    rows = session.execute(select(Task.key, Task.id).where(Task.plan_id == plan_id)).all()
    return {key: task_id for key, task_id in rows}


def _save_task(
    session: Session,
    plan_id: int,
    position: int,
    spec: TaskSpec | None,
    task_id: int | None,
    active: bool,
    summary: ImportSummary,
) -> int:
    """Create or update a task row from the file; without a spec, stop tracking it."""
    task = session.get(Task, task_id) if task_id is not None else None
    if spec is None:
        assert task is not None and task.id is not None
        if task.active:
            task.active = False
            summary.deactivated += 1
        return task.id
    values = {
        "position": position,
        "title": spec.title,
        "owner_code": spec.owner,
        "partners": list(spec.partners),
        "due_text": spec.due_text,
        "due_kind": spec.deadline.kind,
        "active": active,
    }
    if task is None:
        task = Task(plan_id=plan_id, key=spec.key, **values)
        session.add(task)
        session.flush()
        summary.created += 1
    elif _assign(task, values):
        summary.updated += 1
    assert task.id is not None
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
                .join(Task, Task.id == Assignment.task_id)
                .where(Task.plan_id == plan_id)
            )
        )
    step = 200  # assignments per transaction: a few thousand occurrences
    for start in range(0, len(assignment_ids), step):
        chunk = assignment_ids[start : start + step]
        with session_scope(engine) as session:
            connection = session.connection()
            connection.execute(delete(Occurrence).where(Occurrence.assignment_id.in_(chunk)))  # type: ignore[attr-defined]
            connection.execute(delete(Assignment).where(Assignment.id.in_(chunk)))  # type: ignore[union-attr]
    with session_scope(engine) as session:
        session.connection().execute(delete(Task).where(Task.plan_id == plan_id))
        session.connection().execute(delete(Plan).where(Plan.id == plan_id))


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


@dataclass
class _TaskState:
    """A stored task: unit id → (assignment id, active), assignment id → period → occurrence."""

    assignments: dict[int, tuple[int, bool]] = field(default_factory=dict)
    occurrences: dict[int, dict[str, _Stored]] = field(default_factory=dict)


def _read_task(session: Session, task_id: int | None) -> _TaskState:
    """A task's assignments and occurrences (nothing for a task not stored yet)."""
    state = _TaskState()
    if task_id is None:
        return state
    assignments = session.execute(
        select(Assignment.id, Assignment.unit_id, Assignment.active).where(
            Assignment.task_id == task_id
        )
    )
    for assignment_id, unit_id, active in assignments:
        state.assignments[unit_id] = (assignment_id, active)
    occurrences = session.execute(
        select(
            Occurrence.id,
            Occurrence.assignment_id,
            Occurrence.period,
            Occurrence.due_date,
            Occurrence.active,
        )
        .join(Assignment, Assignment.id == Occurrence.assignment_id)
        .where(Assignment.task_id == task_id)
    )
    for occurrence_id, assignment_id, period, due, active in occurrences:
        stored = _Stored(occurrence_id, due, active)
        state.occurrences.setdefault(assignment_id, {})[period] = stored
    return state


@dataclass
class _Changes:
    """What one task's import writes."""

    new_units: list[int] = field(default_factory=list)  # assignments to create
    activated: list[int] = field(default_factory=list)  # assignment ids
    deactivated: list[int] = field(default_factory=list)
    # (unit id, period, due date, first reminder) of occurrences to create
    new_occurrences: list[tuple[int, str, date | None, datetime | None]] = field(
        default_factory=list
    )
    moved: list[dict[str, Any]] = field(default_factory=list)  # due date changed or back in use
    retired: list[int] = field(default_factory=list)  # occurrence ids no longer wanted


def _changes(state: _TaskState, owners: list[int], wanted: Wanted) -> _Changes:
    """One assignment per owner unit with the wanted occurrences; the rest stop being tracked."""
    changes = _Changes()
    others = dict(state.assignments)
    for unit_id in owners:
        found = others.pop(unit_id, None)
        stored: dict[str, _Stored] = {}
        if found is None:
            changes.new_units.append(unit_id)
        else:
            if not found[1]:
                changes.activated.append(found[0])
            stored = state.occurrences.get(found[0], {})
        for period, (due, first) in wanted.items():
            row = stored.get(period)
            if row is None:
                changes.new_occurrences.append((unit_id, period, due, first))
            elif row.due != due or not row.active:
                changes.moved.append({"row_id": row.id, "due": due, "next": first})
        changes.retired += [r.id for p, r in stored.items() if r.active and p not in wanted]
    for assignment_id, active in others.values():
        if active:
            changes.deactivated.append(assignment_id)
        stored = state.occurrences.get(assignment_id, {})
        changes.retired += [r.id for r in stored.values() if r.active]
    return changes


SET_ASSIGNMENT_ACTIVE = (
    update(Assignment)
    .where(Assignment.id == bindparam("row_id"))  # type: ignore[arg-type]
    .values(active=bindparam("on"))
)
MOVE_OCCURRENCE = (
    update(Occurrence)
    .where(Occurrence.id == bindparam("row_id"))  # type: ignore[arg-type]
    .values(
        due_date=bindparam("due"),
        active=True,
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
    writer.execute(
        SET_ASSIGNMENT_ACTIVE,
        [{"row_id": i, "on": True} for i in changes.activated]
        + [{"row_id": i, "on": False} for i in changes.deactivated],
    )
    writer.insert(
        Assignment, [{"task_id": task_id, "unit_id": u, "active": True} for u in changes.new_units]
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
                }
                for unit_id, period, due, first in changes.new_occurrences
            ],
        )
    writer.execute(MOVE_OCCURRENCE, changes.moved)
    retired = [{"row_id": i} for i in changes.retired]
    writer.execute(_delete_unreferenced(), retired)
    writer.execute(RETIRE_OCCURRENCE, retired)  # those still there: something refers to them
    summary.created += len(changes.new_units)
    summary.updated += len(changes.activated) + len(changes.moved)
    summary.deactivated += len(changes.deactivated) + len(changes.retired)
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
            (plan.id, plan.issued, plan.reminders, horizon_for(now, plan.issued))
            for plan in session.exec(select(Plan).where(Plan.visible))
            if (plan.horizon or date.min) < horizon_for(now, plan.issued)
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
            owners = [unit for unit, (_, active) in state.assignments.items() if active]
            wanted = wanted_periods(Expansion(deadline, horizon, now, policy, calendar))
            added = _changes(state, owners, wanted).new_occurrences  # existing rows: imports'
            _write(writer, task_id, _Changes(new_occurrences=added), summary)
        with session_scope(engine) as session:
            session.connection().execute(
                update(Plan).where(Plan.id == plan_id).values(horizon=horizon)
            )
    return summary
