"""The indicator tables of a report: per task, each unit's figures, totals and subtotals.

A task's figures are those of one period: the latest for which any unit gave a value at the
report's cutoff (else the current one), so a total never adds two periods together. Units are
listed in the order of the unit tree (depth first), so the units below any group are
consecutive lines: the XLSX writer's subtotal formulas take them as one range.
"""

from __future__ import annotations

import gc
import html
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from plans.indicator_store import (
    NEWEST_LAST,
    VALUE_COLUMNS,
    Indicator,
    task_indicators,
    value_of,
    values_at,
)
from plans.indicator_totals import HEADLINE_PLACES, Total, combine, headline
from plans.indicator_values import format_value
from plans.indicators import IndicatorSpec, Value
from plans.render import md_cell
from reports.templates import parts
from storage.enums import AssignmentRole
from storage.models import Assignment, IndicatorValue, Occurrence, Task

Path = tuple[int, ...]  # unit ids from the root of the tree down to a unit
ESCAPES: dict[str, Callable[[str], str]] = {"md": md_cell, "html": html.escape, "": str}
# The assignments whose figures count, as reports/reads.py counts rows: a partner ("phối hợp")
# only when its task asks partners to report.
REPORTING = or_(col(Assignment.role) == AssignmentRole.OWNER, col(Task.partners_report))


class UnitLike(Protocol):
    """A unit as reports name it (reports/model.py: UnitRef)."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def parent_code(self) -> str | None: ...


class TaskLike(Protocol):
    """A task as reports name it (reports/model.py: TaskRef)."""

    @property
    def id(self) -> int: ...
    @property
    def plan_id(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def position(self) -> int: ...


class RowLike(Protocol):
    """One classified occurrence (reports/model.py: ReportRow)."""

    @property
    def occurrence_id(self) -> int: ...
    @property
    def unit(self) -> UnitLike: ...
    @property
    def task(self) -> TaskLike: ...
    @property
    def period(self) -> str: ...
    @property
    def due_date(self) -> date | None: ...


@dataclass(slots=True)  # not frozen: built 100k times, frozen __init__ costs twice as much
class FigureLine:
    """One unit's values, one per indicator of the table (None: not reported)."""

    unit: UnitLike
    values: tuple[Value | None, ...]
    path: Path  # the unit's place in the tree: lines of several tables sort together


@dataclass(frozen=True)
class GroupLine:
    """The subtotals of a group of the unit tree over the lines below it."""

    unit: UnitLike
    totals: tuple[Total, ...]
    path: Path


@dataclass(frozen=True)
class IndicatorTable:
    """The figures of one task's indicators in one period, with totals and subtotals."""

    task: TaskLike
    period: str
    due_date: date | None
    specs: tuple[IndicatorSpec, ...]
    lines: list[FigureLine]
    groups: list[GroupLine]
    totals: tuple[Total, ...]
    # Markup → each column's values as printed, by identity: plans/indicator_store.py gives
    # equal figures one shared Value, and the lines keep them alive while the table lives.
    _shown: dict[str, list[dict[int, str]]] = field(default_factory=dict, compare=False, repr=False)

    def headlines(self) -> list[str]:
        """ "Phòng học kiên cố: 412/450 (91,6%) — mục tiêu 100%", one per indicator."""
        return [headline(spec, total) for spec, total in zip(self.specs, self.totals, strict=True)]

    def headers(self) -> list[str]:
        """The column title of each indicator: its name and unit of measure."""
        return [str(_words().header(spec)) for spec in self.specs]

    def cells(self, line: FigureLine, markup: str = "") -> list[str]:
        """A unit's values as written back to it ("45/50 (90%)"), escaped for `markup` ("md",
        "html"; "" for none); empty when not reported."""
        return next(self._texts([line], markup))

    def rows(self, markup: str) -> Iterator[list[str]]:
        """Each unit's line as escaped cells: number, name, values ("md" or "html" text)."""
        escape = ESCAPES[markup]
        texts = self._texts(self.lines, markup)
        for number, (line, cells) in enumerate(zip(self.lines, texts, strict=True), 1):
            yield [str(number), escape(line.unit.name), *cells]

    def joined_rows(self, markup: str, between: str) -> Iterator[str]:
        """Each unit's line as its escaped cells joined by `between` (the template's markup)."""
        return (between.join(cells) for cells in self.rows(markup))

    def _texts(self, lines: Iterable[FigureLine], markup: str) -> Iterator[list[str]]:
        """The values of each line as printed, each distinct figure formatted once."""
        escape = ESCAPES[markup]
        memos = self._shown.setdefault(markup, [{} for _ in self.specs])
        columns = list(zip(self.specs, memos, strict=True))
        for line in lines:
            cells = []
            for (spec, memo), value in zip(columns, line.values, strict=True):
                if value is None:
                    cells.append("")
                elif (text := memo.get(id(value))) is None:
                    cells.append(memo.setdefault(id(value), escape(shown(spec, value))))
                else:
                    cells.append(text)
            yield cells

    def summary(self) -> list[tuple[str, list[str]]]:
        """The lines under the units: total, target, units meeting it, units not reported."""
        words = _words()
        pairs = list(zip(self.specs, self.totals, strict=True))
        return [
            (str(words.total_label()), [total_text(s, t) for s, t in pairs]),
            (str(words.target_label()), [str(words.target(s.target, t.met)) for s, t in pairs]),
            (str(words.meeting_label()), [str(words.meeting(s, t)) for s, t in pairs]),
            (str(words.missing_label()), [str(words.missing(t.missing)) for _, t in pairs]),
        ]

    def subtotal_lines(self) -> list[tuple[str, list[str]]]:
        """A line per group of the unit tree: its name and subtotal of each indicator."""
        words = _words()
        return [
            (
                str(words.group_label(group.unit.name)),
                [total_text(s, t) for s, t in zip(self.specs, group.totals, strict=True)],
            )
            for group in self.groups
        ]


@lru_cache(maxsize=65_536)  # figures repeat (45/50, có): formatting a Decimal is the cost
def shown(spec: IndicatorSpec, value: Value) -> str:
    """A value as a table cell prints it: the column's title names the unit of measure."""
    bare = spec if spec.unit == "%" else replace(spec, unit="")
    return format_value(bare, value, HEADLINE_PLACES)


def total_text(spec: IndicatorSpec, total: Total) -> str:
    """A total with the way it was combined ("Trung bình: 20,5%"), or a dash."""
    if total.value is None:
        return "—"
    return str(_words().combined(spec.combine, shown(spec, total.value)))


def _words() -> Any:
    """The macros of reports/templates/indicator_parts.txt.j2."""
    return parts("indicator_parts.txt.j2")


def indicator_tables(
    session: Session,
    rows: Sequence[RowLike],
    units: Mapping[int, UnitLike],
    cutoff: datetime,
) -> list[IndicatorTable]:
    """A table per task of `rows` that has indicators, with the values given before `cutoff`."""
    with _no_collection():
        return _tables(session, rows, units, cutoff)


@contextmanager
def _no_collection() -> Iterator[None]:
    """Pause the cycle collector while the tables are built.

    They allocate a few objects per figure and none forms a cycle, but each allocation burst
    makes the collector scan every row of the report already in memory: half the time of a
    plan with 300k figures went there.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _tables(
    session: Session,
    rows: Sequence[RowLike],
    units: Mapping[int, UnitLike],
    cutoff: datetime,
) -> list[IndicatorTable]:
    """The tables of `indicator_tables`."""
    by_task: dict[int, list[RowLike]] = defaultdict(list)
    for row in rows:
        by_task[row.task.id].append(row)
    indicators = task_indicators(session, by_task)
    if not indicators:
        return []
    every = {i.id: i for found in indicators.values() for i in found}
    occurrence_ids = [r.occurrence_id for task_id in indicators for r in by_task[task_id]]
    values = values_at(session.connection(), occurrence_ids, every, cutoff)
    tree = _Tree(units)
    order = sorted(
        indicators, key=lambda t: (by_task[t][0].task.plan_id, by_task[t][0].task.position)
    )
    return [_table(by_task[t], indicators[t], values, tree) for t in order]


def _table(
    rows: list[RowLike],
    indicators: list[Indicator],
    values: Mapping[int, dict[int, Value]],
    tree: _Tree,
) -> IndicatorTable:
    """One task's table in its reporting period."""
    periods: dict[str, list[RowLike]] = defaultdict(list)
    for row in rows:
        periods[row.period].append(row)
    ids = [i.id for i in indicators]
    given = [p for p, found in periods.items() if any(r.occurrence_id in values for r in found)]
    period = max(given or periods, key=lambda p: periods[p][0].due_date or date.min)
    chosen = sorted(periods[period], key=lambda r: tree.path(r.unit))
    nothing: dict[int, Value] = {}
    lines = []
    for row in chosen:
        found = values.get(row.occurrence_id, nothing)
        lines.append(FigureLine(row.unit, tuple([found.get(i) for i in ids]), tree.path(row.unit)))
    specs = tuple(i.spec for i in indicators)
    columns = list(zip(*(line.values for line in lines), strict=True)) or [() for _ in specs]
    totals = tuple(combine(spec, column) for spec, column in zip(specs, columns, strict=True))
    return IndicatorTable(
        task=rows[0].task,
        period=period,
        due_date=periods[period][0].due_date,
        specs=specs,
        lines=lines,
        groups=list(_groups(specs, lines, tree)),
        totals=totals,
    )


def _groups(
    specs: tuple[IndicatorSpec, ...], lines: list[FigureLine], tree: _Tree
) -> Iterator[GroupLine]:
    """The subtotal of each group node above the lines, in tree order.

    What plans/indicator_totals.py `subtotals` gives, with the members of each node found once
    for all the indicators from the lines' paths (it walks the tree per indicator).
    """
    members: dict[int, list[int]] = defaultdict(list)  # node id → its lines (itself included)
    groups: set[int] = set()
    for n, line in enumerate(lines):
        groups.update(line.path[:-1])
        for node_id in line.path:
            members[node_id].append(n)
    by_id = {unit.id: unit for unit in tree.by_code.values()}
    nodes = [by_id[i] for i in groups if len(members[i]) < len(lines)]  # not the whole table
    for node in sorted(nodes, key=tree.path):
        inside = members[node.id]
        totals = tuple(
            combine(spec, [lines[n].values[k] for n in inside]) for k, spec in enumerate(specs)
        )
        yield GroupLine(node, totals, tree.path(node))


class _Tree:
    """The unit tree: each unit's path from its root, for depth-first order."""

    def __init__(self, units: Mapping[int, UnitLike]) -> None:
        self.by_code = {u.code: u for u in units.values()}
        self.parents = {u.code: u.parent_code for u in units.values()}
        self._paths: dict[str, Path] = {}

    def path(self, unit: UnitLike) -> Path:
        """Ids from the root down to the unit (a loop in the tree ends the walk)."""
        found = self._paths.get(unit.code)
        if found is None:
            ids, node, seen = [unit.id], unit.parent_code, {unit.code}
            while node is not None and node in self.by_code and node not in seen:
                seen.add(node)
                ids.append(self.by_code[node].id)
                node = self.parents[node]
            found = self._paths[unit.code] = tuple(reversed(ids))
        return found


def plan_headlines(session: Session, *, plan_id: int, cutoff: datetime) -> list[str]:
    """The headline of each indicator of a plan, read from its values alone (the weekly digest).

    As in the tables: each task's latest period with a value before `cutoff`; the units that
    have not reported are the task's owners without a value there. The cost follows the values
    given, not the plan's occurrences.
    """
    task_ids = session.exec(
        select(Task.id).where(Task.plan_id == plan_id, Task.active).order_by(col(Task.position))
    ).all()
    indicators = task_indicators(session, [t for t in task_ids if t is not None])
    if not indicators:
        return []
    every = {i.id: i for found in indicators.values() for i in found}
    counted = session.execute(
        sa_select(col(Assignment.task_id), func.count())
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(col(Assignment.task_id).in_(list(indicators)), col(Assignment.active), REPORTING)
        .group_by(col(Assignment.task_id))
    )
    assigned: dict[int, int] = {task_id: count for task_id, count in counted}
    given = _given(session, every, cutoff)
    lines: list[str] = []
    for task_id, found in indicators.items():
        values = given.get(task_id, {})
        latest = max(values, key=lambda due: due or date.min) if values else None
        chosen = values.get(latest, {})
        for indicator in found:
            reported = [v for (_, i), v in chosen.items() if i == indicator.id]
            missing = max(assigned.get(task_id, 0) - len(reported), 0)
            total = combine(indicator.spec, [*reported, *([None] * missing)])
            lines.append(headline(indicator.spec, total))
    return lines


def _given(
    session: Session, indicators: Mapping[int, Indicator], cutoff: datetime
) -> dict[int, dict[date | None, dict[tuple[int, int], Value]]]:
    """Task → due date → (occurrence, indicator) → the newest value before `cutoff`."""
    rows = session.execute(
        sa_select(
            col(Assignment.task_id),
            col(Occurrence.due_date),
            col(IndicatorValue.occurrence_id),
            col(IndicatorValue.indicator_id),
            *VALUE_COLUMNS,
        )
        .join(Occurrence, col(Occurrence.id) == col(IndicatorValue.occurrence_id))
        .join(Assignment, col(Assignment.id) == col(Occurrence.assignment_id))
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(
            col(IndicatorValue.indicator_id).in_(sorted(indicators)),
            col(IndicatorValue.created_at) < cutoff,
            col(Occurrence.active),
            col(Assignment.active),
            REPORTING,
        )
        .order_by(*NEWEST_LAST)
    ).all()
    found: dict[int, dict[date | None, dict[tuple[int, int], Value]]] = defaultdict(dict)
    for task_id, due, occurrence_id, indicator_id, kind, number, whole, text in rows:
        if kind == indicators[indicator_id].spec.kind:
            value = value_of(kind, number, whole, text)
            found[task_id].setdefault(due, {})[(occurrence_id, indicator_id)] = value
    return found
