"""The report's reads: plans, units, tasks and occurrences as they stood at a moment, classified."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, case, func, or_
from sqlalchemy import select as sa_select  # more columns than sqlmodel's select types
from sqlmodel import Session, col, select

from plans.clock import local_date
from plans.status import (
    FLAG_LABELS,
    NOTHING,
    ReportFact,
    Standing,
    Verdict,
    assess,
    standing,
)
from reports.model import (
    Closed,
    Dissolved,
    PlanHeader,
    ReportRow,
    TaskRef,
    UnitRef,
    UnknownPlanError,
    UnknownTaskError,
)
from storage.enums import AssignmentRole, ReportStatus
from storage.models import Assignment, Closing, Occurrence, Plan, Report, Task, Unit
from storage.queries import names_by_code


@dataclass
class Collected:
    """What one pass over storage yields: classified rows and facts about the reports."""

    rows: list[ReportRow]
    reporting_unit_ids: set[int]


def shown_plan(session: Session, code: str) -> Plan:
    """A plan by code, or UnknownPlanError."""
    plan = session.exec(select(Plan).where(Plan.code == code, Plan.visible)).first()
    if plan is None or plan.id is None:  # a plan still being imported is not shown yet
        raise UnknownPlanError(code)
    return plan


def shown_plans(session: Session) -> list[Plan]:
    """Every plan, by code (a plan still being imported is not shown yet)."""
    return list(session.exec(select(Plan).where(Plan.visible).order_by(Plan.code)))


def unit_refs(session: Session, where: Any = None) -> dict[int, UnitRef]:
    """The units matching `where` (every unit: a few thousand at most, one cheap query), by id."""
    query = sa_select(
        col(Unit.id),
        col(Unit.code),
        col(Unit.name),
        col(Unit.parent_code),
        col(Unit.abbreviation),
        col(Unit.signer),
        col(Unit.party),
        case((col(Unit.merged_into).is_(None), col(Unit.retired_on))),
    )
    rows: Sequence[Any] = session.execute(query if where is None else query.where(where)).all()
    return {r[0]: UnitRef(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7]) for r in rows}


def plan_header(plan: Plan, by_code: dict[str, UnitRef]) -> PlanHeader:
    """The plan header with its coordinator unit resolved."""
    coordinator = by_code.get(plan.coordinator_code) or UnitRef(
        0, plan.coordinator_code, plan.coordinator_code
    )
    parent = by_code.get(coordinator.parent_code) if coordinator.parent_code else None
    assert plan.id is not None
    return PlanHeader(
        id=plan.id,
        code=plan.code,
        number=plan.number,
        title=plan.title,
        issuer=plan.issuer,
        issued=plan.issued,
        coordinator=coordinator,
        coordinator_parent=parent,
        until=plan.until,
        implements=plan.implements,
    )


def task_ids_with_key(session: Session, plan_ids: Sequence[int], key: str) -> set[int]:
    """Ids of the active tasks with `key` in the plans, or UnknownTaskError."""
    found = {
        task_id
        for task_id in session.exec(
            select(Task.id).where(col(Task.plan_id).in_(plan_ids), Task.key == key, Task.active)
        )
        if task_id is not None
    }
    if not found:
        raise UnknownTaskError(key)
    return found


def collect(
    session: Session,
    *,
    at: date,
    cutoff: datetime,
    plan_ids: Sequence[int],
    units: dict[int, UnitRef],
    unit_ids: set[int] | None = None,
    task_ids: set[int] | None = None,
) -> Collected:
    """Classify the visible occurrences of the plans as they stood at `cutoff` on day `at`:
    two set-based queries, then Python."""
    tasks = _tasks(session, plan_ids, task_ids)
    connection = session.connection()
    found: Sequence[Any] = connection.execute(
        sa_select(
            col(Occurrence.id),
            col(Occurrence.assignment_id),
            col(Occurrence.period),
            col(Occurrence.due_date),
            col(Assignment.unit_id),
            col(Assignment.task_id),
            col(Assignment.role),
            col(Occurrence.taken_from_id),
        )
        .join(Assignment, col(Assignment.id) == Occurrence.assignment_id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(*_scope(plan_ids, unit_ids, task_ids, at))
    ).all()
    occurrences = {row[0]: row for row in found}
    # The current period of each assignment: its first due date after `at`.
    upcoming: dict[int, date] = {}
    for _, assignment_id, _, due, *_ in found:
        if due is not None and due > at and due < upcoming.get(assignment_id, date.max):
            upcoming[assignment_id] = due

    history: dict[int, list[ReportFact]] = defaultdict(list)
    reporting: set[int] = set()
    for r in _reports(connection, occurrences, cutoff):
        occurrence = occurrences.get(r[0])
        if occurrence is None:  # inside the id range, outside the selection
            continue
        history[r[0]].append(ReportFact(r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]), r[8]))
        reporting.add(occurrence[4])

    blank: dict[date | None, Verdict] = {}  # rows without reports differ only by due date
    parts: dict[tuple[int, AssignmentRole, int | None], tuple[str, ...]] = {}
    rows = []
    for occurrence_id, assignment_id, period, due, unit_id, task_id, role, taken in found:
        if due is not None and due > at and due != upcoming[assignment_id]:
            continue
        facts = history.get(occurrence_id)
        if facts:
            state = standing(facts)
            verdict = assess(due=due, state=state, at=at)
        else:
            state = NOTHING
            verdict = blank.get(due) or blank.setdefault(due, assess(due=due, state=state, at=at))
        unit, task = units[unit_id], tasks[task_id]
        row = _row(occurrence_id, period, due, unit, task, state, verdict)
        part = parts.get((task_id, role, taken))
        if part is None:
            part = parts[(task_id, role, taken)] = _part(task, role, units.get(taken or 0))
        if part:
            row.flags = (*row.flags, *part)
        rows.append(row)
    rows.sort(key=_row_order)
    return Collected(rows, reporting)


def _scope(
    plan_ids: Sequence[int], unit_ids: set[int] | None, task_ids: set[int] | None, at: date
) -> list[Any]:
    """Filters selecting the occurrences of the plans, units and tasks tracked on day `at`."""
    filters: list[Any] = [
        col(Task.plan_id).in_(plan_ids),
        Task.active,
        # A unit that left a group or retired keeps what it did: its assignment ended on a day
        # and its done rows stay, its open rows end that day (`until`); a unit that joined or
        # took over starts on one (`since`).
        or_(
            col(Occurrence.active)
            & (col(Assignment.active) | col(Assignment.ended_on).is_not(None)),
            col(Occurrence.until) > at,
        ),
        or_(col(Occurrence.since).is_(None), col(Occurrence.since) <= at),
        # A partner's row counts only when the task asks partners to report.
        or_(col(Assignment.role) == AssignmentRole.OWNER, col(Task.partners_report)),
    ]
    if unit_ids is not None:
        filters.append(col(Assignment.unit_id).in_(sorted(unit_ids)))
    if task_ids is not None:
        filters.append(col(Task.id).in_(sorted(task_ids)))
    return filters


def _reports(
    connection: Connection, occurrences: dict[int, Any], cutoff: datetime
) -> Sequence[Any]:
    """Reports created before `cutoff` on the selected occurrences, oldest first per occurrence."""
    # An index range scan over the occurrence ids, filtered by the caller, costs half of the
    # four-table join it replaces (SQLite walks joins row by row).
    if not occurrences:
        return []
    return connection.execute(
        sa_select(
            col(Report.occurrence_id),
            col(Report.status),
            col(Report.created_at),
            col(Report.percent),
            col(Report.note),
            func.coalesce(func.json_array_length(Report.evidence), 0),
            col(Report.confirmed_at) < cutoff,
            col(Report.returned_at) < cutoff,
            col(Report.return_reason),
        )
        .where(
            col(Report.occurrence_id).between(min(occurrences), max(occurrences)),
            col(Report.created_at) < cutoff,
        )
        .order_by(col(Report.occurrence_id), col(Report.created_at), col(Report.id))
    ).all()  # fetchall: one driver call instead of one per row


def _tasks(
    session: Session, plan_ids: Sequence[int], task_ids: set[int] | None
) -> dict[int, TaskRef]:
    """The tasks of the plans, by id, with the names of their partners."""
    stmt = sa_select(
        col(Task.id),
        col(Task.plan_id),
        col(Task.key),
        col(Task.title),
        col(Task.position),
        col(Task.partners),
        col(Task.external_partners),
    ).where(col(Task.plan_id).in_(plan_ids))
    if task_ids is not None:
        stmt = stmt.where(col(Task.id).in_(sorted(task_ids)))
    found: Sequence[Any] = session.execute(stmt).all()
    names = names_by_code(session=session, codes=[c for r in found for c in r[5]])
    return {
        r[0]: TaskRef(r[0], r[1], r[2], r[3], r[4], (*(names.get(c, c) for c in r[5]), *r[6]))
        for r in found
    }


def _part(task: TaskRef, role: AssignmentRole, taken_from: UnitRef | None) -> tuple[str, ...]:
    """The flags that say a row's part in its task and where its work came from."""
    flags = []
    if role == AssignmentRole.PARTNER:
        flags.append(FLAG_LABELS["partner"])
    elif task.partners:
        flags.append(FLAG_LABELS["partners"].format(names=", ".join(task.partners)))
    if taken_from is not None:
        flags.append(FLAG_LABELS["taken_from"].format(unit=taken_from.name))
    return tuple(flags)


def dissolved_rows(
    session: Session, plan_id: int, at: date, units: dict[int, UnitRef]
) -> list[Dissolved]:
    """What units dissolved by day `at` (retired with no successor) left open, closed that day."""
    if not any(u.dissolved_on and u.dissolved_on <= at for u in units.values()):
        return []  # the usual case, read from the units already loaded
    found: Sequence[Any] = session.execute(
        sa_select(
            col(Unit.id),
            col(Task.id),
            col(Occurrence.period),
            col(Occurrence.due_date),
            col(Unit.retired_on),
        )
        .join(Assignment, col(Assignment.id) == Occurrence.assignment_id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .where(
            col(Task.plan_id) == plan_id,
            col(Task.active),
            ~col(Unit.active),
            col(Unit.merged_into).is_(None),
            col(Unit.retired_on) <= at,
            col(Occurrence.until) == Unit.retired_on,
            col(Occurrence.status) != ReportStatus.DONE,
            or_(col(Assignment.role) == AssignmentRole.OWNER, col(Task.partners_report)),
        )
        .order_by(col(Unit.id), col(Task.position), col(Occurrence.due_date))
    ).all()
    if not found:
        return []
    tasks = _tasks(session, [plan_id], {r[1] for r in found})
    return [Dissolved(units[u], tasks[t], period, due, day) for u, t, period, due, day in found]


def closed_rows(
    session: Session, plan_id: int, at: date, units: dict[int, UnitRef]
) -> list[Closed]:
    """What the plan's coordinator closed by day `at` (handlers/closing.py), with the reasons:
    tracked until the closing day, so the same rows `collect` leaves out from that day on."""
    found: Sequence[Any] = session.execute(
        sa_select(
            col(Assignment.unit_id),
            col(Task.id),
            col(Occurrence.period),
            col(Occurrence.due_date),
            col(Occurrence.until),
            col(Closing.reason),
        )
        .select_from(Closing)  # from the few closings, not the plan's occurrences
        .join(Occurrence, col(Occurrence.id) == Closing.occurrence_id)
        .join(Assignment, col(Assignment.id) == Occurrence.assignment_id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Task.plan_id) == plan_id, col(Task.active), col(Occurrence.until) <= at)
        .order_by(col(Occurrence.until), col(Assignment.unit_id), col(Task.position))
    ).all()
    if not found:
        return []
    tasks = _tasks(session, [plan_id], {r[1] for r in found})
    return [Closed(units[u], tasks[t], *rest) for u, t, *rest in found]


def _row(
    occurrence_id: int,
    period: str,
    due: date | None,
    unit: UnitRef,
    task: TaskRef,
    state: Standing,
    verdict: Verdict,
) -> ReportRow:
    """One classified occurrence."""
    return ReportRow(
        occurrence_id=occurrence_id,
        unit=unit,
        task=task,
        period=period,
        due_date=due,
        category=verdict.category,
        status=state.status,
        percent=state.percent,
        note=state.note,
        reported_on=local_date(state.reported_at) if state.reported_at else None,
        done_on=verdict.done_on,
        evidence_count=state.evidence,
        confirmed=state.confirmed,
        returned=state.returned,
        return_reason=state.return_reason,
        due_soon=verdict.due_soon,
        unreported=not state.reported,
        blocked=state.status == ReportStatus.BLOCKED,
        flags=verdict.flags,
    )


def _row_order(row: ReportRow) -> tuple[int, int, str, date]:
    """Directory order of units, then plan order of tasks, then due date."""
    return (row.unit.id, row.task.position, row.task.key, row.due_date or date.max)
