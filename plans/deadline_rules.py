"""Due-date rules: what a parsed deadline keeps, so that its dates can be listed for any horizon.

`plans/deadline.py` reads the text into these rules; each lists its dates lazily between two days.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import MAXYEAR, date, timedelta
from typing import Literal

from plans.calendar import Calendar

CountUnit = Literal["ngày làm việc", "ngày", "tuần", "tháng", "năm"]


@dataclass(frozen=True)
class Once:
    """One due date, listed whatever the horizon."""

    day: date

    def dates(self, low: date, high: date) -> Iterator[date]:
        """Yield the date itself."""
        yield self.day


@dataclass(frozen=True)
class Monthly:
    """A day of some months every year (`day` None: month end), moved by `offset` days."""

    months: tuple[int, ...]
    day: int | None
    offset: int = 0
    first: date | None = None
    last: date | None = None

    def dates(self, low: date, high: date) -> Iterator[date]:
        """Yield the due dates from low to high inclusive that fall inside the rule's bounds."""
        low, high = clip(low, high, self.first, self.last)
        # One year past `high`: an offset of -1 moves 1 January into the year before.
        for year in range(low.year, min(high.year + 1, MAXYEAR) + 1):
            for month in self.months:
                month_end = monthrange(year, month)[1]
                due = date(year, month, min(self.day or month_end, month_end))
                due += timedelta(days=self.offset)
                if low <= due <= high:
                    yield due


@dataclass(frozen=True)
class Weekly:
    """One weekday (Monday 0) every week."""

    weekday: int
    first: date | None = None
    last: date | None = None

    def dates(self, low: date, high: date) -> Iterator[date]:
        """Yield the weekdays from low to high inclusive that fall inside the rule's bounds."""
        low, high = clip(low, high, self.first, self.last)
        due = low + timedelta(days=(self.weekday - low.weekday()) % 7)
        while due <= high:
            yield due
            due += timedelta(days=7)


@dataclass(frozen=True)
class Listed:
    """Recurring dates taken from calendar data, such as the last working day before each Tết."""

    days: tuple[date, ...]
    first: date | None = None
    last: date | None = None

    def dates(self, low: date, high: date) -> Iterator[date]:
        """Yield the listed dates from low to high inclusive that fall inside the rule's bounds."""
        low, high = clip(low, high, self.first, self.last)
        return (day for day in self.days if low <= day <= high)


@dataclass(frozen=True)
class Shifted:
    """Each event of another rule from `low` on, moved later by a count of (working) days,
    weeks, months or years ("3 ngày làm việc sau khi kết thúc tháng")."""

    base: Rule
    count: int
    unit: CountUnit
    calendar: Calendar = field(compare=False, repr=False)

    def dates(self, low: date, high: date) -> Iterator[date]:
        """Yield the moved dates up to high, of the events from low on."""
        for event in self.base.dates(low, high):
            due = shift(event, self.count, self.unit, self.calendar)
            if due <= high:
                yield due


Rule = Once | Monthly | Weekly | Listed | Shifted


def clip(low: date, high: date, first: date | None, last: date | None) -> tuple[date, date]:
    """The horizon narrowed to a rule's own bounds."""
    return max(low, first or low), min(high, last or high)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def shift(day: date, count: int, unit: CountUnit, calendar: Calendar) -> date:
    """The day `count` units after `day`; working days skip weekends and holidays."""
    if unit == "ngày làm việc":
        return calendar.add_working_days(day, count)
    if unit in ("ngày", "tuần"):
        return day + timedelta(days=count * (7 if unit == "tuần" else 1))
    return add_months(day, count * (12 if unit == "năm" else 1))
