"""The weekly digest: planned into the outbox per plan and coordinator, rendered when sent."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from plans.clock import local, local_date
from reports.chat_text import build_digest_text, completion_chart_png
from chat.messages import Attachment, OutgoingMessage
from reports.model import build_report
from reports.docx_writer import write_docx
from scheduler.quota import quota_warning
from storage.db import insert_ignore, session_scope
from storage.models import Contact, Outbox, Plan, Unit

DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR, DIGEST_MINUTE = 7, 30


def digest_due(now: datetime) -> bool:
    """Whether this week's digest time (Monday 07:30 local) has come."""
    moment = local(now)
    monday_morning = (moment.hour, moment.minute) < (DIGEST_HOUR, DIGEST_MINUTE)
    return not (moment.weekday() == DIGEST_WEEKDAY and monday_morning)


def plan_digests(engine: Engine, *, now: datetime) -> int:
    """Queue this week's digest (one per plan and coordinator); a second call adds nothing."""
    week = local_date(now).isocalendar()
    week_key = f"{week.year}-W{week.week:02d}"
    with session_scope(engine) as session:
        rows = session.exec(
            select(Plan, Contact)
            .join(Unit, Unit.code == Plan.coordinator_code)
            .join(Contact, Contact.unit_id == Unit.id)
            .where(Contact.role == "coordinator", Contact.reachable, Plan.visible)
        ).all()
        return insert_ignore(
            session,
            Outbox,
            [
                {
                    "key": f"digest:{plan.id}:{week_key}:{contact.id}",
                    "contact_id": contact.id,
                    "kind": "digest",
                    "step": f"digest-{week_key}",
                    "planned_for": now,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "text": plan.code,  # the plan to report on; rendered when sent
                }
                for plan, contact in rows
            ],
        )


def render_digest(
    session: Session, plan_code: str, *, now: datetime, zalo_quota: int | None = None
) -> list[OutgoingMessage]:
    """The digest text (≤ 4,096 characters) with the DOCX report and the chart attached,
    preceded by a quota warning when the Zalo quota is nearly used up."""
    report = build_report(session, plan_code=plan_code, at=local_date(now))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"bao-cao-{plan_code}.docx"
        write_docx(report, path)
        docx = path.read_bytes()
    day = local_date(now)
    digest = OutgoingMessage(
        text=build_digest_text(report),
        attachments=(
            Attachment(f"bao-cao-{plan_code}-{day:%Y%m%d}.docx", docx),
            Attachment(
                f"tien-do-{plan_code}-{day:%Y%m%d}.png", completion_chart_png(report), "photo"
            ),
        ),
    )
    warning = quota_warning(session, channel="zalo", quota=zalo_quota, now=now)
    return [OutgoingMessage(text=warning), digest] if warning else [digest]
