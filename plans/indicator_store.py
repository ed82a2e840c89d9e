"""Indicators in storage: a task's specs as rows, and the values units give per occurrence.

A value is never overwritten: each answer is a new row and the newest per occurrence and
indicator is the current one, so a correction keeps what it corrected and a report at an
earlier date reads the values as they stood then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from plans.indicators import Combine, IndicatorKind, IndicatorSpec, Scope, Value, parse_target
from storage.db import table_of
from storage.models import IndicatorValue, Occurrence, TaskIndicator

VALUE_TABLE = table_of(IndicatorValue)
# What `value_of` reads back, in its order; and the order that leaves the current value last.
VALUE_COLUMNS = (
    col(IndicatorValue.kind),
    col(IndicatorValue.number),
    col(IndicatorValue.whole),
    col(IndicatorValue.text),
)
NEWEST_LAST = (col(IndicatorValue.created_at), col(IndicatorValue.id))


@dataclass(frozen=True)
class Indicator:
    """A stored indicator of a task: its row id and what the plan file says of it."""

    id: int
    task_id: int
    spec: IndicatorSpec


def save_specs(session: Session, task_id: int, specs: Sequence[IndicatorSpec]) -> bool:
    """Make the task's indicator rows match its file; tell whether anything changed.

    An indicator is matched by its code (case aside), so a renamed one keeps its values; one
    the file no longer lists is marked inactive, never deleted (values refer to it).
    """
    stored = {
        row.code.casefold(): row
        for row in session.exec(select(TaskIndicator).where(TaskIndicator.task_id == task_id))
    }
    changed = False
    for position, spec in enumerate(specs):
        values = {"position": position, **_columns(spec), "active": True}
        row = stored.pop(spec.code.casefold(), None)
        if row is None:
            session.add(TaskIndicator(task_id=task_id, **values))
            changed = True
            continue
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
    for row in stored.values():
        if row.active:
            row.active = False
            changed = True
    return changed


def _columns(spec: IndicatorSpec) -> dict[str, Any]:
    """The columns of a spec (targets as written: parsed again when read)."""
    return {
        "code": spec.code,
        "name": spec.name,
        "kind": spec.kind.value,
        "combine": spec.combine.value,
        "measure": spec.unit,
        "target": spec.target.text if spec.target else None,
        "target_unit": spec.target_unit.text if spec.target_unit else None,
    }


def spec_of(row: TaskIndicator) -> IndicatorSpec:
    """The spec a stored row stands for."""
    unit = row.measure
    return IndicatorSpec(
        row.code,
        row.name,
        IndicatorKind(row.kind),
        Combine(row.combine),
        unit,
        parse_target(row.target, unit=unit) if row.target else None,
        parse_target(row.target_unit, scope=Scope.UNIT, unit=unit) if row.target_unit else None,
    )


def task_indicators(session: Session, task_ids: Iterable[int]) -> dict[int, list[Indicator]]:
    """The active indicators of the tasks, in file order (tasks without any are left out)."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(TaskIndicator)
        .where(col(TaskIndicator.task_id).in_(ids), col(TaskIndicator.active))
        .order_by(col(TaskIndicator.task_id), col(TaskIndicator.position))
    )
    found: dict[int, list[Indicator]] = {}
    for row in rows:
        assert row.id is not None
        found.setdefault(row.task_id, []).append(Indicator(row.id, row.task_id, spec_of(row)))
    return found


def record_values(
    session: Session,
    *,
    occurrence_id: int,
    contact_id: int | None,
    values: Mapping[int, Value],
    now: datetime,
) -> None:
    """Store values (indicator id → value) given on an occurrence; earlier ones stay as history."""
    if not values:
        return
    session.connection().execute(
        insert(VALUE_TABLE),
        [
            {
                "occurrence_id": occurrence_id,
                "indicator_id": indicator_id,
                "contact_id": contact_id,
                "created_at": now,
                **_value_columns(value),
            }
            for indicator_id, value in values.items()
        ],
    )


def _value_columns(value: Value) -> dict[str, Any]:
    """A value's columns: decimals as exact text."""
    return {
        "kind": value.kind.value,
        "number": None if value.number is None else str(value.number),
        "whole": None if value.whole is None else str(value.whole),
        "text": value.text,
    }


@lru_cache(maxsize=65_536)  # figures repeat (45/50, có): a report reads 100k of them
def value_of(kind: str, number: str | None, whole: str | None, text: str | None) -> Value:
    """A value from its stored columns (one shared object for equal columns)."""
    return Value(
        IndicatorKind(kind),
        number=None if number is None else Decimal(number),
        whole=None if whole is None else Decimal(whole),
        text=text,
    )


@dataclass(frozen=True)
class Known:
    """What is on record for an indicator of an occurrence: its value now, or last period's."""

    value: Value
    earlier_period: bool  # True: no value yet for this period, this is the previous one's


def known_values(
    session: Session, occurrence: Occurrence, indicators: Sequence[Indicator]
) -> dict[int, Known]:
    """Indicator id → this occurrence's current value, else the latest of an earlier period."""
    kinds = {i.id: i.spec.kind.value for i in indicators}
    if not kinds:
        return {}
    rows = session.execute(
        sa_select(
            col(IndicatorValue.indicator_id),
            col(IndicatorValue.occurrence_id),
            *VALUE_COLUMNS,
            col(Occurrence.due_date),
        )
        .join(Occurrence, col(Occurrence.id) == col(IndicatorValue.occurrence_id))
        .where(
            col(Occurrence.assignment_id) == occurrence.assignment_id,
            col(IndicatorValue.indicator_id).in_(list(kinds)),
        )
        .order_by(*NEWEST_LAST)
    ).all()
    current: dict[int, Known] = {}
    earlier: dict[int, Known] = {}
    for indicator_id, occurrence_id, kind, number, whole, text, due in rows:
        if kind != kinds[indicator_id]:  # given before the plan changed the indicator's kind
            continue
        value = value_of(kind, number, whole, text)
        if occurrence_id == occurrence.id:
            current[indicator_id] = Known(value, earlier_period=False)
        elif _before(due, occurrence.due_date):
            earlier[indicator_id] = Known(value, earlier_period=True)
    return {**earlier, **current}


def _before(due: Any, than: Any) -> bool:
    """Whether a period is earlier than another (periods without a date count as earlier)."""
    return due is None or than is None or due < than


def values_at(
    connection: Connection,
    occurrence_ids: Sequence[int],
    indicators: Mapping[int, Indicator],
    cutoff: datetime,
) -> dict[int, dict[int, Value]]:
    """Occurrence id → indicator id → the value current before `cutoff`, for a report."""
    if not occurrence_ids or not indicators:
        return {}
    wanted = set(occurrence_ids)
    rows = connection.execute(
        sa_select(
            col(IndicatorValue.occurrence_id), col(IndicatorValue.indicator_id), *VALUE_COLUMNS
        )
        .where(
            # A range over the occurrence index, filtered here: no list of 100k parameters.
            col(IndicatorValue.occurrence_id).between(min(wanted), max(wanted)),
            col(IndicatorValue.indicator_id).in_(sorted(indicators)),
            col(IndicatorValue.created_at) < cutoff,
        )
        .order_by(*NEWEST_LAST)
    ).all()
    kinds = {indicator_id: i.spec.kind.value for indicator_id, i in indicators.items()}
    shared: dict[tuple[Any, ...], Value] = {}  # equal columns, one Value: figures repeat
    found: dict[int, dict[int, Value]] = {}
    for row in rows:
        occurrence_id, indicator_id, columns = row[0], row[1], row[2:]
        if occurrence_id not in wanted or columns[0] != kinds[indicator_id]:
            continue
        value = shared.get(columns) or shared.setdefault(columns, value_of(*columns))
        if (given := found.get(occurrence_id)) is None:
            given = found[occurrence_id] = {}
        given[indicator_id] = value
    return found
