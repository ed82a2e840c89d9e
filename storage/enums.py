"""The words stored in status, kind and role columns: one StrEnum each (equal to its text)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


class ReportStatus(StrEnum):
    """What a contact's reply says of an occurrence; NONE only in an occurrence's summary."""

    NONE = "none"
    DONE = "done"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"


class OutboxState(StrEnum):
    """Where an outbox row is on its way out (scheduler/dispatcher.py moves it on)."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker under a lease (scheduler/lease.py)
    SENT = "sent"
    SKIPPED = "skipped"
    DEAD = "dead"


class MessageKind(StrEnum):
    """What an outbox row carries."""

    REMINDER = "reminder"
    ESCALATION = "escalation"  # a head's copy of an overdue reminder
    CHECKIN = "checkin"  # the monthly question on an ongoing task
    NOTICE = "notice"
    DIGEST = "digest"


class Role(StrEnum):
    """What a registered chat does for its unit."""

    CONTACT = "contact"
    HEAD = "head"
    COORDINATOR = "coordinator"


class AssignmentRole(StrEnum):
    """How a unit takes part in a task: it leads ("chủ trì") or it helps ("phối hợp")."""

    OWNER = "owner"
    PARTNER = "partner"


class DraftState(StrEnum):
    """Where a plan draft sent in chat stands (handlers/plan_intake.py)."""

    PENDING = "pending"  # shown with its buttons, waiting for the coordinator
    IMPORTING = "importing"  # "Nhập kế hoạch" pressed: the import runs once the tap is committed
    IMPORTED = "imported"
    CANCELLED = "cancelled"
    REPLACED = "replaced"  # a newer file from the same chat took its place


def stored_as_text(enum: type[StrEnum], length: int = 16) -> Enum:
    """A VARCHAR column holding the enum's values, read back as members (no CHECK, no DB type)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )
