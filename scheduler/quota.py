"""Monthly message quotas: the sent-message counter per channel, and the 80 % warning."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from chat.templates import render
from plans.clock import local_date
from storage.db import insert_ignore
from storage.models import SentCounter

QUOTA_WARNING_SHARE = 0.8


def count_sent(session: Session, channel: str, now: datetime, count: int) -> None:
    """Add to the channel's monthly sent-message counter."""
    month = local_date(now).strftime("%Y-%m")
    updated = session.connection().execute(
        update(SentCounter)
        .where(col(SentCounter.channel) == channel, col(SentCounter.month) == month)
        .values(count=col(SentCounter.count) + count)
    )
    if not updated.rowcount:
        insert_ignore(session, SentCounter, [{"channel": channel, "month": month, "count": count}])


def quota_warning(
    session: Session, *, channel: str, quota: int | None, now: datetime
) -> str | None:
    """A Vietnamese warning (Telegram HTML) once 80 % of the channel's monthly quota is used."""
    if not quota or quota <= 0:
        return None
    month = local_date(now).strftime("%Y-%m")
    used = session.exec(
        select(SentCounter.count).where(SentCounter.channel == channel, SentCounter.month == month)
    ).first()
    if used is None or used < QUOTA_WARNING_SHARE * quota:
        return None
    return render(
        "zalo_quota_warning.html.j2",
        channel_label=channel.capitalize(),
        month=local_date(now).strftime("%m/%Y"),
        used=used,
        quota=quota,
        percent=used * 100 // quota,
    ).strip()
