"""The weekly digest: built when it is planned, per plan, and queued ready to send.

The text and chart come from aggregate queries (reports/digest.py) read with no write lock, and
the full report is attached while the plan is small enough to be read in a chat; the rows and
their files are written in one short transaction, so the dispatcher only sends what it claims.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from chat.messages import Capabilities, to_plain
from plans.clock import local, local_date
from reports.chat_text import build_digest_text, completion_chart_png
from reports.digest import WeekSummary, week_summary
from reports.docx_writer import write_docx
from reports.figures import build_report
from scheduler.quota import quota_warning
from storage.db import read_session, session_scope
from storage.enums import MessageKind, Role
from storage.models import Contact, Outbox, OutboxFile, Plan, Unit
from storage.outbox import attach, outbox_row, queue

DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR, DIGEST_MINUTE = 7, 30
# Up to this many tracked occurrences (a district's plan: 100 units × 20 tasks is 2,000) the
# digest carries the full report, a DOCX of up to about 150 pages built in about a second;
# past it, the report is too long to read in a chat and building it would hold up the tick for
# many seconds: the digest says how to get it instead.
FULL_REPORT_ROWS = 5_000


@dataclass(frozen=True)
class Recipient:
    """A coordinator who gets a plan's digest this week."""

    contact_id: int
    channel: str


@dataclass(frozen=True)
class Files:
    """The digest's files, built once per plan."""

    chart: tuple[str, bytes]
    report: tuple[str, bytes] | None  # None: the plan is too large to attach its report


def digest_due(now: datetime) -> bool:
    """Whether this week's digest time (Monday 07:30 local) has come."""
    moment = local(now)
    monday_morning = (moment.hour, moment.minute) < (DIGEST_HOUR, DIGEST_MINUTE)
    return not (moment.weekday() == DIGEST_WEEKDAY and monday_morning)


def week_key(now: datetime) -> str:
    """The ISO week of `now`, local time: 2026-W49."""
    week = local_date(now).isocalendar()
    return f"{week.year}-W{week.week:02d}"


def plan_digests(
    engine: Engine,
    *,
    now: datetime,
    capabilities: Callable[[str], Capabilities],
    channels: Collection[str],
    quotas: Mapping[str, int] | None = None,
    full_report_rows: int = FULL_REPORT_ROWS,
) -> int:
    """Build and queue the week's digests not queued yet, per plan and coordinator on `channels`."""
    week = week_key(now)
    queued = 0
    for plan_code, recipients in _missing(engine, week, channels).items():
        with read_session(engine) as session:
            summary = week_summary(session, plan_code=plan_code, now=now)
            takes_files = any(capabilities(r.channel).files for r in recipients)
            with_report = takes_files and summary.tally.total <= full_report_rows
            files = _files(session, summary, now, with_report=with_report)
            warnings = _warnings(session, quotas or {}, now)
        with session_scope(engine) as session:
            queued += _queue(session, summary, files, warnings, recipients, week, now, capabilities)
    return queued


def _missing(engine: Engine, week: str, channels: Collection[str]) -> dict[str, list[Recipient]]:
    """Plan code → the coordinators whose digest of `week` is not queued yet."""
    with read_session(engine) as session:
        rows = session.execute(
            select(col(Plan.code), col(Plan.id), col(Contact.id), col(Contact.channel))
            .join(Unit, col(Unit.code) == col(Plan.coordinator_code))
            .join(Contact, col(Contact.unit_id) == col(Unit.id))
            .where(
                col(Contact.role) == Role.COORDINATOR,
                col(Contact.reachable),
                col(Plan.visible),
                col(Contact.channel).in_(list(channels)),
            )
            .order_by(col(Plan.code), col(Contact.id))
        ).all()
        keys = [_key(plan_id, week, contact_id) for _, plan_id, contact_id, _ in rows]
        queued = set(  # by the unique key: this runs every tick of the week
            session.execute(select(col(Outbox.key)).where(col(Outbox.key).in_(keys))).scalars()
        )
    missing: dict[str, list[Recipient]] = {}
    for (code, _, contact_id, channel), key in zip(rows, keys, strict=True):
        if key not in queued:
            missing.setdefault(code, []).append(Recipient(contact_id, channel))
    return missing


def _files(session: Session, summary: WeekSummary, now: datetime, *, with_report: bool) -> Files:
    """The chart, and the full report as DOCX when it goes with the digest."""
    day = local_date(now)
    code = summary.plan.code
    chart = (f"tien-do-{code}-{day:%Y%m%d}.png", completion_chart_png(summary.tally))
    if not with_report:
        return Files(chart, None)
    report = build_report(session, plan_code=code, at=day, now=now)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"bao-cao-{code}.docx"
        write_docx(report, path)
        return Files(chart, (f"bao-cao-{code}-{day:%Y%m%d}.docx", path.read_bytes()))


def _warnings(session: Session, quotas: Mapping[str, int], now: datetime) -> list[tuple[str, str]]:
    """(channel, warning) for each channel whose monthly quota is 80 % used."""
    found = [(c, quota_warning(session, channel=c, quota=q, now=now)) for c, q in quotas.items()]
    return [(channel, text) for channel, text in found if text]


def _queue(
    session: Session,
    summary: WeekSummary,
    files: Files,
    warnings: list[tuple[str, str]],
    recipients: list[Recipient],
    week: str,
    now: datetime,
    capabilities: Callable[[str], Capabilities],
) -> int:
    """Queue each recipient's quota warnings, then digest, and store the digest's files with it."""
    rows: list[dict[str, Any]] = []
    for recipient in recipients:
        shows = capabilities(recipient.channel)
        for channel, warning in warnings:
            rows.append(
                outbox_row(
                    key=f"quota:{channel}:{week}:{recipient.contact_id}",
                    contact_id=recipient.contact_id,
                    kind=MessageKind.NOTICE,
                    step=f"quota-{week}",
                    now=now,
                    text=warning if shows.html else to_plain(warning),
                )
            )
        rows.append(
            outbox_row(
                key=_key(summary.plan.id, week, recipient.contact_id),
                contact_id=recipient.contact_id,
                kind=MessageKind.DIGEST,
                step=f"digest-{week}",
                now=now,
                text=_text(summary, shows, attached=shows.files and files.report is not None),
            )
        )
    queued = queue(session, rows)
    _attach_files(session, summary, files, recipients, week, capabilities)
    return queued


def _attach_files(
    session: Session,
    summary: WeekSummary,
    files: Files,
    recipients: list[Recipient],
    week: str,
    capabilities: Callable[[str], Capabilities],
) -> None:
    """Store the files with the digest rows that have none yet (a rival tick's rows have them)."""
    takes_files = {r.contact_id: capabilities(r.channel).files for r in recipients}
    keys = {_key(summary.plan.id, week, contact): contact for contact in takes_files}
    bare = session.execute(
        select(col(Outbox.id), col(Outbox.key)).where(
            col(Outbox.key).in_(list(keys)),
            ~select(col(OutboxFile.id)).where(col(OutboxFile.outbox_id) == col(Outbox.id)).exists(),
        )
    ).all()
    stored = []
    for row_id, key in bare:
        named = [files.report] if files.report and takes_files[keys[key]] else []
        stored += [_file(row_id, name, content, "document") for name, content in named]
        stored.append(_file(row_id, *files.chart, "photo"))  # the chart goes last
    attach(session, stored)


def _text(summary: WeekSummary, shows: Capabilities, *, attached: bool) -> str:
    """The digest's text for a channel: HTML or plain, within its message limit."""
    text = build_digest_text(summary, attached=attached, limit=shows.text_limit)
    return text if shows.html else to_plain(text)


def _file(row_id: int, filename: str, content: bytes, kind: str) -> dict[str, Any]:
    """An outbox_file row."""
    return {"outbox_id": row_id, "filename": filename, "kind": kind, "content": content}


def _key(plan_id: int, week: str, contact_id: int) -> str:
    """The digest row's key: one per plan, week and coordinator."""
    return f"digest:{plan_id}:{week}:{contact_id}"
