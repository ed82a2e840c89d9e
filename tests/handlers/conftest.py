"""A registered principal with an open reminder, for conversation tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.conversation import handle_incoming
from handlers.state import PENDING_TTL
from handlers.types import Incoming, Outcome
from storage.db import session_scope
from storage.models import Assignment, Contact, MessageRef, Occurrence, Outbox, Task
from storage.queries import ensure_ref_code
from tests.utils.clock import local_time
from tests.utils.senders import shows
from tests.utils.world import World, build_world

NOW = local_time("2026-11-23 10:00")
UPDATE_IDS = itertools.count(1)


@dataclass
class Chat:
    """Sends messages into the conversation as one chat and keeps the answers."""

    engine: Engine
    chat_id: str
    channel: str = "telegram"
    counter: int = 0
    pending_ttl: timedelta = PENDING_TTL

    def send(
        self,
        text: str = "",
        *,
        button: str | None = None,
        files: tuple[str, ...] = (),
        reply_to: str | None = None,
        at: datetime = NOW,
    ) -> Outcome:
        """One update from this chat (a reply to bot message `reply_to`, at moment `at`)."""
        self.counter += 1
        incoming = Incoming(
            channel=self.channel,
            chat_id=self.chat_id,
            update_key=f"{self.chat_id}-{self.counter}-{next(UPDATE_IDS)}",
            user_name="Người dùng",
            text=text,
            button_data=button,
            reply_to=reply_to,
            attachments=files,
            capabilities=shows(self.channel),
        )
        return handle_incoming(self.engine, incoming, now=at, pending_ttl=self.pending_ttl)


@dataclass
class Scene:
    """A world with two tasks referenced to the first school's contact."""

    world: World
    principal: Chat
    head: Chat
    coordinator: Chat
    codes: dict[str, str]  # task key -> short code


@pytest.fixture
def scene(engine: Engine, tmp_path: Path) -> Scene:
    """Two open tasks for THCS_0001, each with a short code as a reminder would give."""
    world = build_world(
        engine,
        tmp_path,
        now=local_time("2026-11-02 09:00"),
        schools=2,
        tasks=[("A", "TRUONG", "30/11/2026"), ("B", "TRUONG", "26/11/2026")],
    )
    codes: dict[str, str] = {}
    with Session(engine) as session:
        contact = session.exec(
            select(Contact).where(Contact.chat_id == world.school_chats["THCS_0001"])
        ).one()
        rows = session.exec(
            select(Occurrence, Task)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .join(Task, Task.id == Assignment.task_id)
            .where(Assignment.unit_id == contact.unit_id)
            .order_by(Task.key)
        ).all()
        for occurrence, task in rows:
            codes[task.key] = ensure_ref_code(
                session=session,
                contact_id=contact.id,  # type: ignore[arg-type]
                occurrence_id=occurrence.id,  # type: ignore[arg-type]
                now=NOW,
            )
        session.commit()
    return Scene(
        world,
        Chat(engine, world.school_chats["THCS_0001"]),
        Chat(engine, world.head_chat),
        Chat(engine, world.coordinator_chat),
        codes,
    )


def sent_reminder(engine: Engine, chat_id: str, code: str, message_id: str) -> None:
    """Record that the reminder of `code` went to the chat as platform message `message_id`."""
    with session_scope(engine) as session:
        contact_id, occurrence_id = session.exec(
            select(MessageRef.contact_id, MessageRef.occurrence_id)
            .join(Contact, Contact.id == MessageRef.contact_id)
            .where(Contact.chat_id == chat_id, MessageRef.code == code)
        ).one()
        session.add(
            Outbox(
                key=f"test-reminder:{message_id}",
                contact_id=contact_id,
                occurrence_id=occurrence_id,
                kind="reminder",
                step="due",
                planned_for=NOW,
                status="sent",
                next_attempt_at=NOW,
                sent_at=NOW,
                platform_message_id=message_id,
            )
        )
