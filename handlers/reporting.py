"""Where a contact's reply is written (status, note, evidence), the occurrence's summary in step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from handlers.errors import AlreadyConfirmedError, NotYourUnitError, RetiredOccurrenceError
from handlers.state import known_without_step
from storage.db import table_of
from storage.enums import ReportStatus, Role
from storage.models import (
    Assignment,
    ChatState,
    Contact,
    MessageRef,
    Occurrence,
    Report,
    Task,
    TaskIndicator,
    Unit,
)
from storage.queries import with_occurrence_context

# What a reply may say (NONE is only an occurrence's summary before any reply).
REPLY_STATUSES = (ReportStatus.DONE, ReportStatus.IN_PROGRESS, ReportStatus.BLOCKED)
NOTE_LIMIT = 2000
OCCURRENCE = table_of(Occurrence)
REPORT = table_of(Report)
INSERT_REPORT = insert(REPORT)
SUMMARY = (
    update(OCCURRENCE)
    .where(OCCURRENCE.c.id == bindparam("s_occurrence"))
    .values(
        status=bindparam("s_status"),
        percent=bindparam("s_percent"),
        reported_at=bindparam("s_reported_at"),
        done_at=bindparam("s_done_at"),
    )
)
SUMMARY_DONE = SUMMARY.values(next_reminder_at=None)
# PostgreSQL runs a data-modifying WITH even when nothing refers to it: the report and the
# occurrence's summary in one statement, one round trip (SQLite, without such a WITH, runs two).
REPORT_WITH_SUMMARY = {
    done: INSERT_REPORT.add_cte((SUMMARY_DONE if done else SUMMARY).cte("summary")).returning(
        REPORT.c.id
    )
    for done in (False, True)
}


@dataclass(frozen=True)
class OpenItem:
    """An occurrence a contact can report on, with the names to show."""

    ref: MessageRef
    occurrence: Occurrence
    task: Task
    unit: Unit
    has_indicators: bool | None = None  # None: not looked up (the indicators are read when needed)


@cache
def _ref_items() -> Any:
    """Message references with their occurrence, task and unit (built once)."""
    return with_occurrence_context(
        select(MessageRef, Occurrence, Task, Unit).join(
            Occurrence, col(Occurrence.id) == col(MessageRef.occurrence_id)
        )
    )


def open_items(session: Session, contact: Contact, *, limit: int = 50) -> list[OpenItem]:
    """The contact's referenced occurrences not yet done, newest reminder first."""
    rows = session.exec(
        _ref_items()
        .where(
            MessageRef.contact_id == contact.id,
            Occurrence.active,
            Occurrence.status != ReportStatus.DONE,
            Task.active,
        )
        .order_by(col(MessageRef.id).desc())
        .limit(limit)
    ).all()
    return [OpenItem(*row) for row in rows]


@cache
def _item_by_code() -> Any:
    """The statement behind `item_by_code`, built once (every coded reply runs it).

    It also tells whether the task has indicators and whether the chat has a pending step:
    the coded reply reads the one and clears the other next, and this way neither costs a
    statement of its own when there is none (most replies).
    """
    indicators = exists().where(
        col(TaskIndicator.task_id) == col(Task.id), col(TaskIndicator.active)
    )
    step = exists().where(
        col(ChatState.channel) == bindparam("channel"),
        col(ChatState.chat_id) == bindparam("chat_id"),
    )
    return (
        _ref_items()
        .add_columns(indicators.label("has_indicators"), step.label("has_step"))
        .where(MessageRef.contact_id == bindparam("contact"), MessageRef.code == bindparam("code"))
    )


def item_by_code(session: Session, contact: Contact, code: str) -> OpenItem | None:
    """The contact's occurrence behind a short code, open or not."""
    values = {
        "contact": contact.id,
        "code": code.upper(),
        "channel": contact.channel,
        "chat_id": contact.chat_id,
    }
    row = session.execute(_item_by_code(), values).first()
    if row is None:
        return None
    ref, occurrence, task, unit, has_indicators, has_step = row
    if not has_step:
        known_without_step(session, contact.channel, contact.chat_id)
    return OpenItem(ref, occurrence, task, unit, bool(has_indicators))


@dataclass(frozen=True)
class Recorded:
    """A report as it was stored."""

    id: int
    occurrence_id: int
    contact_id: int
    status: ReportStatus
    percent: int | None
    note: str
    evidence: list[str]
    created_at: datetime


def record_report(
    session: Session,
    *,
    contact: Contact,
    occurrence: Occurrence,
    status: ReportStatus,
    percent: int | None,
    note: str,
    now: datetime,
    owner_unit_id: int | None = None,
) -> Recorded:
    """Store a report (a correction is a new report) and update the occurrence's summary.

    `owner_unit_id` is the occurrence's unit when the caller loaded it already.
    """
    if status not in REPLY_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if owner_unit_id is None:
        assignment = session.get(Assignment, occurrence.assignment_id)
        owner_unit_id = assignment.unit_id if assignment is not None else None
    if owner_unit_id != contact.unit_id or contact.role != Role.CONTACT:
        raise NotYourUnitError()
    if occurrence.confirmed_at is not None:
        raise AlreadyConfirmedError()
    if not occurrence.active:  # retired by a re-import of its plan (plans/importer.py)
        raise RetiredOccurrenceError()
    assert occurrence.id is not None and contact.id is not None
    done = status == ReportStatus.DONE
    if done:
        percent = 100
    values: dict[str, Any] = {
        "occurrence_id": occurrence.id,
        "contact_id": contact.id,
        "status": status,
        "percent": percent,
        "note": _note(note),
        "evidence": [],
        "created_at": now,
    }
    summary: dict[str, Any] = {
        "status": status,
        "percent": percent,
        "reported_at": now,
        "done_at": now if done else None,
    }
    written = {f"s_{name}": value for name, value in summary.items()}
    written["s_occurrence"] = occurrence.id
    # Core statements: replies are the hot path, and building an ORM object costs more here
    # than the statement itself. The caller gets the stored values back; the loaded occurrence
    # is kept in step without a flush.
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        key = connection.execute(REPORT_WITH_SUMMARY[done], {**values, **written}).scalar_one()
    else:
        inserted = connection.execute(INSERT_REPORT, values).inserted_primary_key
        assert inserted is not None  # a single-row insert always has one
        key = inserted[0]
        connection.execute(SUMMARY_DONE if done else SUMMARY, written)
    report = Recorded(id=key, **values)
    if done:
        summary["next_reminder_at"] = None  # a done occurrence is never reminded again
    for name, value in summary.items():
        set_committed_value(occurrence, name, value)
    return report


def latest_report(session: Session, occurrence_id: int) -> Report | None:
    """The newest report of an occurrence."""
    return session.exec(
        select(Report).where(Report.occurrence_id == occurrence_id).order_by(col(Report.id).desc())
    ).first()


def add_note(
    session: Session, report: Report, occurrence: Occurrence, note: str, percent: int | None
) -> None:
    """Add the note asked for after a button; a percentage in it updates report and occurrence."""
    report.note = _note(note)
    if percent is not None and report.status != ReportStatus.DONE:
        report.percent = percent
        occurrence.percent = percent
        session.add(occurrence)
    session.add(report)


def add_evidence(session: Session, report: Report, file_ids: tuple[str, ...], caption: str) -> None:
    """Attach photos or documents to a report; their caption is its note when it has none."""
    report.evidence = [*report.evidence, *file_ids]
    if caption.strip() and not report.note:
        report.note = _note(caption)
    session.add(report)


def _note(text: str) -> str:
    """A note as it is stored: trimmed, and cut to NOTE_LIMIT characters."""
    return text.strip()[:NOTE_LIMIT]
