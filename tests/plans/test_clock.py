"""Local days and times follow DONDOC_TIMEZONE (plans/clock.py), Asia/Ho_Chi_Minh by default."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from plans.clock import (
    DEFAULT_TIMEZONE,
    at_local,
    local,
    local_date,
    parse_moment,
    set_timezone,
)
from plans.policy import in_quiet_hours
from plans.render import dmy

EVENING_UTC = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # 23:30 in Hà Nội, 01:30 in Tokyo


@pytest.fixture
def tokyo() -> Iterator[None]:
    """The process runs on Tokyo time for one test."""
    set_timezone("Asia/Tokyo")
    yield
    set_timezone(DEFAULT_TIMEZONE)


def test_default_zone_is_vietnam() -> None:
    assert at_local(date(2026, 11, 27), 8) == datetime(2026, 11, 27, 1, tzinfo=UTC)
    assert local_date(EVENING_UTC) == date(2026, 11, 26)


@pytest.mark.usefixtures("tokyo")
def test_every_local_computation_follows_the_configured_zone() -> None:
    assert at_local(date(2026, 11, 27), 8) == datetime(2026, 11, 26, 23, tzinfo=UTC)
    assert local_date(EVENING_UTC) == date(2026, 11, 27)
    assert local(EVENING_UTC).hour == 1
    assert parse_moment("2026-11-27T09:00") == datetime(2026, 11, 27, 0, tzinfo=UTC)
    assert parse_moment("2026-11-27") == datetime(2026, 11, 26, 23, tzinfo=UTC)
    assert in_quiet_hours(datetime(2026, 11, 26, 12, 30, tzinfo=UTC))  # 21:30 (19:30 in Hà Nội)
    assert not in_quiet_hours(datetime(2026, 11, 26, 22, 30, tzinfo=UTC))  # 07:30 (05:30)


def test_an_instant_prints_as_its_local_day() -> None:
    assert dmy(EVENING_UTC) == "26/11/2026"
    assert dmy(datetime(2026, 11, 26, 18, tzinfo=UTC)) == "27/11/2026"  # 01:00 in Hà Nội
    assert dmy(date(2026, 11, 26)) == "26/11/2026"
