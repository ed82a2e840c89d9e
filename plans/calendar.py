"""Working-day calendar: weekends, public holidays, Tết breaks and school-year anchors."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from plans.errors import DeadlineError, InputFileError
from plans.source import Pointer, SourceDoc, read_yaml

DATA_DIR = Path(__file__).parent / "data"

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Calendar:
    """Working days are Monday to Friday minus `holidays` (which include the Tết breaks)."""

    holidays: frozenset[date]
    tet_breaks: Mapping[int, tuple[date, date]]
    school_anchors: Mapping[str, tuple[int, int]]

    def is_working_day(self, day: date) -> bool:
        """Whether offices work on this day."""
        return day.weekday() < 5 and day not in self.holidays

    def previous_working_day(self, day: date) -> date:
        """The latest working day on or before `day`."""
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The day `count` working days after `day`, not counting `day` (before it if negative)."""
        step = _ONE_DAY if count >= 0 else -_ONE_DAY
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def tet_break(self, year: int) -> tuple[date, date]:
        """First and last day off of the year's Tết Nguyên đán break."""
        try:
            return self.tet_breaks[year]
        except KeyError:
            raise DeadlineError(
                f"Tết Nguyên đán {year}", "lịch nghỉ Tết năm này chưa có trong holidays.yaml"
            ) from None

    def school_anchor(self, name: str) -> tuple[int, int]:
        """Month and day of a school-year milestone such as `khai_giang`."""
        try:
            return self.school_anchors[name]
        except KeyError:
            raise DeadlineError(name, "mốc năm học này chưa có trong school_year.yaml") from None


def load_calendar(
    holidays_path: Path | None = None, school_year_path: Path | None = None
) -> Calendar:
    """Read the holiday table and the school-year anchors the operator maintains."""
    holidays_doc = read_yaml(holidays_path or DATA_DIR / "holidays.yaml")
    school_doc = read_yaml(school_year_path or DATA_DIR / "school_year.yaml")
    tet: dict[int, tuple[date, date]] = {}
    for year, entry in _mapping(holidays_doc, ("tet",)).items():
        tet[year] = _date_range(holidays_doc, ("tet", year), entry)
        if not isinstance(year, int) or tet[year][0].year != year:
            raise _problem(holidays_doc, ("tet", year), "năm của kỳ nghỉ Tết không khớp ngày")
    days = {day for start, end in tet.values() for day in _days(start, end)}
    entries = holidays_doc.data.get("holidays") or []
    if not isinstance(entries, list):
        raise _problem(holidays_doc, ("holidays",), "'holidays' phải là một danh sách")
    for index, entry in enumerate(entries):
        days.update(_days(*_date_range(holidays_doc, ("holidays", index), entry)))
    anchors = {
        str(name): _month_day(school_doc, ("anchors", name), value)
        for name, value in _mapping(school_doc, ("anchors",)).items()
    }
    return Calendar(frozenset(days), tet, anchors)


@functools.lru_cache(maxsize=1)
def default_calendar() -> Calendar:
    """The calendar from the data files shipped in `plans/data`, read once."""
    return load_calendar()


def _mapping(doc: SourceDoc, pointer: Pointer) -> dict[Any, Any]:
    """The mapping at a top-level key of a data file."""
    data = doc.data if isinstance(doc.data, dict) else {}
    value = data.get(pointer[0])
    if not isinstance(value, dict):
        raise _problem(doc, pointer, f"'{pointer[0]}' phải là một ánh xạ")
    return value


def _date_range(doc: SourceDoc, pointer: Pointer, entry: Any) -> tuple[date, date]:
    """First and last day of a holiday entry: a date, {date, name} or {start, end, name}."""
    if isinstance(entry, dict) and "date" in entry:
        day = _date(doc, pointer, entry["date"])
        return day, day
    if isinstance(entry, dict):
        start = _date(doc, pointer, entry.get("start"))
        end = _date(doc, pointer, entry.get("end"))
        if end < start:
            raise _problem(doc, pointer, "ngày kết thúc trước ngày bắt đầu")
        return start, end
    day = _date(doc, pointer, entry)
    return day, day


def _date(doc: SourceDoc, pointer: Pointer, value: Any) -> date:
    """An ISO date, as YAML gives it (a date) or as a quoted string."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _problem(doc, pointer, f"ngày không hợp lệ: {value!r} (cần YYYY-MM-DD)") from None


def _month_day(doc: SourceDoc, pointer: Pointer, value: Any) -> tuple[int, int]:
    """A "MM-DD" anchor, checked against a leap year so 02-29 is allowed."""
    try:
        month, day = (int(part) for part in str(value).split("-"))
        date(2000, month, day)
    except ValueError:
        raise _problem(doc, pointer, f"mốc không hợp lệ: {value!r} (cần MM-DD)") from None
    return month, day


def _days(start: date, end: date) -> list[date]:
    """Every day from start to end inclusive."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def _problem(doc: SourceDoc, pointer: Pointer, message: str) -> InputFileError:
    """An error naming the data file, the line and the field."""
    return InputFileError([doc.problem(pointer, message)])
