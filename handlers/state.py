"""Conversation steps kept in the database, so a pending note survives a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from storage.db import table_of
from storage.models import ChatState

# How long a step waits for its answer (bot/settings.py: DONDOC_PENDING_MINUTES): after that,
# what the chat sends is read as fresh text, not as the note or reason asked for long ago.
PENDING_TTL = timedelta(minutes=30)
STATE = table_of(ChatState)
CLEAR = delete(STATE).where(
    STATE.c.channel == bindparam("channel"), STATE.c.chat_id == bindparam("chat_id")
)
WITHOUT_STEP = "dondoc_chats_without_step"  # Session.info: (transaction, {(channel, chat id)})
# A typed «xacnhan ok 2» means the 2nd line of the list this chat was last shown, not whatever is
# 2nd by then: the ids a list showed are kept in the chat's state for this long.
LIST_TTL = timedelta(days=1)


def known_without_step(session: Session, channel: str, chat_id: str) -> None:
    """Note that this transaction has read that the chat has no pending step."""
    session.connection()  # the session's transaction begun: the fact is kept for it
    transaction, chats = session.info.get(WITHOUT_STEP, (None, set()))
    if transaction is not session.get_transaction():  # a fact of an earlier transaction
        transaction, chats = session.get_transaction(), set()
        session.info[WITHOUT_STEP] = (transaction, chats)
    chats.add((channel, chat_id))


def _without_step(session: Session, channel: str, chat_id: str) -> bool:
    """Whether this transaction has read already that the chat has no pending step."""
    transaction, chats = session.info.get(WITHOUT_STEP, (None, set()))
    return transaction is session.get_transaction() and (channel, chat_id) in chats


def get_state(
    session: Session, channel: str, chat_id: str, *, now: datetime, ttl: timedelta
) -> dict[str, Any]:
    """The chat's pending step, or an empty dict when there is none or it is older than `ttl`."""
    row = session.get(ChatState, (channel, chat_id))
    if row is None or row.updated_at + ttl <= now:
        return {}
    return dict(row.state)


def set_state(
    session: Session, channel: str, chat_id: str, state: dict[str, Any], *, now: datetime
) -> None:
    """Remember the chat's pending step."""
    _, chats = session.info.get(WITHOUT_STEP, (None, set()))
    chats.discard((channel, chat_id))
    row = session.get(ChatState, (channel, chat_id))
    if row is None:
        row = ChatState(channel=channel, chat_id=chat_id, state=state, updated_at=now)
    else:
        row.state = state
        row.updated_at = now
    session.add(row)


def clear_state(session: Session, channel: str, chat_id: str) -> None:
    """Forget the chat's pending step."""
    loaded = session.identity_map.get(identity_key(ChatState, (channel, chat_id)))
    if loaded is None and _without_step(session, channel, chat_id):
        return  # nothing to clear, as read in this transaction (handlers/reporting.py)
    if loaded is not None:
        session.delete(loaded)  # keeps the session's copy in step
    else:  # one statement, nothing loaded (every coded reply comes through here)
        session.connection().execute(CLEAR, {"channel": channel, "chat_id": chat_id})


def remember_list(
    session: Session, channel: str, chat_id: str, name: str, shown: list[int], *, now: datetime
) -> None:
    """Keep the ids a list showed this chat, in order, so typed positions name them."""
    set_state(session, channel, chat_id, {"step": name, name: shown}, now=now)


def shown_list(
    session: Session, channel: str, chat_id: str, name: str, *, now: datetime
) -> list[int]:
    """The ids the chat's last list `name` showed (empty once it is older than LIST_TTL)."""
    state = get_state(session, channel, chat_id, now=now, ttl=LIST_TTL)
    return [int(i) for i in state.get(name, [])]


def listed(
    session: Session, channel: str, chat_id: str, name: str, position: int, *, now: datetime
) -> int | None:
    """The id at a 1-based position of the chat's last list `name`, if there is one."""
    shown = shown_list(session, channel, chat_id, name, now=now)
    return shown[position - 1] if 1 <= position <= len(shown) else None
