"""A plan task's `indicators:` list, validated with file, line and field like the rest of a plan."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from plans.errors import InputFileError, Problem
from plans.indicators import (
    CODE_RE,
    Combine,
    IndicatorError,
    IndicatorKind,
    IndicatorSpec,
    Scope,
    Target,
    parse_target,
    say,
)
from plans.source import Pointer

CODE_MAX = 16
INDICATOR_KEYS = ("code", "name", "unit", "kind", "combine", "target", "target_unit")
DEFAULT_COMBINE: dict[IndicatorKind, Combine] = {
    IndicatorKind.NUMBER: Combine.SUM,
    IndicatorKind.PERCENT: Combine.AVERAGE,
    IndicatorKind.RATIO: Combine.RATE,
    IndicatorKind.YESNO: Combine.COUNT_YES,
    IndicatorKind.TEXT: Combine.NONE,
}
ALLOWED_COMBINE: dict[IndicatorKind, tuple[Combine, ...]] = {
    IndicatorKind.NUMBER: (Combine.SUM, Combine.AVERAGE, Combine.MIN),
    IndicatorKind.PERCENT: (Combine.AVERAGE, Combine.MIN),
    IndicatorKind.RATIO: (Combine.RATE, Combine.AVERAGE, Combine.MIN),
    IndicatorKind.YESNO: (Combine.COUNT_YES, Combine.MIN),
    IndicatorKind.TEXT: (Combine.NONE,),
}

ProblemAt = Callable[[Pointer, str], Problem]
E = TypeVar("E", bound=StrEnum)


def parse_indicator_specs(raw: Any, problem: ProblemAt) -> tuple[IndicatorSpec, ...]:
    """Validate a task's `indicators:` list; `problem(pointer, message)` locates each error.

    Raises InputFileError with every problem found, as `plans/plan_file.py` reports a plan's
    fields, so the loader can collect them with the rest of the file's problems.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputFileError([problem((), say("not_list"))])
    problems: list[Problem] = []
    specs: list[IndicatorSpec] = []
    for index, item in enumerate(raw):
        found = _spec(item, _within(problem, index))
        if isinstance(found, list):
            problems.extend(found)
        elif any(s.code.casefold() == found.code.casefold() for s in specs):
            problems.append(problem((index, "code"), say("repeated_code", code=found.code)))
        else:
            specs.append(found)
    if problems:
        raise InputFileError(problems)
    return tuple(specs)


def _within(problem: ProblemAt, index: int) -> ProblemAt:
    """Locate problems inside the `index`-th indicator."""
    return lambda pointer, message: problem((index, *pointer), message)


def _spec(item: Any, problem: ProblemAt) -> IndicatorSpec | list[Problem]:
    """One indicator, or the problems that keep it from being one."""
    if not isinstance(item, dict):
        return [problem((), say("item_not_mapping"))]
    found = [problem((str(k),), say("unknown_key", key=k)) for k in item if k not in INDICATOR_KEYS]
    code = _text(item, "code", problem, found)
    if code is not None and not (CODE_RE.fullmatch(code) and len(code) <= CODE_MAX):
        found.append(problem(("code",), say("bad_code", limit=CODE_MAX, code=code)))
    name = _text(item, "name", problem, found)
    unit = str(item.get("unit") or "").strip()
    kind = _choice(item, "kind", IndicatorKind, problem, found)
    combine = None
    if kind is not None:
        combine = _choice(item, "combine", Combine, problem, found, DEFAULT_COMBINE[kind])
        if combine is not None and combine not in ALLOWED_COMBINE[kind]:
            choices = ", ".join(ALLOWED_COMBINE[kind])
            message = say("bad_combine", kind=kind, combine=combine, choices=choices)
            found.append(problem(("combine",), message))
    if kind == IndicatorKind.PERCENT:
        if unit not in ("", "%"):
            found.append(problem(("unit",), say("percent_unit", unit=unit)))
        unit = "%"
    targets = [
        _target(item, key, scope, kind, combine, unit, problem, found)
        for key, scope in (("target", Scope.TOTAL), ("target_unit", Scope.UNIT))
    ]
    if found:
        return found
    assert code and name and kind and combine
    return IndicatorSpec(code, name, kind, combine, unit, targets[0], targets[1])


def _text(item: dict[str, Any], key: str, problem: ProblemAt, found: list[Problem]) -> str | None:
    """A required non-empty string field."""
    value = item.get(key)
    if value is None or isinstance(value, dict | list) or not str(value).strip():
        found.append(problem((key,), say("missing", key=key)))
        return None
    return " ".join(str(value).split())


def _choice(
    item: dict[str, Any],
    key: str,
    enum: type[E],
    problem: ProblemAt,
    found: list[Problem],
    default: E | None = None,
) -> E | None:
    """An enum field by its value; the default when absent (required when there is none)."""
    value = item.get(key)
    if value is None and default is not None:
        return default
    if value is None:
        found.append(problem((key,), say("missing", key=key)))
        return None
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        found.append(problem((key,), say("bad_choice", key=key, choices=choices)))
        return None


def _target(
    item: dict[str, Any],
    key: str,
    scope: Scope,
    kind: IndicatorKind | None,
    combine: Combine | None,
    unit: str,
    problem: ProblemAt,
    found: list[Problem],
) -> Target | None:
    """A target field checked against the indicator's kind, or None when absent."""
    if item.get(key) is None or kind is None:
        return None
    try:
        target = parse_target(item[key], scope=scope, unit=unit)
        _check_target(target, kind, combine, unit)
    except IndicatorError as exc:
        found.append(problem((key,), exc.message))
        return None
    return target


def _check_target(target: Target, kind: IndicatorKind, combine: Combine | None, unit: str) -> None:
    """Refuse a target the indicator's values can never be compared with."""
    # A yes/no indicator's total counts the units that said yes: its target is a count or a %.
    counting = target.scope == Scope.TOTAL and combine == Combine.COUNT_YES
    wants_yes = kind == IndicatorKind.YESNO and not counting
    if kind == IndicatorKind.TEXT:
        raise IndicatorError(say("target_none"))
    if wants_yes and not target.yes:
        raise IndicatorError(say("target_need_yes", text=target.text))
    if target.yes and counting:
        raise IndicatorError(say("target_count_yes", text=target.text))
    if target.yes and not wants_yes:
        raise IndicatorError(say("target_yes_number", text=target.text))
    if kind == IndicatorKind.NUMBER and target.percent and unit != "%":
        raise IndicatorError(say("target_no_percent", text=target.text))
    if kind == IndicatorKind.RATIO and not target.percent:
        raise IndicatorError(say("target_need_percent", text=target.text))
