"""Local time (Asia/Ho_Chi_Minh by default) versus stored UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
LOCAL_TZ = ZoneInfo(DEFAULT_TIMEZONE)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


def local(moment: datetime) -> datetime:
    """The same instant in local time."""
    return as_utc(moment).astimezone(LOCAL_TZ)


def local_date(moment: datetime) -> date:
    """The local calendar day of an instant."""
    return local(moment).date()


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware UTC instant for a local day and wall-clock time."""
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(UTC)


def parse_moment(text: str) -> datetime:
    """Parse an ISO date or datetime given on the command line (local unless it has an offset)."""
    text = text.strip()
    if len(text) == 10:
        return at_local(date.fromisoformat(text), 8)
    return as_utc(datetime.fromisoformat(text))
