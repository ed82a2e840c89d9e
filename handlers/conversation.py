"""The channel-neutral conversation: registration, status replies, notes, evidence, commands."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from chat import buttons
from chat.buttons import ClaimAnswer, DrillDown, SkipNote, SkipValue, StatusPick
from chat.messages import Button, OutgoingMessage
from chat.texts import message
from handlers import confirmations, indicator_answers, status_view, task_due, tasks_view
from handlers.errors import ReportRefused
from handlers.indicator_answers import Given, LineRefused
from handlers.registration import redeem_invite
from handlers.reply_parser import (
    ParsedReply,
    fold,
    parse_bare_choice,
    parse_coded_reply,
    parse_percent,
    parse_reply,
)
from handlers.reporting import (
    OpenItem,
    Recorded,
    add_evidence,
    add_note,
    item_by_code,
    open_items,
    record_report,
)
from handlers.state import PENDING_TTL, clear_state, get_state, set_state
from handlers.types import MAX_INCOMING_TEXT, Incoming, Outcome
from plans.status import STATUS_LABELS
from storage.db import insert_ignore, session_scope
from storage.enums import MessageKind, ReportStatus, Role
from storage.models import Contact, Inbound, MessageRef, Outbox, Report

logger = logging.getLogger(__name__)

START_RE = re.compile(r"^/start(?:@\w+)?(?:\s+(\S+))?\s*$", re.IGNORECASE)
DK_RE = re.compile(r"^dk\s+(\S+)\s*$", re.IGNORECASE)
COMMANDS = {"start", "help", "viec", "baocao", "status", "huy", "xacnhan", "dathan"}
SKIP_WORDS = {"bo qua", "skip", "khong", "-"}
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
        return handle(session, incoming, now=now, pending_ttl=pending_ttl)


def _payload(incoming: Incoming) -> dict[str, object]:
    """What is kept of an update (bounded in size)."""
    return {
        "text": incoming.text[:MAX_INCOMING_TEXT],
        "button": incoming.button_data,
        "reply_to": incoming.reply_to,
        "attachments": list(incoming.attachments),
    }


# Built once: every stored update runs it. Conditional, so two processes never both handle a row.
CLAIM_STORED = (
    update(Inbound)
    .where(
        col(Inbound.channel) == bindparam("b_channel"),
        col(Inbound.update_key) == bindparam("b_update_key"),
        col(Inbound.handled_at).is_(None),
    )
    .values(handled_at=bindparam("b_now"))
)


def handle_stored(
    engine: Engine, incoming: Incoming, *, now: datetime, pending_ttl: timedelta = PENDING_TTL
) -> Outcome | None:
    """Claim a stored update and handle it in the same transaction; None if handled before."""
    with session_scope(engine) as session:
        claimed = session.connection().execute(
            CLAIM_STORED,
            {"b_channel": incoming.channel, "b_update_key": incoming.update_key, "b_now": now},
        )
        if not claimed.rowcount:
            logger.info("update %s on %s already handled", incoming.update_key, incoming.channel)
            return None
        return handle(session, incoming, now=now, pending_ttl=pending_ttl)


def handle(
    session: Session, incoming: Incoming, *, now: datetime, pending_ttl: timedelta = PENDING_TTL
) -> Outcome:
    """Answer one user action; a step pending longer than `pending_ttl` is forgotten."""
    ch = incoming.channel
    text = incoming.text.strip()
    start = START_RE.match(text) or DK_RE.match(text)
    if start and start.group(1):
        return Outcome(messages=(redeem_invite(session, incoming, start.group(1), now=now),))
    contacts = list(session.scalars(CHAT_CONTACTS, {"channel": ch, "chat_id": incoming.chat_id}))
    if not contacts:
        popup = "Bạn chưa đăng ký." if incoming.button_data else None
        return Outcome(messages=(message(ch, "howto"),), popup=popup)
    if len(text) > MAX_INCOMING_TEXT:
        return _say(ch, "too_long", length=len(text), limit=MAX_INCOMING_TEXT)
    if incoming.button_data is not None:
        return _button(session, incoming, contacts, now, pending_ttl)
    if incoming.attachments:
        return _evidence(session, incoming, contacts, now, pending_ttl)
    command, args = _command(text)
    if command is not None:
        return _command_outcome(session, incoming, contacts, command, args, now, pending_ttl)
    coded = parse_coded_reply(text) if _is_contact(contacts) else None
    if coded:  # «A7K 2 …» names its task: it wins over any step left pending
        return _coded(session, incoming, contacts, coded, now)
    state = get_state(session, ch, incoming.chat_id, now=now, ttl=pending_ttl)
    replied = _replied_items(session, incoming, contacts)
    if replied and not _notes_one_of(state, replied):  # a reply answers the replied reminder
        if state:
            clear_state(session, ch, incoming.chat_id)
        return _free_text(session, incoming, contacts, replied, now)
    if state.get("step") == "note":
        return _note(session, incoming, contacts, state, now)
    if state.get("step") == indicator_answers.STEP:
        return indicator_answers.answer(session, incoming, contacts, state, now)
    if state.get("step") == "return_reason":
        return confirmations.return_with_reason(
            session,
            ch,
            incoming.chat_id,
            contacts,
            int(state.get("occurrence_id", 0)),
            text,
            now=now,
        )
    return _free_text(session, incoming, contacts, _latest_items(session, contacts), now)


def _is_contact(contacts: list[Contact]) -> bool:
    """Whether the chat reports for a unit (only contacts have task codes)."""
    return any(c.role == Role.CONTACT for c in contacts)


def _coded(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    coded: tuple[str, ParsedReply],
    now: datetime,
) -> Outcome:
    """A reply naming its task by code; a code that is not this chat's changes nothing."""
    code, parsed = coded
    item = _item_for_code(session, contacts, code)
    if item is None:
        return _say(incoming.channel, "unknown_code", code=code)
    assert item.task.id is not None
    try:  # without its `code=value` part, a reply reads as any (handlers/indicator_answers.py)
        rest, given = indicator_answers.split_reply(session, item.task.id, incoming.text.strip())
    except LineRefused as exc:
        return indicator_answers.refused(incoming.channel, item.task.key, exc)
    if given is not None:
        _, parsed = parse_coded_reply(rest) or coded
    clear_state(session, incoming.channel, incoming.chat_id)
    return _apply(session, incoming, contacts, item, parsed, now, given)


def _notes_one_of(state: dict[str, Any], items: list[OpenItem]) -> bool:
    """Whether the pending step awaits the note on one of these items (a reply to its reminder)."""
    occurrence_ids = {i.occurrence.id for i in items}
    steps = ("note", indicator_answers.STEP)
    return state.get("step") in steps and state.get("occurrence_id") in occurrence_ids


def _say(channel: str, template: str, **context: Any) -> Outcome:
    """An outcome of one templated message."""
    return Outcome(messages=(message(channel, template, **context),))


def _command(text: str) -> tuple[str | None, list[str]]:
    """A command word (with or without '/'), or None for ordinary text."""
    if not text:
        return None, []
    words = text.split()
    head = words[0]
    slash = head.startswith("/")
    name = fold(head.lstrip("/").split("@", 1)[0])
    if name in COMMANDS:
        return name, words[1:]
    if slash:
        return head, []
    return None, []


def _command_outcome(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    command: str,
    args: list[str],
    now: datetime,
    pending_ttl: timedelta,
) -> Outcome:
    """Run a command for a registered chat."""
    ch = incoming.channel
    roles = {c.role for c in contacts}
    if command in ("help", "start"):
        return _say(
            ch,
            "help",
            is_contact=Role.CONTACT in roles,
            is_head=bool(roles & {Role.HEAD, Role.COORDINATOR}),
            is_coordinator=Role.COORDINATOR in roles,
        )
    if command == "huy":
        had_step = bool(get_state(session, ch, incoming.chat_id, now=now, ttl=pending_ttl))
        clear_state(session, ch, incoming.chat_id)
        return _say(ch, "cancelled", had_step=had_step)
    if command in ("viec", "baocao"):
        return tasks_view.task_list(
            session, ch, contacts, now=now, include_done=command == "baocao"
        )
    if command == "status":
        return status_view.status(session, ch, contacts, args, now=now)
    if command == "xacnhan":
        return confirmations.pending_list(session, ch, incoming.chat_id, contacts, args, now=now)
    if command == "dathan":
        return task_due.give_due(session, ch, contacts, args, now=now)
    return _say(ch, "unknown_command", command=command)


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
            return _note(session, incoming, contacts, state, now, skip=True)
        case SkipValue():
            state = get_state(session, ch, incoming.chat_id, now=now, ttl=pending_ttl)
            if state.get("step") != indicator_answers.STEP:
                return Outcome(popup="Không có bước nào đang chờ.")
            return indicator_answers.answer(session, incoming, contacts, state, now, skip=True)
        case DrillDown() as drill:
            return status_view.drill_down(session, ch, contacts, drill, now=now)
        case ClaimAnswer() as answer:
            return confirmations.button(session, incoming, contacts, answer, now=now)
        case StatusPick() as pick:
            return _status_button(session, incoming, contacts, pick, now)
    return _stale(ch)


def _stale(channel: str) -> Outcome:
    """The answer to a button that is no longer (or never was) one of ours."""
    return Outcome(messages=(message(channel, "stale_button"),), popup="Nút không còn hiệu lực.")


def _status_button(
    session: Session, incoming: Incoming, contacts: list[Contact], pick: StatusPick, now: datetime
) -> Outcome:
    """A status button of one task: record it, then ask for a note."""
    ch = incoming.channel
    item = _item_for_code(session, contacts, pick.code)
    if item is None:
        return _stale(ch)
    status = pick.status
    contact = _owner(contacts, item)
    try:
        report = record_report(
            session,
            contact=contact,
            occurrence=item.occurrence,
            status=status,
            percent=None,
            note="",
            now=now,
            owner_unit_id=item.unit.id,
        )
    except ReportRefused as exc:
        return Outcome(messages=(message(ch, "refused", reason=str(exc)),), popup=str(exc))
    set_state(
        session,
        ch,
        incoming.chat_id,
        {"step": "note", "report_id": report.id, "occurrence_id": item.occurrence.id},
        now=now,
    )
    skip = [[buttons.skip_note_button()]]
    ask = message(
        ch,
        "ask_note",
        buttons=skip,
        status_label=STATUS_LABELS[status],
        task_key=item.task.key,
        unit_name=item.unit.name,
    )
    return Outcome(messages=(ask,), popup=f"Đã ghi nhận: {STATUS_LABELS[status]}")


def _owner(contacts: list[Contact], item: OpenItem) -> Contact:
    """The chat's contact row the reference belongs to."""
    return next(c for c in contacts if c.id == item.ref.contact_id)


def _item_for_code(session: Session, contacts: list[Contact], code: str) -> OpenItem | None:
    """Resolve a short code against every contact row of this chat."""
    for contact in contacts:
        if contact.role == Role.CONTACT:
            item = item_by_code(session, contact, code)
            if item is not None:
                return item
    return None


def _note(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    state: dict[str, Any],
    now: datetime,
    skip: bool = False,
) -> Outcome:
    """The note that follows a status button (or its skipping)."""
    ch = incoming.channel
    report = session.get(Report, state.get("report_id"))
    clear_state(session, ch, incoming.chat_id)
    item = None
    if report is not None:
        for contact in contacts:
            ref_item = _item_for_occurrence(session, contact, report.occurrence_id)
            if ref_item is not None:
                item = ref_item
                break
    if report is None or item is None:
        return _say(ch, "stale_button")
    text = incoming.text.strip()
    if not skip and fold(text) not in SKIP_WORDS:
        add_note(session, report, item.occurrence, text, parse_percent(text))
    assert report.contact_id is not None
    asks = indicator_answers.ask_first(
        session, ch, incoming.chat_id, item, report.contact_id, now=now
    )
    return Outcome(messages=(_recorded(ch, item, report), *asks))


def _item_for_occurrence(session: Session, contact: Contact, occurrence_id: int) -> OpenItem | None:
    """The contact's reference for an occurrence."""
    code = session.exec(
        select(MessageRef.code).where(
            MessageRef.contact_id == contact.id, MessageRef.occurrence_id == occurrence_id
        )
    ).first()
    return item_by_code(session, contact, code) if code else None


def _recorded(
    channel: str, item: OpenItem, report: Report | Recorded, given: Given | None = None
) -> OutgoingMessage:
    """The confirmation of what was recorded, with the indicator values the reply gave."""
    return message(
        channel,
        "recorded",
        task_key=item.task.key,
        unit_name=item.unit.name,
        status=report.status,
        status_label=STATUS_LABELS[report.status],
        percent=report.percent,
        note=report.note,
        evidence=len(report.evidence),
        values=given.shown() if given else (),
    )


def _replied_items(session: Session, incoming: Incoming, contacts: list[Contact]) -> list[OpenItem]:
    """The tasks of the reminder this text replies to: the open ones, else (a correction) all."""
    if not incoming.reply_to or not _is_contact(contacts):
        return []
    rows = session.exec(
        select(Outbox).where(
            Outbox.platform_message_id == incoming.reply_to,
            col(Outbox.contact_id).in_([c.id for c in contacts]),
            Outbox.kind != MessageKind.ESCALATION,
        )
    ).all()
    items = []
    for row in rows:
        contact = next(c for c in contacts if c.id == row.contact_id)
        item = _item_for_occurrence(session, contact, row.occurrence_id or -1)
        if item is not None and item.occurrence.active and item.task.active:
            items.append(item)
    return [i for i in items if i.occurrence.status != ReportStatus.DONE] or items


def _latest_items(session: Session, contacts: list[Contact]) -> list[OpenItem]:
    """The open task of the chat's latest reminder, which a reply without a reference is about."""
    found: list[OpenItem] = []
    for contact in contacts:
        if contact.role == Role.CONTACT:
            found.extend(open_items(session, contact, limit=1))
    found.sort(key=lambda i: i.ref.id or 0, reverse=True)
    return found[:1]


def _free_text(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    items: list[OpenItem],
    now: datetime,
) -> Outcome:
    """A bare choice or a sentence about `items` (the replied-to or the latest reminder's)."""
    ch = incoming.channel
    text = incoming.text.strip()
    if not _is_contact(contacts):
        return _say(ch, "help", is_contact=False, is_head=True, is_coordinator=False)
    if not items:
        return _say(ch, "no_open")
    if len(items) > 1:
        return tasks_view.pick(ch, items)
    item = items[0]
    assert item.task.id is not None
    try:  # without its `code=value` part, a reply reads as any (handlers/indicator_answers.py)
        rest, given = indicator_answers.split_reply(session, item.task.id, text)
    except LineRefused as exc:
        return indicator_answers.refused(ch, item.task.key, exc)
    parsed = parse_bare_choice(rest) or parse_reply(rest)
    if parsed.status is None:
        choices = [list(buttons.status_buttons(item.ref.code, with_labels=True))]
        return _say_with(
            ch,
            "unreadable",
            choices,
            task_key=item.task.key,
            unit_name=item.unit.name,
            text=text[:200],
            code=item.ref.code,
        )
    return _apply(session, incoming, contacts, item, parsed, now, given)


def _say_with(
    channel: str, template: str, buttons: list[list[Button]], **context: object
) -> Outcome:
    """An outcome of one templated message with buttons."""
    return Outcome(messages=(message(channel, template, buttons=buttons, **context),))


def _apply(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    item: OpenItem,
    parsed: ParsedReply,
    now: datetime,
    given: Given | None = None,
) -> Outcome:
    """Record a parsed reply on an item, with its indicator values; ask for those missing."""
    assert parsed.status is not None
    channel, contact = incoming.channel, _owner(contacts, item)
    try:
        report = record_report(
            session,
            contact=contact,
            occurrence=item.occurrence,
            status=parsed.status,
            percent=parsed.percent,
            note=parsed.note,
            now=now,
            owner_unit_id=item.unit.id,
        )
    except ReportRefused as exc:
        return _say(channel, "refused", reason=str(exc))
    if given is None:
        return Outcome(messages=(_recorded(channel, item, report),))
    assert contact.id is not None
    indicator_answers.save_given(session, given, item, contact.id, now)
    asks = indicator_answers.ask_first(
        session, channel, incoming.chat_id, item, contact.id, given=given, now=now
    )
    return Outcome(messages=(_recorded(channel, item, report, given), *asks))


def _evidence(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    now: datetime,
    pending_ttl: timedelta,
) -> Outcome:
    """Photos and documents attach to the chat's latest report (or the one waiting for a note)."""
    ch = incoming.channel
    contact_ids = [c.id for c in contacts if c.role == Role.CONTACT]
    report = None
    state = get_state(session, ch, incoming.chat_id, now=now, ttl=pending_ttl)
    if state.get("step") == "note":
        report = session.get(Report, state.get("report_id"))
    if report is None and contact_ids:
        report = session.exec(
            select(Report)
            .where(col(Report.contact_id).in_(contact_ids))
            .order_by(col(Report.id).desc())
        ).first()
    if report is None:
        return _say(ch, "evidence_no_report")
    add_evidence(session, report, incoming.attachments, incoming.text)
    item = None
    for contact in contacts:
        item = item or _item_for_occurrence(session, contact, report.occurrence_id)
    return _say(
        ch,
        "evidence_saved",
        count=len(incoming.attachments),
        task_key=item.task.key if item else "",
        unit_name=item.unit.name if item else "",
    )
