"""Monthly message quotas: warn the coordinators when 80 % of a channel's quota is used."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from plans.clock import local_date
from plans.render import render
from storage.models import SentCounter

QUOTA_WARNING_SHARE = 0.8


def quota_warning(
    session: Session, *, channel: str = "zalo", quota: int | None, now: datetime
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
        "chat/zalo_quota_warning.html.j2",
        channel_label=channel.capitalize(),
        month=local_date(now).strftime("%m/%Y"),
        used=used,
        quota=quota,
        percent=used * 100 // quota,
    ).strip()
