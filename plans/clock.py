"""Local time (DONDOC_TIMEZONE, Asia/Ho_Chi_Minh by default) versus stored UTC.

Every local day and wall-clock time of dondoc is computed here, in the zone bot/settings.py sets
at start-up; nothing else names a zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
_zone = ZoneInfo(DEFAULT_TIMEZONE)  # the one process-wide setting: see set_timezone


def set_timezone(name: str) -> None:
    """Use this IANA zone for every local day and time from now on."""
    global _zone
    _zone = ZoneInfo(name)


def local_zone() -> ZoneInfo:
    """The configured local time zone."""
    return _zone


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone)
    return moment.astimezone(UTC)


def local(moment: datetime) -> datetime:
    """The same instant in local time."""
    return as_utc(moment).astimezone(_zone)


def local_date(moment: datetime) -> date:
    """The local calendar day of an instant."""
    return local(moment).date()


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware UTC instant for a local day and wall-clock time."""
    return datetime.combine(day, time(hour, minute), tzinfo=_zone).astimezone(UTC)


def parse_moment(text: str) -> datetime:
    """Parse an ISO date or datetime given on the command line (local unless it has an offset)."""
    text = text.strip()
    if len(text) == 10:
        return at_local(date.fromisoformat(text), 8)
    return as_utc(datetime.fromisoformat(text))
