"""The report's figures at a date: a plan's consolidated report, and /status within a scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from plans.clock import local, local_date
from plans.errors import UnknownUnitError
from plans.status import Category, day_end
from reports.indicator_tables import indicator_tables
from reports.model import (
    Difficulty,
    OutOfScopeError,
    PlanLine,
    PlanReport,
    ReportRow,
    StatusScope,
    StatusView,
    Tally,
    UnitLine,
    UnitRef,
    UnitRows,
)
from reports.reads import (
    closed_rows,
    collect,
    dissolved_rows,
    plan_header,
    shown_plan,
    shown_plans,
    task_ids_with_key,
    unit_refs,
)

DIFFICULTY_WINDOW_DAYS = 7


def build_report(
    session: Session, *, plan_code: str, at: date, now: datetime | None = None
) -> PlanReport:
    """The consolidated report of a plan as it stood at the end of local day `at`, or at `now`
    when that comes first (a report of today shows what has arrived so far, and says so)."""
    plan = shown_plan(session, plan_code)
    units = unit_refs(session)
    header = plan_header(plan, {u.code: u for u in units.values()})
    cutoff, as_of = figures_cutoff(at, now)
    collected = collect(session, at=at, cutoff=cutoff, plan_ids=[header.id], units=units)
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
        dissolved=dissolved_rows(session, header.id, at, units),
        closed=closed_rows(session, header.id, at, units),
    )


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
    plans = [shown_plan(session, plan_code)] if plan_code else shown_plans(session)
    units = unit_refs(session)
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
    headers = {h.id: h for h in (plan_header(p, by_code) for p in plans)}
    task_ids = task_ids_with_key(session, list(headers), task_key) if task_key else None
    cutoff, as_of = figures_cutoff(at, now)
    collected = collect(
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
