"""Import a validated plan file: its tasks, an assignment per unit, an occurrence per due date."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from plans.calendar import Calendar, default_calendar
from plans.expansion import Changes, horizon_for, read_task, task_changes
from plans.import_scope import ImportScope, directory_from_db, stored_units
from plans.import_writer import (
    BATCH_ROWS,
    BatchWriter,
    ImportSummary,
    Progress,
    assign,
    write_changes,
)
from plans.indicator_store import save_specs
from plans.plan_file import load_plan_file
from plans.plan_spec import PlanSpec, TaskSpec
from storage.db import read_session, session_scope
from storage.models import Assignment, Occurrence, Plan, Task, TaskIndicator
from storage.queries import plan_by_code


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
        directory, unit_ids, heirs = stored_units(session)
        scope = ImportScope(
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
    writer = BatchWriter(engine, size=batch_rows, progress=progress)
    if plan is not None and plan.visible:
        assert plan.id is not None
        return _update_visible(writer, spec, plan.id, scope)
    return _write_invisible(writer, spec, plan.id if plan else None, scope)


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


def _update_visible(
    writer: BatchWriter, spec: PlanSpec, plan_id: int, scope: ImportScope
) -> ImportSummary:
    """Work out a shown plan's changes from a read, then write them in one transaction."""
    work: list[tuple[TaskSpec | None, int | None, str | None, Changes]] = []
    with read_session(writer.engine) as session:
        stored = _task_ids(session, plan_id)
        for task_spec in spec.tasks:
            task_id, override = stored.pop(task_spec.key, (None, None))
            task_spec, override = scope.due(task_spec, override)
            state = read_task(session, task_id)
            # A unit newly assigned a task it did not have starts today: no deadline already past.
            new_from = scope.today if task_id is not None else None
            wanted = scope.wanted(task_spec.deadline)
            units = scope.with_heirs(scope.of_spec(task_spec), state)
            changes = task_changes(state, units, wanted, today=scope.today, new_from=new_from)
            work.append((task_spec, task_id, override, changes))
        for task_id, _ in stored.values():  # removed from the file: keep history, stop tracking
            changes = task_changes(read_task(session, task_id), {}, {}, today=scope.today)
            work.append((None, task_id, None, changes))
    summary = ImportSummary()
    with session_scope(writer.engine) as session:
        writer.session = session
        plan = session.get(Plan, plan_id)
        assert plan is not None
        if assign(plan, _plan_values(spec)):
            plan.imported_at = scope.now
            summary.updated += 1
        plan.horizon = scope.horizon
        for position, (listed, task_id, override, changes) in enumerate(work):
            task_id = _save_task(
                session, plan_id, position, listed, task_id, True, summary, override
            )
            write_changes(writer, task_id, changes, summary)
    return summary


def _write_invisible(
    writer: BatchWriter, spec: PlanSpec, plan_id: int | None, scope: ImportScope
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
        assign(plan, {**_plan_values(spec), "imported_at": scope.now, "horizon": scope.horizon})
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
                state = read_task(session, task_id)
            wanted = scope.wanted(task_spec.deadline)
            changes = task_changes(state, scope.of_spec(task_spec), wanted, today=scope.today)
            write_changes(writer, task_id, changes, summary)
        for task_id, _ in stored.values():  # left by an earlier attempt, no longer in the file
            with read_session(engine) as session:
                state = read_task(session, task_id)
            write_changes(writer, task_id, task_changes(state, {}, {}, today=scope.today), summary)
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
    changed = assign(task, values)
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
