"""Indicator totals across units: combine, compare with targets, subtotal a unit tree, headline."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from plans.indicator_values import format_value
from plans.indicators import Combine, IndicatorKind, IndicatorSpec, Op, Target, Value, say

# Headlines round averages and sums to one decimal, as "91,6%".
HEADLINE_PLACES = 1
_COMPARE: dict[Op, Callable[[Decimal, Decimal], bool]] = {
    Op.GE: operator.ge,
    Op.LE: operator.le,
    Op.EQ: operator.eq,
    Op.GT: operator.gt,
    Op.LT: operator.lt,
}


@dataclass(frozen=True)
class Total:
    """The units' values combined, with who reported and who meets the targets."""

    value: Value | None  # None when no unit reported or the indicator is not combined
    reported: int
    missing: int  # units that have not reported (no value)
    meeting: int | None  # units meeting the per-unit target; None without one
    met: bool | None  # whether the total meets the target; None without a target or a value


def meets(target: Target, value: Value) -> bool:
    """Whether a value (one unit's or a total) meets a target."""
    if value.number is None:
        return False
    if value.kind == IndicatorKind.RATIO and target.percent:
        measure = value.percent or Decimal(0)
    elif value.kind == IndicatorKind.YESNO and target.percent:
        measure = value.number * 100
    else:
        measure = value.number
    return _COMPARE[target.op](measure, target.value)


def meets_unit(spec: IndicatorSpec, value: Value | None) -> bool | None:
    """Whether one unit's value meets the per-unit target; None without a target."""
    if spec.target_unit is None:
        return None
    return value is not None and meets(spec.target_unit, value)


def combine(spec: IndicatorSpec, values: Iterable[Value | None]) -> Total:
    """Combine the units' values (None: not reported) as the indicator says."""
    given = list(values)
    reported = [v for v in given if v is not None]
    value = _combined(spec, reported) if reported else None
    meeting = None
    if spec.target_unit is not None:
        meeting = sum(bool(meets_unit(spec, v)) for v in reported)
    met = meets(spec.target, value) if spec.target and value else None
    return Total(value, len(reported), len(given) - len(reported), meeting, met)


def _combined(spec: IndicatorSpec, values: list[Value]) -> Value | None:
    """The combined value of a non-empty list of reported values."""
    numbers = [v.number or Decimal(0) for v in values]
    if spec.combine == Combine.SUM:
        return Value(IndicatorKind.NUMBER, number=sum(numbers, Decimal(0)))
    if spec.combine == Combine.AVERAGE and spec.kind == IndicatorKind.RATIO:
        percents = [v.percent or Decimal(0) for v in values]
        return Value(IndicatorKind.PERCENT, number=sum(percents, Decimal(0)) / len(values))
    if spec.combine == Combine.AVERAGE:
        return Value(spec.kind, number=sum(numbers, Decimal(0)) / len(values))
    if spec.combine == Combine.RATE:
        wholes = sum((v.whole or Decimal(0) for v in values), Decimal(0))
        return Value(IndicatorKind.RATIO, number=sum(numbers, Decimal(0)), whole=wholes)
    if spec.combine == Combine.COUNT_YES:
        yes = sum(numbers, Decimal(0))
        return Value(IndicatorKind.RATIO, number=yes, whole=Decimal(len(values)))
    if spec.combine == Combine.MIN:
        return min(values, key=_rank)
    return None


def _rank(value: Value) -> Decimal:
    """What a value is ordered by: a ratio by its percent, others by their number."""
    if value.kind == IndicatorKind.RATIO:
        return value.percent or Decimal(0)
    return value.number or Decimal(0)


def headline(spec: IndicatorSpec, total: Total) -> str:
    """One line for the digest and /status: "Phòng học kiên cố: 412/450 (91,6%) — mục tiêu 100%"."""
    shown = format_value(spec, total.value, HEADLINE_PLACES) if total.value else None
    line = f"{spec.name}: {shown or say('headline_none')}"
    if spec.target is not None:
        line += say("headline_target", target=spec.target.text)
    if total.missing:
        line += say("headline_missing", count=total.missing)
    return line


def subtotals(
    spec: IndicatorSpec, values: Mapping[str, Value | None], parents: Mapping[str, str | None]
) -> dict[str, Total]:
    """Totals of each group node of the unit tree over the assigned units beneath it.

    `values` holds every assigned unit (None: not reported); `parents` is the unit tree (unit →
    parent, None at a root). A node's subtotal includes its own value when it is assigned too.
    A node holding every assigned unit is left out: its subtotal is the grand total, so a flat
    list of units has no subtotals.
    """
    members: dict[str, list[str]] = {}
    groups: set[str] = set()
    for unit in values:
        above = _ancestors(unit, parents)
        groups.update(above)
        for node in (unit, *above):
            members.setdefault(node, []).append(unit)
    return {
        node: combine(spec, (values[unit] for unit in units))
        for node, units in sorted(members.items(), key=lambda item: _depth(item[0], parents))
        if node in groups and len(units) < len(values)
    }


def _ancestors(unit: str, parents: Mapping[str, str | None]) -> list[str]:
    """The unit's ancestors, nearest first (a loop in the tree ends the walk)."""
    found: list[str] = []
    node = parents.get(unit)
    while node is not None and node != unit and node not in found:
        found.append(node)
        node = parents.get(node)
    return found


def _depth(node: str, parents: Mapping[str, str | None]) -> int:
    """How many ancestors a node has: subtotals are listed from the top of the tree."""
    return len(_ancestors(node, parents))
