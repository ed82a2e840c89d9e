"""Where a contact's reply is written (status, note, evidence), the occurrence's summary in step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from handlers.errors import AlreadyConfirmedError, NotYourUnitError, RetiredOccurrenceError
from storage.db import table_of
from storage.enums import ReportStatus, Role
from storage.models import Assignment, Contact, MessageRef, Occurrence, Report, Task, Unit
from storage.queries import with_occurrence_context

# What a reply may say (NONE is only an occurrence's summary before any reply).
REPLY_STATUSES = (ReportStatus.DONE, ReportStatus.IN_PROGRESS, ReportStatus.BLOCKED)
NOTE_LIMIT = 2000
OCCURRENCE = table_of(Occurrence)
INSERT_REPORT = insert(table_of(Report))
SUMMARY = (
    update(OCCURRENCE)
    .where(OCCURRENCE.c.id == bindparam("occurrence"))
    .values(
        status=bindparam("status"),
        percent=bindparam("percent"),
        reported_at=bindparam("reported_at"),
        done_at=bindparam("done_at"),
    )
)
SUMMARY_DONE = SUMMARY.values(next_reminder_at=None)


@dataclass(frozen=True)
class OpenItem:
    """An occurrence a contact can report on, with the names to show."""

    ref: MessageRef
    occurrence: Occurrence
    task: Task
    unit: Unit


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
    """The statement behind `item_by_code`, built once (every coded reply runs it)."""
    return _ref_items().where(
        MessageRef.contact_id == bindparam("contact"), MessageRef.code == bindparam("code")
    )


def item_by_code(session: Session, contact: Contact, code: str) -> OpenItem | None:
    """The contact's occurrence behind a short code, open or not."""
    row = session.execute(_item_by_code(), {"contact": contact.id, "code": code.upper()}).first()
    return OpenItem(*row) if row else None


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
    # A Core insert: replies are the hot path, and building an ORM object costs more here than
    # the statement itself. The caller gets the stored values back.
    key = session.connection().execute(INSERT_REPORT, values).inserted_primary_key
    assert key is not None  # a single-row insert always has one
    report = Recorded(id=key[0], **values)
    summary: dict[str, Any] = {
        "status": status,
        "percent": percent,
        "reported_at": now,
        "done_at": now if done else None,
    }
    # One Core statement as well, and the loaded occurrence kept in step without a flush.
    session.connection().execute(
        SUMMARY_DONE if done else SUMMARY, {**summary, "occurrence": occurrence.id}
    )
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
