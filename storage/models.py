"""SQLModel tables: the database is dondoc's single source of truth."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint, false, text, true
from sqlmodel import Field, SQLModel

from storage.enums import (
    AssignmentRole,
    DraftState,
    MessageKind,
    OutboxState,
    ReportStatus,
    Role,
    stored_as_text,
)

# Datetimes are timezone-aware and stored in UTC; dates (due dates) are local calendar days.


class Unit(SQLModel, table=True):
    """An office, commune, school or committee; lives longer than any plan."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=32)
    name: str
    parent_code: str | None = Field(default=None, index=True, max_length=32)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    # What the unit's documents print (reports/letterhead.py): the ký hiệu in document numbers
    # (PGDĐT), the signer's title (TRƯỞNG PHÒNG), and whether it is a Party body.
    abbreviation: str | None = Field(default=None, max_length=32)
    signer: str | None = Field(default=None, max_length=120)
    party: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # A retired unit gets no reminder; its open work went to `merged_into` (plans/units_import.py).
    merged_into: str | None = Field(default=None, max_length=32)
    retired_on: date | None = Field(default=None, index=True)  # the tick's retirement notices


class UnitGroup(SQLModel, table=True):
    """A named set of units ("các trường học", "UBND các xã, thị trấn")."""

    __tablename__ = "unit_group"

    code: str = Field(primary_key=True, max_length=32)
    name: str = ""
    aliases: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'"))
    )


class GroupMember(SQLModel, table=True):
    """Membership of a unit in a group."""

    __tablename__ = "group_member"

    group_code: str = Field(primary_key=True, max_length=32)
    unit_id: int = Field(primary_key=True, foreign_key="unit.id")


class Plan(SQLModel, table=True):
    """An imported plan ("Kế hoạch")."""

    __tablename__ = "plan"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    number: str | None = None
    title: str
    issuer: str | None = None
    issued: date
    coordinator_code: str = Field(max_length=32)
    reminders: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str | None = None
    imported_at: datetime
    horizon: date | None = None  # recurring occurrences are expanded up to this day
    # False while a new plan is written in batches (plans/importer.py): nothing shows it yet.
    visible: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    until: date | None = None  # the plan's end: recurring deadlines stop there
    implements: str | None = None  # the number of the plan or resolution it carries out
    issued_note: str | None = None  # where an issue date the document does not print came from


class Task(SQLModel, table=True):
    """One task of a plan, with its deadline text as written."""

    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    key: str = Field(max_length=40)
    position: int = 0
    title: str
    owner_code: str = Field(max_length=32)
    partners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    due_text: str
    due_kind: str = Field(max_length=16)
    active: bool = True
    # Every lead unit or group as the file writes it (`owner_code` is the first).
    owners: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'"))
    )
    # Organisations outside the directory: shown, never reminded.
    external_partners: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'"))
    )
    partners_report: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    request: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # A date a coordinator gave an undated task (`due_text` holds it); a re-import keeps it
    # until the file gives a date of its own.
    due_override: str | None = None


class Assignment(SQLModel, table=True):
    """A task owned by one unit: every school reports for itself."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("task_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    active: bool = True
    role: AssignmentRole = Field(
        default=AssignmentRole.OWNER,
        sa_type=stored_as_text(AssignmentRole),
        sa_column_kwargs={"server_default": AssignmentRole.OWNER.value},
    )
    # Periods due before this day are not this unit's: it joined a group, or took over a
    # retired unit's work, after the plan was imported (plans/units_import.py, plans/expansion.py).
    starts_on: date | None = None
    # The day it stopped because its unit left the group or retired: what it did still counts.
    ended_on: date | None = None


class Occurrence(SQLModel, table=True):
    """One due date of an assignment (recurring tasks have one row per period)."""

    __tablename__ = "occurrence"
    __table_args__ = (
        UniqueConstraint("assignment_id", "period"),
        Index("ix_occurrence_status_due", "status", "due_date"),
        # An assignment's current period is one index seek (the weekly digest, reports/digest.py).
        Index("ix_occurrence_assignment_due", "assignment_id", "due_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    period: str = Field(max_length=16)  # ISO due date, or "ongoing" / "on_request" / "undated"
    due_date: date | None = None
    # The status of the newest report (handlers/reporting.py keeps it in step).
    status: ReportStatus = Field(default=ReportStatus.NONE, sa_type=stored_as_text(ReportStatus))
    percent: int | None = None
    reported_at: datetime | None = None
    done_at: datetime | None = None
    confirmed_at: datetime | None = None
    active: bool = True
    # The next reminder step not yet planned; the tick scans only rows whose time has come.
    next_reminder_at: datetime | None = Field(default=None, index=True)
    # Tracked from/until these local days (reports at earlier/later dates leave it out): a unit
    # that joined later, or one that left its group or retired, keeps the history it had.
    since: date | None = None
    until: date | None = None
    # The retired unit whose open work this occurrence took over ("tiếp nhận từ …").
    taken_from_id: int | None = Field(default=None, foreign_key="unit.id")


class Contact(SQLModel, table=True):
    """A registered chat: a unit's contact, a head or a coordinator."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "unit_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)  # telegram | zalo | console
    chat_id: str = Field(index=True, max_length=64)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: Role = Field(sa_type=stored_as_text(Role))
    display_name: str = ""
    reachable: bool = True
    created_at: datetime


class Invite(SQLModel, table=True):
    """A single-use registration code, stored only as a hash."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, index=True, max_length=64)
    unit_id: int = Field(foreign_key="unit.id")
    role: Role = Field(sa_type=stored_as_text(Role))
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, foreign_key="contact.id")


class Report(SQLModel, table=True):
    """A contact's reply on an occurrence (not the consolidated report); the newest one stands."""

    __tablename__ = "report"

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrence.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    status: ReportStatus = Field(sa_type=stored_as_text(ReportStatus))
    percent: int | None = None
    note: str = ""
    evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    confirmed_at: datetime | None = None
    confirmed_by: int | None = Field(default=None, foreign_key="contact.id")
    returned_at: datetime | None = None
    return_reason: str | None = None


class Closing(SQLModel, table=True):
    """A coordinator closed an overdue occurrence that will never be reported
    (handlers/closing.py): no more reminders, and reports from that day footnote it instead."""

    __tablename__ = "closing"

    occurrence_id: int = Field(primary_key=True, foreign_key="occurrence.id")
    contact_id: int = Field(foreign_key="contact.id")  # the coordinator who closed it
    closed_at: datetime
    reason: str


class Outbox(SQLModel, table=True):
    """A planned outgoing message; `key` makes planning idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=160)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    occurrence_id: int | None = Field(default=None, foreign_key="occurrence.id", index=True)
    kind: MessageKind = Field(sa_type=stored_as_text(MessageKind))
    step: str = Field(default="", max_length=32)
    planned_for: datetime
    status: OutboxState = Field(default=OutboxState.PENDING, sa_type=stored_as_text(OutboxState))
    attempts: int = 0
    next_attempt_at: datetime
    claimed_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=96)
    # A 'sending' row whose lease ran out belongs to a dead worker (scheduler/dispatcher.py).
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    platform_message_id: str | None = Field(default=None, max_length=64)
    text: str | None = None  # pre-rendered text for notices and digests
    last_error: str | None = None


class OutboxFile(SQLModel, table=True):
    """A file sent with an outbox message (the digest's report and chart), built when planned."""

    __tablename__ = "outbox_file"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    filename: str = Field(max_length=160)
    kind: str = Field(default="document", max_length=16)  # document | photo
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class MessageRef(SQLModel, table=True):
    """A short code standing for one task of a sent reminder (button data, Zalo "A7K 1")."""

    __tablename__ = "message_ref"
    __table_args__ = (UniqueConstraint("contact_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=8)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    occurrence_id: int = Field(foreign_key="occurrence.id", index=True)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    created_at: datetime


class Inbound(SQLModel, table=True):
    """Every received update, stored before it is handled (deduplication)."""

    __tablename__ = "inbound"
    __table_args__ = (
        UniqueConstraint("channel", "update_key"),
        # Only the rows still to handle (bot/channels/inbox.py resumes them), whatever the history.
        Index(
            "ix_inbound_unhandled",
            "channel",
            "id",
            sqlite_where=text("handled_at IS NULL"),
            postgresql_where=text("handled_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    update_key: str = Field(max_length=96)
    chat_id: str = Field(default="", max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime
    handled_at: datetime | None = None


class ChatState(SQLModel, table=True):
    """A conversation step that must survive a restart (e.g. waiting for a note)."""

    __tablename__ = "chat_state"

    channel: str = Field(primary_key=True, max_length=16)
    chat_id: str = Field(primary_key=True, max_length=64)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class PlanDraft(SQLModel, table=True):
    """A plan draft a coordinator sent in chat, kept until imported, replaced or cancelled."""

    __tablename__ = "plan_draft"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    filename: str = Field(max_length=255)  # the draft file's name, as the chat receives it
    text: str  # the YAML, as `dondoc plan draft` writes it or as the coordinator corrected it
    doubts: int  # `# KIỂM TRA:` lines left: the import is refused while any remain
    state: DraftState = Field(sa_type=stored_as_text(DraftState))
    created_at: datetime
    updated_at: datetime


class SentCounter(SQLModel, table=True):
    """Messages sent per channel per month (quota watching)."""

    __tablename__ = "sent_counter"

    channel: str = Field(primary_key=True, max_length=16)
    month: str = Field(primary_key=True, max_length=7)  # YYYY-MM
    count: int = 0


class TaskIndicator(SQLModel, table=True):
    """A figure a task asks each owner unit for (plans/indicator_specs.py), as its file says."""

    __tablename__ = "task_indicator"
    __table_args__ = (UniqueConstraint("task_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    position: int = 0
    code: str = Field(max_length=16)
    name: str
    kind: str = Field(max_length=16)  # plans/indicators.py: IndicatorKind
    combine: str = Field(max_length=16)  # plans/indicators.py: Combine
    measure: str = Field(default="", max_length=40)  # unit of measure: "phòng", "%"
    target: str | None = None  # as the plan writes it; parsed again when read
    target_unit: str | None = None
    active: bool = True  # False once a re-import drops it: its values stay


class IndicatorValue(SQLModel, table=True):
    """One value a contact gave on an occurrence; the newest per indicator is the current one."""

    __tablename__ = "indicator_value"
    __table_args__ = (Index("ix_indicator_value_occurrence", "occurrence_id", "indicator_id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrence.id")
    indicator_id: int = Field(foreign_key="task_indicator.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    kind: str = Field(max_length=16)  # the indicator's kind when given
    # Decimals as text: exact on both engines ("1234.5"); `whole` is a ratio's total.
    number: str | None = Field(default=None, max_length=48)
    whole: str | None = Field(default=None, max_length=48)
    text: str | None = None
    created_at: datetime
