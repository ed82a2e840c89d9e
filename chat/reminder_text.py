"""Compose reminder messages (one per contact per moment, several tasks combined)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TypeVar

from chat.buttons import status_buttons
from chat.messages import Capabilities, OutgoingMessage
from chat.templates import parts, render
from storage.enums import ReportStatus

TITLE_LIMIT = 300
T = TypeVar("T")


@dataclass(frozen=True)
class ReminderItem:
    """One task of a reminder, as the contact will read it."""

    code: str
    plan_label: str
    task_key: str
    task_title: str
    unit_name: str
    due_date: date | None
    due_kind: str
    escalation: bool = False
    status: ReportStatus = ReportStatus.NONE
    percent: int | None = None
    partners: tuple[str, ...] = ()  # the units that take part ("phối hợp"), named for the lead

    def due_line(self, today: date) -> str:
        """The due line the contact reads («Hạn: 30/11/2026 (còn 7 ngày)»), worded by _due.j2."""
        return _due_line(self.due_date, today)

    @property
    def short_title(self) -> str:
        """The task title cut to a readable length."""
        if len(self.task_title) <= TITLE_LIMIT:
            return self.task_title
        return self.task_title[: TITLE_LIMIT - 1].rstrip() + "…"


@lru_cache(maxsize=1024)  # every reminder of a moment shares a few due dates and one day
def _due_line(due_date: date | None, today: date) -> str:
    """The due line of a reminder, rendered once per due date and day."""
    return str(parts("_due.j2").due_line(due_date, today))


def reminder_messages(
    capabilities: Capabilities, entries: Sequence[tuple[T, ReminderItem]], today: date
) -> list[tuple[OutgoingMessage, list[T]]]:
    """Render one contact's reminders, a few tasks a message; each with the keys it covers."""
    size = capabilities.items_per_message
    chunks = [entries[i : i + size] for i in range(0, len(entries), size)]
    return [
        (_message(capabilities.html, [item for _, item in chunk], today), [k for k, _ in chunk])
        for chunk in chunks
    ]


def _message(html: bool, items: list[ReminderItem], today: date) -> OutgoingMessage:
    """One message for up to a chunk of items."""
    template = "reminder.html.j2" if html else "reminder.txt.j2"
    reportable = any(not item.escalation for item in items)  # a head's copy asks for nothing
    text = render(template, items=items, today=today, reportable=reportable).strip()
    if not html:
        return OutgoingMessage(text=text)
    rows = tuple(
        status_buttons(item.code, with_labels=len(items) == 1)
        for item in items
        if not item.escalation  # a head reads the copy; only the unit's contact reports
    )
    return OutgoingMessage(text=text, buttons=rows)
