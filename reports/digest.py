"""The weekly digest's figures from aggregate queries: counts in SQL, never a row per occurrence.

It counts what `reports.figures.build_report` classifies at the same moment (the same tracked
occurrences, categories, flags and lists), read from each occurrence's summary columns (status,
reported_at, done_at, kept in step by handlers/reporting.py) instead of its report history, so a
plan of a million occurrences costs a few grouped queries. Lists are read only as far as a chat
message shows them, with their totals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    case,
    cast,
    func,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from plans.clock import at_local, local_date
from plans.status import Category, categorize, day_end, is_due_soon
from reports.figures import DIFFICULTY_WINDOW_DAYS, figures_cutoff
from reports.indicator_tables import plan_headlines
from reports.model import Difficulty, PlanHeader, Tally, TaskRef, UnitRef
from reports.reads import plan_header, shown_plan, unit_refs
from storage.enums import AssignmentRole, ReportStatus
from storage.models import Assignment, Occurrence, Report, Task, Unit

T = TypeVar("T")
# As much of each list as the longest digest shows (reports/chat_text.py, BUDGETS[0]).
OVERDUE_UNITS, OVERDUE_TASKS, DIFFICULTIES, SILENT_UNITS = 25, 6, 10, 60
DONE = ReportStatus.DONE


@dataclass(frozen=True)
class Counted(Generic[T]):
    """The first items of a list, and how many it has in all."""

    items: list[T]
    total: int


@dataclass(frozen=True)
class OverdueTask:
    """An overdue task of a unit, as the digest names it."""

    key: str
    due_date: date


@dataclass(frozen=True)
class OverdueUnit:
    """A unit with overdue occurrences: how many, and the first of them."""

    unit: UnitRef
    total: int
    tasks: list[OverdueTask]


@dataclass(frozen=True)
class WeekSummary:
    """What the weekly digest of a plan says at a moment."""

    plan: PlanHeader
    at: date
    as_of: time | None  # as in reports.model.PlanReport: what "tính đến" prints
    tally: Tally
    units_count: int
    tasks_count: int
    overdue: Counted[OverdueUnit]
    difficulties: Counted[Difficulty]
    silent: Counted[UnitRef]
    indicators: list[str] = field(default_factory=list)  # a headline per indicator


def week_summary(session: Session, *, plan_code: str, now: datetime) -> WeekSummary:
    """The digest's figures for a plan as it stands at `now` (as build_report(at, now) sees it)."""
    plan = shown_plan(session, plan_code)
    assert plan.id is not None
    cutoff, as_of = figures_cutoff(local_date(now), now)
    lateral = session.get_bind().dialect.name == "postgresql"
    scope = _Scope(plan.id, local_date(now), cutoff, lateral)
    counts = _counts(session, scope)
    reporting = session.execute(
        scope.reported([func.count(func.distinct(col(Assignment.unit_id)))])
    ).scalar_one()
    return WeekSummary(
        plan=plan_header(plan, _coordinator_units(session, plan.coordinator_code)),
        at=scope.at,
        as_of=as_of,
        tally=counts.tally,
        units_count=counts.units,
        tasks_count=counts.tasks,
        overdue=_overdue(session, scope, counts.late),
        difficulties=_difficulties(session, scope),
        silent=Counted(_silent(session, scope), counts.units - reporting),
        indicators=plan_headlines(session, plan_id=plan.id, cutoff=cutoff),
    )


# As reports/reads.py counts: a partner ("phối hợp") only when its task asks partners to
# report; an assignment that ended (its unit left the group or retired) keeps its done rows.
REPORTS = or_(col(Assignment.role) == AssignmentRole.OWNER, col(Task.partners_report))


def _overdue_at(at: date) -> list[ColumnElement[bool]]:
    """Occurrences due before `at` and not done: overdue at `at`."""
    return [col(Occurrence.due_date) < at, col(Occurrence.status) != DONE]


HELD = or_(col(Assignment.active), col(Assignment.ended_on).is_not(None))


@dataclass(frozen=True)
class _Scope:
    """The tracked occurrences of a plan at a moment, as filters."""

    plan_id: int
    at: date
    cutoff: datetime  # what was reported before this instant counts
    lateral: bool = False  # the engine joins LATERAL (PostgreSQL; SQLite does not)

    def occurrences(self) -> list[Any]:
        """Active occurrences of active assignments of the plan's active tasks (joined)."""
        return [
            col(Task.plan_id) == self.plan_id,
            col(Task.active),
            HELD,
            col(Occurrence.active),
            REPORTS,
        ]

    def tracked(self) -> list[ColumnElement[bool]]:
        """The same assignments as filters on the assignment alone: a read in unit order can
        stop after the first few."""
        owned = select(col(Task.id)).where(
            col(Task.id) == col(Assignment.task_id),
            col(Task.plan_id) == self.plan_id,
            col(Task.active),
            REPORTS,
        )
        return [HELD, owned.exists(), self._tracked()]

    def _tracked(self) -> ColumnElement[bool]:
        """The assignment has an active occurrence."""
        found = select(col(Occurrence.id)).where(
            col(Occurrence.assignment_id) == col(Assignment.id), col(Occurrence.active)
        )
        return found.exists()

    def joined(self, columns: list[Any]) -> Select[Any]:
        """`columns` over the plan's occurrences, assignments and tasks."""
        return (
            select(*columns)
            .select_from(Task)
            .join(Assignment, col(Assignment.task_id) == col(Task.id))
            .join(Occurrence, col(Occurrence.assignment_id) == col(Assignment.id))
            .where(*self.occurrences())
        )

    def current(self, columns: list[Any], *filters: ColumnElement[bool]) -> Any:
        """`columns` of the tracked occurrences (and `filters`): undated, due by `at`, and each
        assignment's next one — three index ranges where one OR would read every future period.
        Every tracked assignment has at least one such row."""
        parts = [
            self.joined(columns).where(col(Occurrence.due_date).is_(None), *filters),
            self.joined(columns).where(col(Occurrence.due_date) <= self.at, *filters),
            self._next_ones(columns, *filters),
        ]
        return union_all(*parts)

    def _next_ones(self, columns: list[Any], *filters: ColumnElement[bool]) -> Select[Any]:
        """`columns` of each assignment's first occurrence(s) due after `at`."""
        later = aliased(Occurrence)
        after = [
            col(later.assignment_id) == col(Assignment.id),
            col(later.active),
            col(later.due_date) > self.at,
        ]
        if not self.lateral:  # the occurrences on the day of the first due date after `at`
            first = select(func.min(col(later.due_date))).where(*after).scalar_subquery()
            return self.joined(columns).where(col(Occurrence.due_date) == first, *filters)
        # PostgreSQL: one index range per assignment, stopped at the first date (ties kept);
        # the same rows three times faster than the minimum compared row by row.
        following = (
            select(col(later.id))
            .where(*after)
            .order_by(col(later.due_date))
            .fetch(1, with_ties=True)
            .lateral("following")
        )
        return (
            select(*columns)
            .select_from(Task)
            .join(Assignment, col(Assignment.task_id) == col(Task.id))
            .join(following, true())
            .join(Occurrence, col(Occurrence.id) == following.c.id)
            .where(*self.occurrences(), *filters)
        )

    def reported(self, columns: list[Any]) -> Select[Any]:
        """`columns` over the plan's occurrences with a report received before the cutoff
        (read from the reports: there are far fewer of them than occurrences)."""
        received = select(col(Report.occurrence_id)).where(col(Report.created_at) < self.cutoff)
        return self.joined(columns).where(col(Occurrence.id).in_(received))


@dataclass
class _Counts:
    """The plan's counts: per category and flag, units and tasks, each unit's overdue ones."""

    tally: Tally
    units: int
    tasks: int
    late: dict[int, int]  # unit id → its overdue occurrences


def _counts(session: Session, scope: _Scope) -> _Counts:
    """Two grouped queries: categories and flags by due date and status with the units and
    tasks that have a tracked occurrence (one pass over the current rows), and the overdue
    occurrences by unit (index ranges: past only)."""
    current = scope.current(
        [
            col(Occurrence.due_date),
            col(Occurrence.status),
            col(Assignment.unit_id),
            col(Task.id).label("task_id"),
        ]
    ).cte("current")  # read twice below, computed once
    keys = (current.c.due_date, current.c.status)
    no_count = cast(null(), Integer)
    grouped = session.execute(
        union_all(
            select(*keys, func.count(), no_count, no_count).group_by(*keys),
            select(
                cast(null(), Date),
                cast(null(), String),
                no_count,
                func.count(func.distinct(current.c.unit_id)),
                func.count(func.distinct(current.c.task_id)),
            ),
        )
    ).all()
    counts = dict.fromkeys(Category, 0)
    done_by_due: dict[date, int] = defaultdict(int)
    unreported = blocked = due_soon = units = tasks = 0
    for due, status, count, units_here, tasks_here in grouped:
        if count is None:  # the second part: units and tasks with a tracked occurrence
            units, tasks = units_here, tasks_here
            continue
        done = status == DONE
        if done and due is not None:
            done_by_due[due] += count
        else:
            started = status != ReportStatus.NONE
            counts[categorize(due=due, done_on=None, at=scope.at, started=started)] += count
        unreported += count if status == ReportStatus.NONE else 0
        blocked += count if status == ReportStatus.BLOCKED else 0
        due_soon += count if not done and is_due_soon(due=due, done_on=None, at=scope.at) else 0
    on_time = _done_on_time(session, scope, list(done_by_due))
    for due, count in done_by_due.items():
        counts[Category.DONE_ON_TIME] += on_time.get(due, 0)
        counts[Category.DONE_LATE] += count - on_time.get(due, 0)
    late = session.execute(
        scope.joined([col(Assignment.unit_id), func.count()])
        .where(*_overdue_at(scope.at))
        .group_by(col(Assignment.unit_id))
    ).all()
    tally = Tally(counts, unreported=unreported, blocked=blocked, due_soon=due_soon)
    return _Counts(tally, units, tasks, {unit_id: count for unit_id, count in late})


def _done_on_time(session: Session, scope: _Scope, dues: list[date]) -> dict[date, int]:
    """Of the done occurrences due on these days, how many were done by the end of their day."""
    if not dues:
        return {}
    done = scope.current(
        [col(Occurrence.due_date), col(Occurrence.done_at)],
        col(Occurrence.status) == DONE,
        col(Occurrence.due_date).in_(dues),
    ).subquery()
    deadline = case({due: day_end(due) for due in dues}, value=done.c.due_date)
    rows = session.execute(
        select(done.c.due_date, func.count())
        .where(done.c.done_at < deadline)
        .group_by(done.c.due_date)
    )
    return {due: count for due, count in rows}


def _overdue(session: Session, scope: _Scope, late: dict[int, int]) -> Counted[OverdueUnit]:
    """Units with overdue occurrences, the most first, each with its first overdue tasks."""
    top = sorted(late.items(), key=lambda item: (-item[1], item[0]))[:OVERDUE_UNITS]
    units = _unit_refs(session, [unit_id for unit_id, _ in top])
    place = func.row_number().over(
        partition_by=col(Assignment.unit_id),
        order_by=(col(Task.position), col(Task.key), col(Occurrence.due_date)),
    )
    first = (
        scope.joined(
            [col(Assignment.unit_id), col(Task.key), col(Occurrence.due_date), place.label("place")]
        )
        .where(*_overdue_at(scope.at), col(Assignment.unit_id).in_(list(units)))
        .subquery()
    )
    tasks: dict[int, list[OverdueTask]] = defaultdict(list)
    rows = session.execute(
        select(first.c.unit_id, first.c.key, first.c.due_date)
        .where(first.c.place <= OVERDUE_TASKS)
        .order_by(first.c.unit_id, first.c.place)
    )
    for unit_id, key, due in rows:
        tasks[unit_id].append(OverdueTask(key, due))
    return Counted([OverdueUnit(units[u], n, tasks[u]) for u, n in top], len(late))


def _difficulties(session: Session, scope: _Scope) -> Counted[Difficulty]:
    """Tracked occurrences whose standing report, received in the past week, is "blocked"."""
    since = at_local(scope.at - timedelta(days=DIFFICULTY_WINDOW_DAYS - 1), 0)
    current = scope.current(
        [
            col(Occurrence.id),
            col(Occurrence.period),
            col(Occurrence.due_date),
            col(Occurrence.status),
            col(Occurrence.reported_at),
            col(Assignment.unit_id),
            col(Task.id).label("task_id"),
            col(Task.position),
            col(Task.key),
        ]
    ).subquery()
    blocked = select(current).where(
        current.c.status == ReportStatus.BLOCKED,
        current.c.reported_at >= since,
        current.c.reported_at < scope.cutoff,
    )
    total = session.execute(select(func.count()).select_from(blocked.subquery())).scalar_one()
    due = current.c.due_date
    order = (current.c.unit_id, current.c.position, current.c.key, due.is_(None), due)
    first = session.execute(blocked.order_by(*order).limit(DIFFICULTIES)).all()
    units = _unit_refs(session, [row.unit_id for row in first])
    tasks = _task_refs(session, [row.task_id for row in first])
    notes = _standing_notes(session, [row.id for row in first])
    found = [
        Difficulty(
            units[row.unit_id],
            tasks[row.task_id],
            row.period,
            row.due_date,
            notes.get(row.id, ""),
            local_date(row.reported_at),
        )
        for row in first
    ]
    return Counted(found, total)


def _silent(session: Session, scope: _Scope) -> list[UnitRef]:
    """The first units, in directory order, that never reported on the plan."""
    theirs = aliased(Assignment)
    reported = (
        select(col(Report.id))
        .join(Occurrence, col(Occurrence.id) == col(Report.occurrence_id))
        .join(theirs, col(theirs.id) == col(Occurrence.assignment_id))
        .join(Task, col(Task.id) == col(theirs.task_id))
        .where(
            col(theirs.unit_id) == col(Assignment.unit_id),
            col(theirs.active),
            col(Task.plan_id) == scope.plan_id,
            col(Task.active),
            col(Occurrence.active),
            col(Report.created_at) < scope.cutoff,
        )
        .exists()
    )
    unit_ids = session.execute(
        select(col(Assignment.unit_id))
        .where(*scope.tracked(), ~reported)
        .group_by(col(Assignment.unit_id))
        .order_by(col(Assignment.unit_id))
        .limit(SILENT_UNITS)
    ).scalars()
    return list(_unit_refs(session, list(unit_ids)).values())


def _standing_notes(session: Session, occurrence_ids: list[int]) -> dict[int, str]:
    """The note of each occurrence's newest report."""
    newest = (
        select(col(Report.occurrence_id), func.max(col(Report.id)).label("id"))
        .where(col(Report.occurrence_id).in_(occurrence_ids))
        .group_by(col(Report.occurrence_id))
        .subquery()
    )
    rows = session.execute(
        select(col(Report.occurrence_id), col(Report.note)).join(
            newest, newest.c.id == col(Report.id)
        )
    )
    return {occurrence_id: note for occurrence_id, note in rows}


def _unit_refs(session: Session, unit_ids: list[int]) -> dict[int, UnitRef]:
    """Units by id, in the order asked."""
    found = {u.id: u for u in _units_where(session, col(Unit.id).in_(unit_ids))}
    return {unit_id: found[unit_id] for unit_id in unit_ids}


def _task_refs(session: Session, task_ids: list[int]) -> dict[int, TaskRef]:
    """Tasks by id."""
    rows = session.execute(
        select(
            col(Task.id), col(Task.plan_id), col(Task.key), col(Task.title), col(Task.position)
        ).where(col(Task.id).in_(task_ids))
    )
    return {row[0]: TaskRef(*row) for row in rows}


def _coordinator_units(session: Session, code: str) -> dict[str, UnitRef]:
    """The coordinator unit and its parent, by code (what the plan header names)."""
    found = {u.code: u for u in _units_where(session, col(Unit.code) == code)}
    parent = found[code].parent_code if code in found else None
    if parent:
        found.update({u.code: u for u in _units_where(session, col(Unit.code) == parent)})
    return found


def _units_where(session: Session, condition: Any) -> list[UnitRef]:
    """The units matching a condition, as the report names them."""
    return list(unit_refs(session, condition).values())
