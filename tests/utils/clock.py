"""Explicit clocks for tests: local wall-clock strings to aware UTC instants."""

from __future__ import annotations

from datetime import datetime

from plans.clock import as_utc


def local_time(text: str) -> datetime:
    """An aware UTC instant from a local 'YYYY-MM-DD HH:MM' string."""
    return as_utc(datetime.fromisoformat(text))
