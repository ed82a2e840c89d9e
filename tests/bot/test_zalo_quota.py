"""The monthly Zalo quota: conversation replies counted, a warning from 80 % on."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.inbound import count_sent
from scheduler.quota import quota_warning
from storage.models import SentCounter
from tests.utils.clock import local_time

NOW = local_time("2026-11-23 08:00")


def warning(engine: Engine, quota: int | None, at: str = "2026-11-23 08:00") -> str | None:
    """The warning as the digest would ask for it."""
    with Session(engine) as session:
        return quota_warning(session, channel="zalo", quota=quota, now=local_time(at))


def test_counts_add_up_per_channel_and_month(engine: Engine) -> None:
    count_sent(engine, channel="zalo", now=NOW, count=3)
    count_sent(engine, channel="zalo", now=NOW, count=2)
    count_sent(engine, channel="zalo", now=NOW, count=0)
    count_sent(engine, channel="telegram", now=NOW, count=1)
    # 00:30 on 1 December in Hanoi is still 30 November in UTC: the local month counts.
    count_sent(engine, channel="zalo", now=local_time("2026-12-01 00:30"), count=4)
    with Session(engine) as session:
        assert session.get(SentCounter, ("zalo", "2026-11")).count == 5  # type: ignore[union-attr]
        assert session.get(SentCounter, ("zalo", "2026-12")).count == 4  # type: ignore[union-attr]
        assert session.get(SentCounter, ("telegram", "2026-11")).count == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("quota", [None, 0])
def test_no_quota_no_warning(engine: Engine, quota: int | None) -> None:
    count_sent(engine, channel="zalo", now=NOW, count=10_000)
    assert warning(engine, quota) is None


def test_below_80_percent_no_warning(engine: Engine) -> None:
    assert warning(engine, 1000) is None  # nothing sent at all
    count_sent(engine, channel="zalo", now=NOW, count=799)
    assert warning(engine, 1000) is None


def test_from_80_percent_a_warning(engine: Engine) -> None:
    count_sent(engine, channel="zalo", now=NOW, count=800)
    text = warning(engine, 1000)
    assert text is not None
    assert "Zalo" in text and "11/2026" in text and "800/1.000" in text and "(80%)" in text
    assert "Sắp hết hạn mức" in text and "<" not in text


def test_over_quota_says_so(engine: Engine) -> None:
    count_sent(engine, channel="zalo", now=NOW, count=1200)
    text = warning(engine, 1000)
    assert text is not None and "(120%)" in text and "Đã hết hạn mức" in text


def test_a_new_month_starts_from_zero(engine: Engine) -> None:
    count_sent(engine, channel="zalo", now=NOW, count=900)
    assert warning(engine, 1000) is not None
    assert warning(engine, 1000, at="2026-12-01 08:00") is None


def test_other_channels_do_not_count(engine: Engine) -> None:
    count_sent(engine, channel="telegram", now=NOW, count=900)
    assert warning(engine, 1000) is None
