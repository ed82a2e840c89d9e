"""The channel-neutral conversation: each update stored once, then routed to its use-case."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from chat import buttons
from chat.buttons import ClaimAnswer, DraftAnswer, DrillDown, SkipNote, SkipValue, StatusPick
from chat.texts import message
from handlers import confirmations, indicator_answers, plan_intake, replies, status_view
from handlers.commands import COMMANDS, command_of, run_command
from handlers.group_reads import GroupReads
from handlers.registration import redeem_invite
from handlers.reply_parser import parse_coded_reply
from handlers.state import PENDING_TTL, clear_state, get_state
from handlers.types import MAX_INCOMING_TEXT, Incoming, Outcome
from storage.db import insert_ignore, session_scope
from storage.models import Contact, Inbound

__all__ = ["COMMANDS", "handle", "handle_incoming", "handle_stored", "handle_stored_group"]

logger = logging.getLogger(__name__)

START_RE = re.compile(r"^/start(?:@\w+)?(?:\s+(\S+))?\s*$", re.IGNORECASE)
DK_RE = re.compile(r"^dk\s+(\S+)\s*$", re.IGNORECASE)
# Built once: every update runs it.
CHAT_CONTACTS = select(Contact).where(
    Contact.channel == bindparam("channel"), Contact.chat_id == bindparam("chat_id")
)


def handle_incoming(
    engine: Engine,
    incoming: Incoming,
    *,
    now: datetime,
    pending_ttl: timedelta = PENDING_TTL,
    payload: dict[str, Any] | None = None,  # as the platform sent it; else the neutral fields
) -> Outcome:
    """Store the update (deduplicated) and handle it atomically: a replay is never answered."""
    with session_scope(engine) as session:
        stored = insert_ignore(
            session,
            Inbound,
            [
                {
                    "channel": incoming.channel,
                    "update_key": incoming.update_key,
                    "chat_id": incoming.chat_id,
                    "payload": _payload(incoming) if payload is None else payload,
                    "received_at": now,
                    # Stored and handled in one transaction: a failure leaves no half-recorded
                    # report behind (the error handler logs it), a success is never repeated.
                    "handled_at": now,
                }
            ],
        )
        if not stored:
            logger.info("duplicate update %s on %s ignored", incoming.update_key, incoming.channel)
            return Outcome()
        outcome = handle(session, incoming, now=now, pending_ttl=pending_ttl)
    return _followed(engine, outcome, now)


def _payload(incoming: Incoming) -> dict[str, object]:
    """What is kept of an update (bounded in size)."""
    return {
        "text": incoming.text[:MAX_INCOMING_TEXT],
        "button": incoming.button_data,
        "reply_to": incoming.reply_to,
        "attachments": list(incoming.attachments),
    }


# Built once: every group of stored updates runs it. Conditional, so two processes never both
# handle a row; one statement claims the whole group (RETURNING: which rows were still free).
CLAIM_STORED = (
    update(Inbound)
    .where(
        col(Inbound.channel) == bindparam("b_channel"),
        col(Inbound.update_key).in_(bindparam("b_keys", expanding=True)),
        col(Inbound.handled_at).is_(None),
    )
    .values(handled_at=bindparam("b_now"))
    .returning(col(Inbound.update_key))
)


def handle_stored(
    engine: Engine, incoming: Incoming, *, now: datetime, pending_ttl: timedelta = PENDING_TTL
) -> Outcome | None:
    """Claim a stored update and handle it in the same transaction; None if handled before."""
    (outcome,) = handle_stored_group(engine, [incoming], now=now, pending_ttl=pending_ttl)
    return outcome


def handle_stored_group(
    engine: Engine,
    incomings: list[Incoming],
    *,
    now: datetime,
    pending_ttl: timedelta = PENDING_TTL,
) -> list[Outcome | None]:
    """Claim and handle stored updates in order, in one transaction; None for one handled before.

    One commit for the group: either every claim and every write is kept, or none (the inbox
    then handles the updates one by one). Each update gets a fresh session, so it reads the
    database as it would alone, the earlier updates' writes included.
    """
    with engine.connect() as connection, connection.begin():
        claimed = _claim(connection, incomings, now)
        mine = [i for i in incomings if (i.channel, i.update_key) in claimed]
        with GroupReads(connection).watching(mine) as reads:
            handled = [
                _handled(connection, incoming, now, pending_ttl, reads)
                if (incoming.channel, incoming.update_key) in claimed
                else None
                for incoming in incomings
            ]
    return [None if outcome is None else _followed(engine, outcome, now) for outcome in handled]


def _claim(
    connection: Connection, incomings: list[Incoming], now: datetime
) -> set[tuple[str, str]]:
    """Mark the updates handled where no one did before; (channel, key) of those claimed."""
    claimed: set[tuple[str, str]] = set()
    for channel in dict.fromkeys(incoming.channel for incoming in incomings):
        keys = [incoming.update_key for incoming in incomings if incoming.channel == channel]
        rows = connection.execute(
            CLAIM_STORED, {"b_channel": channel, "b_keys": keys, "b_now": now}
        )
        claimed.update((channel, key) for key in rows.scalars())
    for incoming in incomings:
        if (incoming.channel, incoming.update_key) not in claimed:
            logger.info("update %s on %s already handled", incoming.update_key, incoming.channel)
    return claimed


def _handled(
    connection: Connection,
    incoming: Incoming,
    now: datetime,
    pending_ttl: timedelta,
    reads: GroupReads,
) -> Outcome:
    """Handle one claimed update inside the caller's transaction (no commit)."""
    # The session joins the connection's transaction: its flush writes, it never commits.
    with Session(bind=connection, expire_on_commit=False) as session:
        outcome = handle(session, incoming, now=now, pending_ttl=pending_ttl, reads=reads)
        session.flush()
    return outcome


def _followed(engine: Engine, outcome: Outcome, now: datetime) -> Outcome:
    """The outcome with what its follow-up says, run once the update's transaction committed."""
    if outcome.then is None:
        return outcome
    more = outcome.then(engine, now)
    return Outcome(messages=(*outcome.messages, *more.messages), popup=outcome.popup or more.popup)


def handle(
    session: Session,
    incoming: Incoming,
    *,
    now: datetime,
    pending_ttl: timedelta = PENDING_TTL,
    reads: GroupReads | None = None,  # what its group read ahead (handlers/group_reads.py)
) -> Outcome:
    """Answer one user action; a step pending longer than `pending_ttl` is forgotten."""
    ch = incoming.channel
    text = incoming.text.strip()
    start = START_RE.match(text) or DK_RE.match(text)
    if start and start.group(1):
        return Outcome(messages=(redeem_invite(session, incoming, start.group(1), now=now),))
    contacts = reads.contacts(incoming) if reads is not None else None
    if contacts is None:
        contacts = list(
            session.scalars(CHAT_CONTACTS, {"channel": ch, "chat_id": incoming.chat_id})
        )
    if not contacts:
        popup = "Bạn chưa đăng ký." if incoming.button_data else None
        return Outcome(messages=(message(incoming.capabilities, "howto"),), popup=popup)
    if len(text) > MAX_INCOMING_TEXT:
        return replies.say(
            incoming.capabilities, "too_long", length=len(text), limit=MAX_INCOMING_TEXT
        )
    if incoming.button_data is not None:
        return _button(session, incoming, contacts, now, pending_ttl)
    if incoming.documents and plan_intake.may_draft(contacts):  # a plan to draft, or its draft
        return plan_intake.receive(session, incoming, contacts, now=now)
    if incoming.attachments:
        return replies.evidence(session, incoming, contacts, now, pending_ttl)
    command, args = command_of(text)
    if command is not None:
        return run_command(session, incoming, contacts, command, args, now, pending_ttl)
    coded = parse_coded_reply(text) if replies.is_contact(contacts) else None
    if coded:  # «A7K 2 …» names its task: it wins over any step left pending
        return replies.coded_reply(session, incoming, contacts, coded, now, reads)
    state = get_state(session, ch, incoming.chat_id, now=now, ttl=pending_ttl)
    replied = replies.replied_items(session, incoming, contacts)
    if replied and not replies.notes_one_of(state, replied):  # a reply answers the replied reminder
        if state:
            clear_state(session, ch, incoming.chat_id)
        return replies.free_text(session, incoming, contacts, replied, now)
    if state.get("step") == "note":
        return replies.note(session, incoming, contacts, state, now)
    if state.get("step") == indicator_answers.STEP:
        return indicator_answers.answer(session, incoming, contacts, state, now)
    if state.get("step") == "return_reason":
        return confirmations.return_with_reason(
            session,
            incoming,
            contacts,
            int(state.get("occurrence_id", 0)),
            text,
            now=now,
        )
    latest = replies.latest_items(session, contacts)
    return replies.free_text(session, incoming, contacts, latest, now)


def _button(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    now: datetime,
    pending_ttl: timedelta,
) -> Outcome:
    """A tapped inline button: verified against the caller before anything changes."""
    ch = incoming.channel
    match buttons.parse(incoming.button_data or ""):
        case SkipNote():
            state = get_state(session, ch, incoming.chat_id, now=now, ttl=pending_ttl)
            if state.get("step") != "note":
                return Outcome(popup="Không có bước nào đang chờ.")
            return replies.note(session, incoming, contacts, state, now, skip=True)
        case SkipValue():
            state = get_state(session, ch, incoming.chat_id, now=now, ttl=pending_ttl)
            if state.get("step") != indicator_answers.STEP:
                return Outcome(popup="Không có bước nào đang chờ.")
            return indicator_answers.answer(session, incoming, contacts, state, now, skip=True)
        case DrillDown() as drill:
            return status_view.drill_down(session, incoming.capabilities, contacts, drill, now=now)
        case ClaimAnswer() as answer:
            return confirmations.button(session, incoming, contacts, answer, now=now)
        case DraftAnswer() as action:
            return plan_intake.answer(session, incoming, contacts, action, now=now)
        case StatusPick() as pick:
            return replies.status_button(session, incoming, contacts, pick, now)
    return replies.stale(incoming.capabilities)
