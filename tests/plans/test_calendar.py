"""Working-day calendar and its data files."""

from datetime import date
from pathlib import Path

import pytest

from plans.calendar import default_calendar, load_calendar
from plans.errors import DeadlineError, InputFileError


def test_weekdays_work_and_weekends_do_not() -> None:
    """Monday to Friday are working days, Saturday and Sunday are not."""
    calendar = default_calendar()
    assert calendar.is_working_day(date(2025, 10, 6))  # Monday
    assert calendar.is_working_day(date(2025, 10, 10))  # Friday
    assert not calendar.is_working_day(date(2025, 10, 11))  # Saturday
    assert not calendar.is_working_day(date(2025, 10, 12))  # Sunday


@pytest.mark.parametrize(
    "day",
    [
        date(2023, 1, 2),  # Tết Dương lịch on a Sunday, compensated on Monday
        date(2023, 1, 24),  # Tết 2023
        date(2024, 4, 18),  # Giỗ Tổ Hùng Vương
        date(2024, 4, 29),  # swapped for Saturday 4 May
        date(2025, 1, 1),
        date(2025, 1, 31),  # Tết 2025
        date(2025, 4, 7),  # Giỗ Tổ Hùng Vương
        date(2025, 5, 2),  # swapped for Saturday 26 April
        date(2025, 9, 1),  # Quốc khánh, adjacent day
        date(2025, 9, 2),
        date(2026, 2, 16),  # Tết 2026
        date(2026, 4, 27),  # Giỗ Tổ on Sunday 26 April, compensated
        date(2027, 2, 5),  # Tết 2027 (dự kiến)
        date(2027, 5, 3),  # 1 May 2027 is a Saturday, compensated
    ],
)
def test_public_holidays_are_not_working_days(day: date) -> None:
    """Holidays from holidays.yaml, including compensatory and swapped days."""
    assert day.weekday() < 5
    assert not default_calendar().is_working_day(day)


def test_tet_breaks_are_the_official_ones() -> None:
    """The Tết breaks of plans/data/holidays.yaml, and one for every year 2023-2027."""
    calendar = default_calendar()
    assert calendar.tet_break(2025) == (date(2025, 1, 25), date(2025, 2, 2))
    assert calendar.tet_break(2026) == (date(2026, 2, 14), date(2026, 2, 22))
    assert sorted(calendar.tet_breaks) == [2023, 2024, 2025, 2026, 2027]
    for start, end in calendar.tet_breaks.values():
        assert start < end
        assert all(day in calendar.holidays for day in (start, end))


def test_unknown_tet_year_is_a_deadline_error() -> None:
    """A year missing from the table cannot be used by a deadline."""
    with pytest.raises(DeadlineError, match="2031"):
        default_calendar().tet_break(2031)


def test_previous_working_day() -> None:
    """The latest working day on or before a date."""
    calendar = default_calendar()
    assert calendar.previous_working_day(date(2025, 10, 8)) == date(2025, 10, 8)
    assert calendar.previous_working_day(date(2025, 10, 12)) == date(2025, 10, 10)
    assert calendar.previous_working_day(date(2025, 1, 25)) == date(2025, 1, 24)
    assert calendar.previous_working_day(date(2025, 2, 2)) == date(2025, 1, 24)
    assert calendar.previous_working_day(date(2025, 5, 4)) == date(2025, 4, 29)


def test_add_working_days_skips_weekends_and_tet() -> None:
    """Counting starts the day after and skips weekends and the Tết break."""
    calendar = default_calendar()
    assert calendar.add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 1)
    assert calendar.add_working_days(date(2025, 10, 3), 1) == date(2025, 10, 6)
    assert calendar.add_working_days(date(2025, 1, 23), 1) == date(2025, 1, 24)
    assert calendar.add_working_days(date(2025, 1, 23), 2) == date(2025, 2, 3)
    assert calendar.add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 23)
    assert calendar.add_working_days(date(2025, 2, 3), -1) == date(2025, 1, 24)


def test_school_anchors() -> None:
    """School-year milestones come from school_year.yaml."""
    calendar = default_calendar()
    assert calendar.school_anchor("khai_giang") == (9, 5)
    assert calendar.school_anchor("dau_nam_hoc") == (9, 30)
    assert calendar.school_anchor("ket_thuc_hoc_ky_1") == (1, 17)
    assert calendar.school_anchor("cuoi_nam_hoc") == (5, 31)
    assert calendar.school_anchor("dip_he") == (8, 31)
    with pytest.raises(DeadlineError):
        calendar.school_anchor("nghi_giua_ky")


def test_default_calendar_is_read_once() -> None:
    """The shipped data files are cached."""
    assert default_calendar() is default_calendar()


def write(path: Path, text: str) -> Path:
    """Write a data file for a test."""
    path.write_text(text, encoding="utf-8")
    return path


SCHOOL_YEAR = 'anchors:\n  khai_giang: "09-05"\n'


def test_load_calendar_reads_operator_files(tmp_path: Path) -> None:
    """Dates, {date, name} and {start, end, name} entries; Tết days count as holidays."""
    holidays = write(
        tmp_path / "holidays.yaml",
        "tet:\n"
        "  2030: {start: 2030-02-01, end: 2030-02-07}\n"
        "holidays:\n"
        "  - 2030-01-01\n"
        "  - {date: '2030-04-12', name: Giỗ Tổ}\n"
        "  - {start: 2030-04-30, end: 2030-05-01, name: '30/4, 1/5'}\n",
    )
    calendar = load_calendar(holidays, write(tmp_path / "school.yaml", SCHOOL_YEAR))
    assert calendar.tet_break(2030) == (date(2030, 2, 1), date(2030, 2, 7))
    assert {date(2030, 1, 1), date(2030, 2, 4), date(2030, 4, 12), date(2030, 5, 1)} <= (
        calendar.holidays
    )
    assert len(calendar.holidays) == 1 + 7 + 1 + 2
    assert calendar.school_anchors == {"khai_giang": (9, 5)}


@pytest.mark.parametrize(
    ("holidays_text", "field"),
    [
        ("tet:\n  2030: {start: 2030-02-07, end: 2030-02-01}\nholidays: []\n", "tet"),
        ("tet:\n  2031: {start: 2030-02-01, end: 2030-02-07}\nholidays: []\n", "tet"),
        ("tet: {}\nholidays:\n  - '2030-13-01'\n", "holidays"),
        ("tet: {}\nholidays:\n  - {start: 2030-01-01}\n", "holidays"),
        ("tet: {}\nholidays: 2030-01-01\n", "holidays"),
        ("holidays: []\n", "tet"),
    ],
)
def test_broken_holiday_file_names_file_and_field(
    tmp_path: Path, holidays_text: str, field: str
) -> None:
    """A malformed holiday table is refused with the file and the field."""
    holidays = write(tmp_path / "holidays.yaml", holidays_text)
    with pytest.raises(InputFileError) as caught:
        load_calendar(holidays, write(tmp_path / "school.yaml", SCHOOL_YEAR))
    problem = caught.value.problems[0]
    assert problem.file == str(holidays)
    assert problem.field == field


def test_broken_school_anchor_is_refused(tmp_path: Path) -> None:
    """An anchor that is not a valid MM-DD is refused with its line."""
    holidays = write(tmp_path / "holidays.yaml", "tet: {}\nholidays: []\n")
    school = write(tmp_path / "school.yaml", 'anchors:\n  khai_giang: "09-31"\n')
    with pytest.raises(InputFileError) as caught:
        load_calendar(holidays, school)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.field) == (str(school), 2, "anchors.khai_giang")
