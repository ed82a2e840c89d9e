"""A contact's replies: status buttons, notes, coded and free-text replies, evidence."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from chat import buttons
from chat.buttons import StatusPick
from chat.messages import Button, Capabilities, OutgoingMessage
from chat.texts import message
from handlers import indicator_answers, tasks_view
from handlers.errors import ReportRefused
from handlers.indicator_answers import Given, LineRefused
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
    ReadAhead,
    Recorded,
    ReportWrites,
    add_evidence,
    add_note,
    item_by_code,
    open_items,
    record_report,
)
from handlers.state import clear_state, get_state, set_state
from handlers.types import Incoming, Outcome
from plans.status import STATUS_LABELS
from storage.enums import MessageKind, ReportStatus, Role
from storage.models import Contact, MessageRef, Outbox, Report

SKIP_WORDS = {"bo qua", "skip", "khong", "-"}


def say(shows: Capabilities, template: str, **context: Any) -> Outcome:
    """An outcome of one templated message."""
    return Outcome(messages=(message(shows, template, **context),))


def say_with(
    shows: Capabilities, template: str, buttons: list[list[Button]], **context: object
) -> Outcome:
    """An outcome of one templated message with buttons."""
    return Outcome(messages=(message(shows, template, buttons=buttons, **context),))


def stale(shows: Capabilities) -> Outcome:
    """The answer to a button that is no longer (or never was) one of ours."""
    return Outcome(messages=(message(shows, "stale_button"),), popup="Nút không còn hiệu lực.")


def is_contact(contacts: list[Contact]) -> bool:
    """Whether the chat reports for a unit (only contacts have task codes)."""
    return any(c.role == Role.CONTACT for c in contacts)


def notes_one_of(state: dict[str, Any], items: list[OpenItem]) -> bool:
    """Whether the pending step awaits the note on one of these items (a reply to its reminder)."""
    occurrence_ids = {i.occurrence.id for i in items}
    steps = ("note", indicator_answers.STEP)
    return state.get("step") in steps and state.get("occurrence_id") in occurrence_ids


def coded_reply(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    coded: tuple[str, ParsedReply],
    now: datetime,
    reads: ReadAhead | None = None,
) -> Outcome:
    """A reply naming its task by code; a code that is not this chat's changes nothing."""
    code, parsed = coded
    item = _item_for_code(session, contacts, code, reads)
    if item is None:
        return say(incoming.capabilities, "unknown_code", code=code)
    assert item.task.id is not None
    try:  # without its `code=value` part, a reply reads as any (handlers/indicator_answers.py)
        rest, given = indicator_answers.split_reply(session, item, incoming.text.strip())
    except LineRefused as exc:
        return indicator_answers.refused(incoming.capabilities, item.task.key, exc)
    if given is not None:
        _, parsed = parse_coded_reply(rest) or coded
    clear_state(session, incoming.channel, incoming.chat_id)
    later = reads.writes if reads is not None else None
    return _apply(session, incoming, contacts, item, parsed, now, given, later)


def status_button(
    session: Session, incoming: Incoming, contacts: list[Contact], pick: StatusPick, now: datetime
) -> Outcome:
    """A status button of one task: record it, then ask for a note."""
    ch = incoming.channel
    item = _item_for_code(session, contacts, pick.code)
    if item is None:
        return stale(incoming.capabilities)
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
        return Outcome(
            messages=(message(incoming.capabilities, "refused", reason=str(exc)),), popup=str(exc)
        )
    set_state(
        session,
        ch,
        incoming.chat_id,
        {"step": "note", "report_id": report.id, "occurrence_id": item.occurrence.id},
        now=now,
    )
    skip = [[buttons.skip_note_button()]]
    ask = message(
        incoming.capabilities,
        "ask_note",
        buttons=skip,
        status_label=STATUS_LABELS[status],
        task_key=item.task.key,
        unit_name=item.unit.name,
    )
    return Outcome(messages=(ask,), popup=f"Đã ghi nhận: {STATUS_LABELS[status]}")


def note(
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
        return say(incoming.capabilities, "stale_button")
    text = incoming.text.strip()
    if not skip and fold(text) not in SKIP_WORDS:
        add_note(session, report, item.occurrence, text, parse_percent(text))
    assert report.contact_id is not None
    asks = indicator_answers.ask_first(session, incoming, item, report.contact_id, now=now)
    return Outcome(messages=(_recorded(incoming.capabilities, item, report), *asks))


def replied_items(session: Session, incoming: Incoming, contacts: list[Contact]) -> list[OpenItem]:
    """The tasks of the reminder this text replies to: the open ones, else (a correction) all."""
    if not incoming.reply_to or not is_contact(contacts):
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


def latest_items(session: Session, contacts: list[Contact]) -> list[OpenItem]:
    """The open task of the chat's latest reminder, which a reply without a reference is about."""
    found: list[OpenItem] = []
    for contact in contacts:
        if contact.role == Role.CONTACT:
            found.extend(open_items(session, contact, limit=1))
    found.sort(key=lambda i: i.ref.id or 0, reverse=True)
    return found[:1]


def free_text(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    items: list[OpenItem],
    now: datetime,
) -> Outcome:
    """A bare choice or a sentence about `items` (the replied-to or the latest reminder's)."""
    shows = incoming.capabilities
    text = incoming.text.strip()
    if not is_contact(contacts):
        return say(shows, "help", is_contact=False, is_head=True, is_coordinator=False)
    if not items:
        return say(shows, "no_open")
    if len(items) > 1:
        return tasks_view.pick(shows, items)
    item = items[0]
    assert item.task.id is not None
    try:  # without its `code=value` part, a reply reads as any (handlers/indicator_answers.py)
        rest, given = indicator_answers.split_reply(session, item, text)
    except LineRefused as exc:
        return indicator_answers.refused(shows, item.task.key, exc)
    parsed = parse_bare_choice(rest) or parse_reply(rest)
    if parsed.status is None:
        choices = [list(buttons.status_buttons(item.ref.code, with_labels=True))]
        return say_with(
            shows,
            "unreadable",
            choices,
            task_key=item.task.key,
            unit_name=item.unit.name,
            text=text[:200],
            code=item.ref.code,
        )
    return _apply(session, incoming, contacts, item, parsed, now, given)


def _apply(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    item: OpenItem,
    parsed: ParsedReply,
    now: datetime,
    given: Given | None = None,
    later: ReportWrites | None = None,  # held to be written with its group's
) -> Outcome:
    """Record a parsed reply on an item, with its indicator values; ask for those missing."""
    assert parsed.status is not None
    shows, contact = incoming.capabilities, _owner(contacts, item)
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
            later=later,
        )
    except ReportRefused as exc:
        return say(shows, "refused", reason=str(exc))
    if given is None:
        return Outcome(messages=(_recorded(shows, item, report),))
    assert contact.id is not None
    indicator_answers.save_given(session, given, item, contact.id, now)
    asks = indicator_answers.ask_first(session, incoming, item, contact.id, given=given, now=now)
    return Outcome(messages=(_recorded(shows, item, report, given), *asks))


def evidence(
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
        return say(incoming.capabilities, "evidence_no_report")
    add_evidence(session, report, incoming.attachments, incoming.text)
    item = None
    for contact in contacts:
        item = item or _item_for_occurrence(session, contact, report.occurrence_id)
    return say(
        incoming.capabilities,
        "evidence_saved",
        count=len(incoming.attachments),
        task_key=item.task.key if item else "",
        unit_name=item.unit.name if item else "",
    )


def _owner(contacts: list[Contact], item: OpenItem) -> Contact:
    """The chat's contact row the reference belongs to."""
    return next(c for c in contacts if c.id == item.ref.contact_id)


def _item_for_code(
    session: Session, contacts: list[Contact], code: str, reads: ReadAhead | None = None
) -> OpenItem | None:
    """Resolve a short code against every contact row of this chat."""
    for contact in contacts:
        if contact.role == Role.CONTACT:
            if reads is not None and reads.knows(contact, code):
                item = reads.item(session, contact, code)
            else:
                item = item_by_code(session, contact, code)
            if item is not None:
                return item
    return None


def _item_for_occurrence(session: Session, contact: Contact, occurrence_id: int) -> OpenItem | None:
    """The contact's reference for an occurrence."""
    code = session.exec(
        select(MessageRef.code).where(
            MessageRef.contact_id == contact.id, MessageRef.occurrence_id == occurrence_id
        )
    ).first()
    return item_by_code(session, contact, code) if code else None


def _recorded(
    shows: Capabilities, item: OpenItem, report: Report | Recorded, given: Given | None = None
) -> OutgoingMessage:
    """The confirmation of what was recorded, with the indicator values the reply gave."""
    return message(
        shows,
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
