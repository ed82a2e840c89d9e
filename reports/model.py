"""The consolidated report model: the category of every tracked occurrence at a local date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, or_
from sqlalchemy import select as sa_select  # more columns than sqlmodel's select types
from sqlmodel import Session, col, select

from plans.clock import local, local_date
from plans.errors import DondocError, UnknownUnitError
from plans.status import (
    FLAG_LABELS,
    NOTHING,
    Category,
    ReportFact,
    Standing,
    Verdict,
    assess,
    day_end,
    standing,
)
from reports.indicator_tables import IndicatorTable, indicator_tables
from storage.enums import AssignmentRole, ReportStatus
from storage.models import Assignment, Occurrence, Plan, Report, Task, Unit
from storage.queries import names_by_code

DIFFICULTY_WINDOW_DAYS = 7


class ReportError(DondocError):
    """A report or status request that cannot be answered."""


class UnknownPlanError(ReportError):
    """A plan code that is not in the database."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Không có kế hoạch mã {code}")
        self.code = code


class UnknownTaskError(ReportError):
    """A task key that no selected plan has."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Không có nhiệm vụ {key}")
        self.key = key


class OutOfScopeError(ReportError):
    """A unit outside the caller's part of the directory."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Đơn vị {code} không thuộc phạm vi theo dõi của bạn")
        self.code = code


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit as the report names it, with what its documents print (plans/units_file.py)."""

    id: int
    code: str
    name: str
    parent_code: str | None = None
    abbreviation: str | None = None  # ký hiệu in document numbers: PGDĐT, BTGHU
    signer: str | None = None  # the signer's title: TRƯỞNG PHÒNG, T/M BAN THƯỜNG VỤ
    party: bool = False  # a Party body: Party letterhead, numbers and signature forms
    dissolved_on: date | None = None  # retired with no successor (plans/importer.py)


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A task as the report names it."""

    id: int
    plan_id: int
    key: str
    title: str
    position: int
    partners: tuple[str, ...] = ()  # the names of the units that take part ("phối hợp")


@dataclass(frozen=True)
class PlanHeader:
    """What the report says about the plan itself."""

    id: int
    code: str
    number: str | None
    title: str
    issuer: str | None
    issued: date
    coordinator: UnitRef
    coordinator_parent: UnitRef | None
    until: date | None = None  # the plan's end
    implements: str | None = None  # the number of the plan or resolution it carries out


@dataclass(slots=True)  # not frozen: built 100k times, frozen __init__ costs twice as much
class ReportRow:
    """One occurrence of one assignment, classified at the report date."""

    occurrence_id: int
    unit: UnitRef
    task: TaskRef
    period: str
    due_date: date | None
    category: Category
    status: ReportStatus
    percent: int | None
    note: str
    reported_on: date | None
    done_on: date | None
    evidence_count: int
    confirmed: bool
    returned: bool
    return_reason: str | None
    due_soon: bool
    unreported: bool
    blocked: bool
    flags: tuple[str, ...]  # the Vietnamese labels of the flags above that apply


@dataclass(frozen=True)
class UnitRows:
    """Rows of one unit (overdue or blocked lists)."""

    unit: UnitRef
    rows: list[ReportRow]


@dataclass(frozen=True)
class Difficulty:
    """An occurrence whose standing report, received in the week up to the report date, is
    "blocked": one of the rows the "gặp khó khăn" count counts."""

    unit: UnitRef
    task: TaskRef
    period: str
    due_date: date | None
    note: str
    reported_on: date


@dataclass(frozen=True)
class Dissolved:
    """An occurrence a unit left open when it was dissolved: closed, out of the percentages."""

    unit: UnitRef
    task: TaskRef
    period: str
    due_date: date | None
    retired_on: date


@dataclass(frozen=True)
class Tally:
    """Counts per category and per flag over some rows."""

    counts: dict[Category, int]
    unreported: int = 0
    blocked: int = 0
    due_soon: int = 0

    @classmethod
    def of(cls, rows: Iterable[ReportRow]) -> Tally:
        """Count the rows."""
        counts = dict.fromkeys(Category, 0)
        unreported = blocked = due_soon = 0
        for row in rows:
            counts[row.category] += 1
            unreported += row.unreported
            blocked += row.blocked
            due_soon += row.due_soon
        return cls(counts, unreported=unreported, blocked=blocked, due_soon=due_soon)

    @property
    def total(self) -> int:
        """All rows."""
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        """Rows completed, on time or late."""
        return self.counts[Category.DONE_ON_TIME] + self.counts[Category.DONE_LATE]

    @property
    def dated(self) -> int:
        """Rows that have a due date."""
        return self.total - self.counts[Category.NO_DEADLINE]

    @property
    def completion_percent(self) -> float | None:
        """Completed rows among the rows with a due date; None when there is none."""
        return round(100 * self.done / self.dated, 1) if self.dated else None

    def share(self, category: Category) -> float | None:
        """A category's share of all rows, in percent."""
        return round(100 * self.counts[category] / self.total, 1) if self.total else None


@dataclass(frozen=True)
class PlanReport:
    """The consolidated report of one plan at a date."""

    plan: PlanHeader
    at: date
    as_of: time | None  # the local time the figures stop at on day `at`; None: the whole day
    rows: list[ReportRow]
    tally: Tally
    overdue_by_unit: list[UnitRows]
    blocked_by_unit: list[UnitRows]
    difficulties: list[Difficulty]
    silent_units: list[UnitRef]
    units_count: int
    tasks_count: int
    indicators: list[IndicatorTable] = field(default_factory=list)  # reports/indicator_tables.py
    dissolved: list[Dissolved] = field(default_factory=list)  # the footnote's rows

    @property
    def counts(self) -> dict[Category, int]:
        """Rows per official category."""
        return self.tally.counts

    @property
    def completion_percent(self) -> float | None:
        """Completed rows among the rows with a due date."""
        return self.tally.completion_percent


@dataclass(frozen=True)
class PlanLine:
    """One plan's tally in the /status summary."""

    plan: PlanHeader
    tally: Tally


@dataclass(frozen=True)
class UnitLine:
    """One unit's tally in the /status drill-down."""

    unit: UnitRef
    tally: Tally


@dataclass(frozen=True)
class StatusView:
    """The /status answer: a summary, then lists to drill down into."""

    at: date
    as_of: time | None  # as in PlanReport
    plan: PlanHeader | None
    unit: UnitRef | None
    task_key: str | None
    tally: Tally
    plans: list[PlanLine]
    units: list[UnitLine]
    rows: list[ReportRow]  # the drill-down list, when a unit or a task was asked for
    indicators: list[IndicatorTable] = field(default_factory=list)  # the scope's figures


@dataclass
class _Collected:
    """What one pass over storage yields: classified rows and facts about the reports."""

    rows: list[ReportRow]
    reporting_unit_ids: set[int]


def build_report(
    session: Session, *, plan_code: str, at: date, now: datetime | None = None
) -> PlanReport:
    """The consolidated report of a plan as it stood at the end of local day `at`, or at `now`
    when that comes first (a report of today shows what has arrived so far, and says so)."""
    plan = _plan(session, plan_code)
    units = _units(session)
    header = _header(plan, {u.code: u for u in units.values()})
    cutoff, as_of = figures_cutoff(at, now)
    collected = _collect(session, at=at, cutoff=cutoff, plan_ids=[header.id], units=units)
    rows = collected.rows
    seen: dict[int, UnitRef] = {}
    for row in rows:
        seen.setdefault(row.unit.id, row.unit)
    return PlanReport(
        plan=header,
        at=at,
        as_of=as_of,
        rows=rows,
        tally=Tally.of(rows),
        overdue_by_unit=_group(r for r in rows if r.category is Category.OVERDUE),
        blocked_by_unit=_group(r for r in rows if r.blocked),
        difficulties=_difficulties(rows, at),
        silent_units=[u for i, u in seen.items() if i not in collected.reporting_unit_ids],
        units_count=len(seen),
        tasks_count=len({row.task.id for row in rows}),
        indicators=indicator_tables(session, rows, units, cutoff),
        dissolved=_dissolved(session, header.id, at, units),
    )


@dataclass(frozen=True)
class StatusScope:
    """What a caller may see: units with everything below them in every plan (a head), and
    whole plans (a coordinator). A chat registered in both ways sees the union."""

    unit_codes: frozenset[str] = frozenset()
    plan_ids: frozenset[int] = frozenset()


def build_status(
    session: Session,
    *,
    at: date,
    plan_code: str | None = None,
    unit_code: str | None = None,
    task_key: str | None = None,
    scope: StatusScope | None = None,
    now: datetime | None = None,
) -> StatusView:
    """The /status view, bounded by the caller's `scope` (None: everything); `now` as in
    build_report."""
    plans = [_plan(session, plan_code)] if plan_code else _all_plans(session)
    units = _units(session)
    by_code = {u.code: u for u in units.values()}
    below = subtree(units.values(), scope.unit_codes) if scope is not None else None
    unit: UnitRef | None = None
    visible = below if scope is not None and not scope.plan_ids else None  # a filter in SQL
    if unit_code is not None:
        unit = by_code.get(unit_code)
        if unit is None:
            raise UnknownUnitError(unit_code)
        visible = subtree(units.values(), {unit_code})
    unit_ids = {by_code[c].id for c in visible if c in by_code} if visible is not None else None
    headers = {h.id: h for h in (_header(p, by_code) for p in plans)}
    task_ids = _task_ids(session, list(headers), task_key) if task_key else None
    cutoff, as_of = figures_cutoff(at, now)
    collected = _collect(
        session,
        at=at,
        cutoff=cutoff,
        plan_ids=list(headers),
        units=units,
        unit_ids=unit_ids,
        task_ids=task_ids,
    )
    rows = collected.rows
    if scope is not None and below is not None:
        rows = [r for r in rows if r.unit.code in below or r.task.plan_id in scope.plan_ids]
        if unit_code is not None and unit_code not in below and not rows:
            raise OutOfScopeError(unit_code)
    by_plan: dict[int, list[ReportRow]] = defaultdict(list)
    by_unit: dict[int, list[ReportRow]] = defaultdict(list)
    for row in rows:
        by_plan[row.task.plan_id].append(row)
        by_unit[row.unit.id].append(row)
    unit_lines = [UnitLine(units[i], Tally.of(r)) for i, r in by_unit.items()]
    unit_lines.sort(key=_worst_first)
    return StatusView(
        at=at,
        as_of=as_of,
        plan=next(iter(headers.values())) if plan_code else None,
        unit=unit,
        task_key=task_key,
        tally=Tally.of(rows),
        plans=[PlanLine(headers[i], Tally.of(by_plan[i])) for i in headers if by_plan[i]],
        units=unit_lines,
        rows=rows if unit_code or task_key else [],
        indicators=indicator_tables(session, rows, units, cutoff),
    )


def subtree(units: Iterable[UnitRef], roots: Iterable[str]) -> set[str]:
    """The codes of `roots` and of every unit below them (via parent codes)."""
    children: dict[str, list[str]] = defaultdict(list)
    for unit in units:
        if unit.parent_code:
            children[unit.parent_code].append(unit.code)
    found: set[str] = set()
    stack = list(roots)
    while stack:
        code = stack.pop()
        if code not in found:
            found.add(code)
            stack.extend(children.get(code, ()))
    return found


def figures_cutoff(at: date, now: datetime | None) -> tuple[datetime, time | None]:
    """The instant figures "at day `at`" stand at: its end, or `now` when that comes first;
    with the local time to print then ("tính đến 07:30 ngày …"), None for the whole day."""
    end = day_end(at)
    if now is None or now >= end or local_date(now) != at:
        return end, None
    return now, local(now).time().replace(second=0, microsecond=0)


def _difficulties(rows: Iterable[ReportRow], at: date) -> list[Difficulty]:
    """The blocked rows whose report came in the last DIFFICULTY_WINDOW_DAYS days up to `at`:
    each is counted in "gặp khó khăn", and listed once."""
    since = at - timedelta(days=DIFFICULTY_WINDOW_DAYS - 1)
    return [
        Difficulty(row.unit, row.task, row.period, row.due_date, row.note, row.reported_on)
        for row in rows
        if row.blocked and row.reported_on is not None and row.reported_on >= since
    ]


def _worst_first(line: UnitLine) -> tuple[int, int, int, int]:
    """Sort key: most overdue, then most unreported, then directory order."""
    tally = line.tally
    return (-tally.counts[Category.OVERDUE], -tally.unreported, -tally.blocked, line.unit.id)


def _group(rows: Iterable[ReportRow]) -> list[UnitRows]:
    """Rows grouped by unit, the unit with most rows first."""
    grouped: dict[int, list[ReportRow]] = defaultdict(list)
    for row in rows:
        grouped[row.unit.id].append(row)
    groups = [UnitRows(found[0].unit, found) for found in grouped.values()]
    groups.sort(key=lambda g: (-len(g.rows), g.unit.id))
    return groups


def _plan(session: Session, code: str) -> Plan:
    """A plan by code, or UnknownPlanError."""
    plan = session.exec(select(Plan).where(Plan.code == code, Plan.visible)).first()
    if plan is None or plan.id is None:  # a plan still being imported is not shown yet
        raise UnknownPlanError(code)
    return plan


def _all_plans(session: Session) -> list[Plan]:
    """Every plan, by code (a plan still being imported is not shown yet)."""
    return list(session.exec(select(Plan).where(Plan.visible).order_by(Plan.code)))


def _units(session: Session) -> dict[int, UnitRef]:
    """Every unit, by id (a few thousand at most: one cheap query)."""
    rows: Sequence[Any] = session.execute(
        sa_select(
            col(Unit.id),
            col(Unit.code),
            col(Unit.name),
            col(Unit.parent_code),
            col(Unit.abbreviation),
            col(Unit.signer),
            col(Unit.party),
            case((col(Unit.merged_into).is_(None), col(Unit.retired_on))),
        )
    ).all()
    return {r[0]: UnitRef(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7]) for r in rows}


def _header(plan: Plan, by_code: dict[str, UnitRef]) -> PlanHeader:
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


def _task_ids(session: Session, plan_ids: Sequence[int], key: str) -> set[int]:
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


def _collect(
    session: Session,
    *,
    at: date,
    cutoff: datetime,
    plan_ids: Sequence[int],
    units: dict[int, UnitRef],
    unit_ids: set[int] | None = None,
    task_ids: set[int] | None = None,
) -> _Collected:
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
    return _Collected(rows, reporting)


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


def _dissolved(
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
