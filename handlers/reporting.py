"""Where a contact's reply is written (status, note, evidence), the occurrence's summary in step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import bindparam, case, exists, insert, update
from sqlalchemy.engine import Connection
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
# Either summary, for writes held back and run together (`ReportWrites`): one statement keeps
# their order when one occurrence is reported twice.
SUMMARY_EITHER = SUMMARY.values(
    next_reminder_at=case((bindparam("s_done"), None), else_=OCCURRENCE.c.next_reminder_at)
)
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
def _items_with_indicators() -> Any:
    """Message references with their context and whether the task has indicators (built once)."""
    indicators = exists().where(
        col(TaskIndicator.task_id) == col(Task.id), col(TaskIndicator.active)
    )
    return _ref_items().add_columns(indicators.label("has_indicators"))


@cache
def _item_by_code() -> Any:
    """The statement behind `item_by_code`, built once (every coded reply runs it).

    It also tells whether the task has indicators and whether the chat has a pending step:
    the coded reply reads the one and clears the other next, and this way neither costs a
    statement of its own when there is none (most replies).
    """
    step = exists().where(
        col(ChatState.channel) == bindparam("channel"),
        col(ChatState.chat_id) == bindparam("chat_id"),
    )
    return (
        _items_with_indicators()
        .add_columns(step.label("has_step"))
        .where(MessageRef.contact_id == bindparam("contact"), MessageRef.code == bindparam("code"))
    )


@cache
def _items_by_codes() -> Any:
    """The statement behind `items_by_codes`, built once (every group of replies runs it)."""
    return _items_with_indicators().where(
        col(MessageRef.contact_id).in_(bindparam("contacts", expanding=True)),
        col(MessageRef.code).in_(bindparam("codes", expanding=True)),
    )


def items_by_codes(
    session: Session, wanted: set[tuple[int, str]]
) -> dict[tuple[int, str], OpenItem]:
    """The occurrences behind (contact id, code) pairs, open or not, read in one statement."""
    if not wanted:
        return {}
    values = {
        "contacts": sorted({contact for contact, _ in wanted}),
        "codes": sorted({code.upper() for _, code in wanted}),
    }
    found: dict[tuple[int, str], OpenItem] = {}
    for ref, occurrence, task, unit, has_indicators in session.execute(_items_by_codes(), values):
        key = (ref.contact_id, ref.code)
        if key in wanted:
            found[key] = OpenItem(ref, occurrence, task, unit, bool(has_indicators))
    return found


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


@dataclass
class ReportWrites:
    """Reports and their summaries held back, then written together in two statements."""

    reports: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)

    def write(self, connection: Connection) -> None:
        """Write what is held, in the order it was recorded."""
        if not self.reports:
            return
        reports, summaries = self.reports, self.summaries
        self.reports, self.summaries = [], []
        if len(reports) == 1 and connection.dialect.name == "postgresql":  # one round trip
            (summary,) = summaries
            statement = REPORT_WITH_SUMMARY[summary.pop("s_done")]
            connection.execute(statement, {**reports[0], **summary})
            return
        connection.execute(INSERT_REPORT, reports)
        connection.execute(SUMMARY_EITHER, summaries)


class ReadAhead(Protocol):
    """What a group of replies read before it was handled (handlers/group_reads.py)."""

    writes: ReportWrites  # the reports held to be written with the group's

    def knows(self, contact: Contact, code: str) -> bool:
        """Whether the contact's occurrence behind `code` was read ahead and still stands."""
        ...

    def item(self, session: Session, contact: Contact, code: str) -> OpenItem | None:
        """The occurrence behind `code` as read ahead (None: no such code)."""
        ...


@dataclass(frozen=True)
class Recorded:
    """A report as it was stored."""

    id: int | None  # None: held back in `ReportWrites`, written with its group
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
    later: ReportWrites | None = None,
) -> Recorded:
    """Store a report (a correction is a new report) and update the occurrence's summary.

    `owner_unit_id` is the occurrence's unit when the caller loaded it already. With `later`,
    the writes are held there (the caller writes them before anything else reads the database).
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
    if later is not None:
        later.reports.append(values)
        later.summaries.append({**written, "s_done": done})
        key = None
    elif (connection := session.connection()).dialect.name == "postgresql":
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
