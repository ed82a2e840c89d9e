"""Record a contact's status report on an occurrence, and keep the occurrence's summary in step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from storage.models import Assignment, Contact, MessageRef, Occurrence, Report, Task, Unit
from storage.queries import with_occurrence_context

STATUSES = ("done", "in_progress", "blocked")
STATUS_LABELS = {
    "done": "Đã hoàn thành",
    "in_progress": "Đang thực hiện",
    "blocked": "Gặp khó khăn",
}
NOTE_LIMIT = 2000
OCCURRENCE = Occurrence.__table__  # type: ignore[attr-defined]
INSERT_REPORT = insert(Report.__table__)  # type: ignore[attr-defined]
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


class ReportRefused(Exception):
    """A report that may not be recorded (confirmed already, not the caller's unit)."""


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
            Occurrence, Occurrence.id == MessageRef.occurrence_id
        )
    )


def open_items(session: Session, contact: Contact, *, limit: int = 50) -> list[OpenItem]:
    """The contact's referenced occurrences not yet done, newest reminder first."""
    rows = session.exec(
        _ref_items()
        .where(
            MessageRef.contact_id == contact.id,
            Occurrence.active,
            Occurrence.status != "done",
            Task.active,
        )
        .order_by(MessageRef.id.desc())  # type: ignore[union-attr]
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
    status: str
    percent: int | None
    note: str
    evidence: list[str]
    created_at: datetime


def record_report(
    session: Session,
    *,
    contact: Contact,
    occurrence: Occurrence,
    status: str,
    percent: int | None,
    note: str,
    now: datetime,
    owner_unit_id: int | None = None,
) -> Recorded:
    """Store a report (a correction is a new report) and update the occurrence's summary.

    `owner_unit_id` is the occurrence's unit when the caller loaded it already.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    if owner_unit_id is None:
        assignment = session.get(Assignment, occurrence.assignment_id)
        owner_unit_id = assignment.unit_id if assignment is not None else None
    if owner_unit_id != contact.unit_id or contact.role != "contact":
        raise ReportRefused("Bạn chỉ báo cáo được cho nhiệm vụ của đơn vị mình.")
    if occurrence.confirmed_at is not None:
        raise ReportRefused("Báo cáo này đã được xác nhận, không sửa được nữa.")
    if not occurrence.active:  # retired by a re-import of its plan (plans/importer.py)
        raise ReportRefused(
            "Kỳ hạn này không còn được theo dõi vì kế hoạch đã thay đổi; "
            "hãy báo cáo theo nhắc việc mới."
        )
    if status == "done":
        percent = 100
    values = {
        "occurrence_id": occurrence.id,
        "contact_id": contact.id,
        "status": status,
        "percent": percent,
        "note": note.strip()[:NOTE_LIMIT],
        "evidence": [],
        "created_at": now,
    }
    # A Core insert: replies are the hot path, and building an ORM object costs more here than
    # the statement itself. The caller gets the stored values back.
    inserted = session.execute(INSERT_REPORT, values)
    report = Recorded(id=inserted.inserted_primary_key[0], **values)  # type: ignore[arg-type]
    summary: dict[str, Any] = {
        "status": status,
        "percent": percent,
        "reported_at": now,
        "done_at": now if status == "done" else None,
    }
    # One Core statement as well, and the loaded occurrence kept in step without a flush.
    session.connection().execute(
        SUMMARY_DONE if status == "done" else SUMMARY, {**summary, "occurrence": occurrence.id}
    )
    if status == "done":
        summary["next_reminder_at"] = None  # a done occurrence is never reminded again
    for name, value in summary.items():
        set_committed_value(occurrence, name, value)
    return report


def latest_report(session: Session, occurrence_id: int) -> Report | None:
    """The newest report of an occurrence."""
    return session.exec(
        select(Report).where(Report.occurrence_id == occurrence_id).order_by(Report.id.desc())  # type: ignore[union-attr]
    ).first()


def add_note(report: Report, note: str, percent: int | None) -> None:
    """Complete a report with the note asked for after a button."""
    report.note = note.strip()[:NOTE_LIMIT]
    if percent is not None and report.status != "done":
        report.percent = percent


def add_evidence(report: Report, file_ids: tuple[str, ...]) -> None:
    """Attach photos or documents to a report."""
    report.evidence = [*report.evidence, *file_ids]
