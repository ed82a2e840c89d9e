"""A group of coded replies read in two statements and written in two, not three statements each.

Principals answer reminders in waves, and nearly every update of a group is a coded reply
(«A7K 1 đã xong»): its chat's contacts, the task behind its code, the report and the summary.
Before the group is handled, one statement reads the contacts of every chat whose update reads
as a coded reply, and one the occurrences behind their codes; the replies' reports are held and
written together. The reads stand for what each update would read alone only while nothing else
has run a statement in the group's transaction: the first statement anything else runs (another
kind of update, a pending step to clear, a task's indicators) first writes what is held, and
from then on every update reads for itself (handlers/conversation.py: `handle`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import bindparam, exists
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from handlers.commands import command_of
from handlers.reply_parser import parse_coded_reply
from handlers.reporting import OpenItem, ReportWrites, items_by_codes
from handlers.state import known_without_step
from handlers.types import MAX_INCOMING_TEXT, Incoming
from storage.db import before_each_statement
from storage.enums import Role
from storage.models import ChatState, Contact

Chat = tuple[str, str]  # (channel, chat id)

# Built once: the contacts of a group's chats, and whether each chat has a pending step.
CHATS_CONTACTS = (
    select(
        Contact,
        exists()
        .where(
            col(ChatState.channel) == col(Contact.channel),
            col(ChatState.chat_id) == col(Contact.chat_id),
        )
        .label("has_step"),
    )
    .where(
        col(Contact.channel) == bindparam("channel"),
        col(Contact.chat_id).in_(bindparam("chat_ids", expanding=True)),
    )
    .order_by(col(Contact.id))
)


class GroupReads:
    """What a group's coded replies read, taken at once; held report writes, written on demand."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.writes = ReportWrites()
        self._contacts: dict[Chat, list[Contact]] = {}
        self._with_step: set[Chat] = set()
        self._items: dict[tuple[int, str], OpenItem] = {}
        self._looked_up: set[tuple[int, str]] = set()  # (contact id, code) read ahead
        self._quiet = False  # our own statements

    @contextmanager
    def watching(self, incomings: list[Incoming]) -> Iterator[GroupReads]:
        """Read ahead for `incomings`; until the end, any other statement writes what is held."""
        self._read_ahead([(i, code) for i in incomings if (code := _code_of(i)) is not None])
        with before_each_statement(self.connection, self._before_execute):
            yield self
            self._write_held()

    def contacts(self, incoming: Incoming) -> list[Contact] | None:
        """The chat's contacts as read ahead; None when they were not (or no longer stand)."""
        return self._contacts.get((incoming.channel, incoming.chat_id))

    def knows(self, contact: Contact, code: str) -> bool:
        """Whether the contact's occurrence behind `code` was read ahead and still stands."""
        chat = (contact.channel, contact.chat_id)
        return chat in self._contacts and (_id(contact), code.upper()) in self._looked_up

    def item(self, session: Session, contact: Contact, code: str) -> OpenItem | None:
        """The occurrence behind `code` as read ahead (None: no such code); see `knows`."""
        chat = (contact.channel, contact.chat_id)
        if chat not in self._with_step:  # its clear_state needs no statement
            known_without_step(session, *chat)
        return self._items.get((_id(contact), code.upper()))

    def _read_ahead(self, coded: list[tuple[Incoming, str]]) -> None:
        """The contacts of the chats and the occurrences behind the codes, in two statements."""
        if not coded:
            return
        self._quiet = True
        try:
            with Session(bind=self.connection) as session:  # closed: its objects are detached
                self._read_contacts(session, [incoming for incoming, _ in coded])
                wanted = {
                    (_id(contact), code)
                    for incoming, code in coded
                    for contact in self._contacts[(incoming.channel, incoming.chat_id)]
                    if contact.role == Role.CONTACT
                }
                self._looked_up = wanted
                self._items = items_by_codes(session, wanted)
        finally:
            self._quiet = False

    def _read_contacts(self, session: Session, incomings: list[Incoming]) -> None:
        """Every chat's contacts (none for an unregistered chat), one statement a channel."""
        for channel in dict.fromkeys(incoming.channel for incoming in incomings):
            chat_ids = sorted({i.chat_id for i in incomings if i.channel == channel})
            self._contacts.update({(channel, chat_id): [] for chat_id in chat_ids})
            rows = session.execute(CHATS_CONTACTS, {"channel": channel, "chat_ids": chat_ids})
            for contact, has_step in rows:
                chat = (channel, contact.chat_id)
                self._contacts[chat].append(contact)
                if has_step:
                    self._with_step.add(chat)

    def _before_execute(self) -> None:
        """Anything else is about to read or write: the held writes first, the reads forgotten."""
        if self._quiet:
            return
        self._contacts.clear()
        self._with_step.clear()
        self._items.clear()
        self._looked_up.clear()
        self._write_held()

    def _write_held(self) -> None:
        """Write the held reports and summaries (our own statements pass the watch)."""
        self._quiet = True
        try:
            self.writes.write(self.connection)
        finally:
            self._quiet = False


def _code_of(incoming: Incoming) -> str | None:
    """The task code of plain text that `handle` would read as a coded reply; else None."""
    text = incoming.text.strip()
    if (
        incoming.button_data is not None
        or incoming.attachments
        or incoming.documents
        or len(text) > MAX_INCOMING_TEXT
        or command_of(text)[0] is not None
    ):
        return None
    coded = parse_coded_reply(text)
    return coded[0] if coded is not None else None


def _id(contact: Contact) -> int:
    """A stored contact's id."""
    assert contact.id is not None
    return contact.id
