"""Claimed outbox rows into the messages to send: read in the claim, rendered after it.

`read_claimed` runs inside the claim's transaction and only reads (and gives out short codes);
`render_jobs` renders templates with no transaction open, for each channel's capabilities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from chat.messages import Attachment, Capabilities, OutgoingMessage
from chat.reminder_text import ReminderItem, reminder_messages
from storage.enums import MessageKind, OutboxState
from storage.models import Contact
from storage.outbox import files_of, reminder_details, set_status
from storage.queries import ensure_ref_codes, names_by_code

REMINDER_KINDS = (MessageKind.REMINDER, MessageKind.CHECKIN, MessageKind.ESCALATION)


@dataclass(frozen=True)
class Job:
    """One contact's claimed messages: their parts, each with the rows it marks sent."""

    contact: Contact
    parts: list[tuple[OutgoingMessage, list[int]]]

    @property
    def row_ids(self) -> list[int]:
        """Every row of the job."""
        return [i for _, ids in self.parts for i in ids]


@dataclass
class Claimed:
    """What a claim read: the rows, and what their messages show (plain data, no session)."""

    rows: list[Row[Any]]  # id, kind, text, Contact
    details: dict[int, Row[Any]] = field(default_factory=dict)  # open reminder rows
    codes: dict[tuple[int, int], str] = field(default_factory=dict)
    files: dict[int, tuple[Attachment, ...]] = field(default_factory=dict)
    skipped: int = 0
    names: dict[str, str] = field(default_factory=dict)  # partner unit and group codes


def read_claimed(session: Session, rows: list[Row[Any]], now: datetime) -> Claimed:
    """Read what the claimed rows show; a reminder whose task is closed is skipped, not sent."""
    reminder_ids = [row.id for row in rows if row.kind in REMINDER_KINDS]
    details = reminder_details(session, reminder_ids)
    closed = [i for i, detail in details.items() if not detail.open]
    set_status(session, closed, OutboxState.SKIPPED)
    details = {i: detail for i, detail in details.items() if detail.open}
    contacts = {row.id: row.Contact.id for row in rows}
    wanted = [
        (contacts[i], detail.occurrence_id, i)
        for i, detail in details.items()
        if detail.kind != MessageKind.ESCALATION  # a head's copy carries no code to answer with
    ]
    codes = ensure_ref_codes(session=session, wanted=wanted, now=now)
    files = files_of(session, [row.id for row in rows if row.kind == MessageKind.DIGEST])
    attachments = {
        i: tuple(Attachment(f.filename, f.content, f.kind) for f in found)
        for i, found in files.items()
    }
    partners = [code for detail in details.values() for code in detail.partners]
    names = names_by_code(session=session, codes=partners)
    return Claimed(rows, details, codes, attachments, len(closed), names)


def render_jobs(
    claimed: Claimed, capabilities: Callable[[str], Capabilities], today: date
) -> list[Job]:
    """Each contact's due reminders combined (split as its channel needs); other rows as queued."""
    jobs: list[Job] = []
    reminders: dict[int, list[int]] = {}
    contacts: dict[int, Contact] = {}
    for row in claimed.rows:
        contact = row.Contact
        if row.kind not in REMINDER_KINDS:
            message = OutgoingMessage(row.text or "", attachments=claimed.files.get(row.id, ()))
            jobs.append(Job(contact, [(message, [row.id])]))
        elif row.id in claimed.details:
            contacts[contact.id] = contact
            reminders.setdefault(contact.id, []).append(row.id)
    for contact_id, row_ids in reminders.items():
        contact = contacts[contact_id]
        details = claimed.details
        row_ids.sort(key=lambda i: (details[i].due_date or date.max, details[i].position))
        entries = [(i, _item(details[i], claimed, contact_id)) for i in row_ids]
        parts = reminder_messages(capabilities(contact.channel), entries, today)
        jobs.append(Job(contact, parts))
    return jobs


def _item(row: Row[Any], claimed: Claimed, contact_id: int) -> ReminderItem:
    """One task line of a reminder."""
    escalation = row.kind == MessageKind.ESCALATION
    partners = [claimed.names.get(code, code) for code in row.partners]
    return ReminderItem(
        code="" if escalation else claimed.codes[(contact_id, row.occurrence_id)],
        plan_label=f"Kế hoạch {row.number or row.code}",
        task_key=row.key,
        task_title=row.title,
        unit_name=row.name,
        due_date=row.due_date,
        due_kind=row.due_kind,
        escalation=escalation,
        status=row.status,
        percent=row.percent,
        partners=(*partners, *row.external_partners),
    )
