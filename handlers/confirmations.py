"""Coordinators confirm a "done" claim or return it with a reason (the contact is told)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from chat.buttons import ClaimAnswer, claim_buttons
from chat.messages import PLAIN, Capabilities
from chat.texts import message, say
from handlers.reporting import latest_report
from handlers.state import clear_state, listed, remember_list, set_state, shown_list
from handlers.types import Incoming, Outcome
from plans.calendar import default_calendar
from plans.policy import ReminderPolicy, next_step_after
from storage.db import stored_id
from storage.enums import MessageKind, ReportStatus, Role
from storage.models import Contact, Occurrence, Plan, Task, Unit
from storage.outbox import outbox_row, queue
from storage.queries import with_occurrence_context

LIST_LIMIT = 10
RETURN_REASON_LIMIT = 500
LIST_STEP = "claims"  # the list of claims shown, by position (handlers/state.py)


@dataclass(frozen=True)
class Claim:
    """A done claim waiting for the coordinator."""

    occurrence: Occurrence
    task: Task
    plan: Plan
    unit: Unit


def coordinated_plan_ids(session: Session, contacts: list[Contact]) -> set[int]:
    """Plans whose coordinating unit is one of this chat's coordinator registrations."""
    unit_ids = [c.unit_id for c in contacts if c.role == Role.COORDINATOR]
    if not unit_ids:
        return set()
    codes = session.exec(select(Unit.code).where(col(Unit.id).in_(unit_ids))).all()
    plan_ids = session.exec(select(Plan.id).where(col(Plan.coordinator_code).in_(codes))).all()
    return {plan_id for plan_id in plan_ids if plan_id is not None}


def _claims(session: Session, plan_ids: set[int], occurrence_id: int | None = None) -> list[Claim]:
    """Unconfirmed done claims of the given plans."""
    query = (
        with_occurrence_context(select(Occurrence, Task, Plan, Unit))
        .where(
            col(Plan.id).in_(plan_ids),
            Occurrence.status == ReportStatus.DONE,
            col(Occurrence.confirmed_at).is_(None),
            Occurrence.active,
        )
        .order_by(col(Occurrence.reported_at))
    )
    if occurrence_id is not None:
        query = query.where(Occurrence.id == occurrence_id)
    return [Claim(*row) for row in session.exec(query.limit(200)).all()]


def pending_list(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    args: list[str],
    *,
    now: datetime,
) -> Outcome:
    """/xacnhan: list claims with confirm/return buttons; on Zalo `xacnhan ok N` / `tralai N`."""
    channel, chat_id, shows = incoming.channel, incoming.chat_id, incoming.capabilities
    plan_ids = coordinated_plan_ids(session, contacts)
    if not plan_ids:
        return Outcome(messages=(message(shows, "not_allowed"),))
    if len(args) >= 2 and args[0].lower() in ("ok", "tralai") and args[1].isdigit():
        confirm, position, reason = args[0].lower() == "ok", int(args[1]), args[2:]
        occurrence_id = listed(session, channel, chat_id, LIST_STEP, position, now=now)
        if occurrence_id is None:
            return Outcome(messages=(message(shows, "confirm_position", position=position),))
        if not confirm and reason:  # the reason came with the command: no step
            return return_with_reason(
                session, incoming, contacts, occurrence_id, " ".join(reason), now=now
            )
        return _act(session, incoming, contacts, plan_ids, confirm, occurrence_id, now)
    claims = _claims(session, plan_ids)
    if not claims:
        return Outcome(messages=(message(shows, "confirm_none"),))
    shown = claims[:LIST_LIMIT]
    shown_ids = [stored_id(c.occurrence) for c in shown]
    remember_list(session, channel, chat_id, LIST_STEP, shown_ids, now=now)
    buttons = [list(claim_buttons(stored_id(c.occurrence))) for c in shown]
    items = [
        {
            "plan": c.plan.number or c.plan.code,
            "task_key": c.task.key,
            "unit_name": c.unit.name,
            "note": _note_of(session, c.occurrence),
            "reported_at": c.occurrence.reported_at,
        }
        for c in shown
    ]
    return Outcome(
        messages=(
            message(
                shows, "confirm_list", buttons=buttons, items=items, more=len(claims) - len(shown)
            ),
        )
    )


def _note_of(session: Session, occurrence: Occurrence) -> str:
    """The note of the claim's report."""
    report = latest_report(session, stored_id(occurrence))
    return report.note if report is not None else ""


def button(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    answer: ClaimAnswer,
    *,
    now: datetime,
) -> Outcome:
    """A confirm/return button, checked against the caller's plans."""
    plan_ids = coordinated_plan_ids(session, contacts)
    if not plan_ids:
        return Outcome(
            messages=(message(incoming.capabilities, "stale_button"),), popup="Nút không hợp lệ."
        )
    return _act(
        session,
        incoming,
        contacts,
        plan_ids,
        answer.confirm,
        answer.occurrence_id,
        now,
    )


def _act(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    plan_ids: set[int],
    confirm: bool,
    occurrence_id: int,
    now: datetime,
) -> Outcome:
    """Confirm now, or ask for the reason of a return."""
    ch, chat_id, shows = incoming.channel, incoming.chat_id, incoming.capabilities
    claims = _claims(session, plan_ids, occurrence_id)
    if not claims:
        return Outcome(messages=(message(shows, "stale_button"),), popup="Không còn chờ xác nhận.")
    claim = claims[0]
    coordinator = next(c for c in contacts if c.role == Role.COORDINATOR)
    if confirm:
        claim.occurrence.confirmed_at = now
        session.add(claim.occurrence)
        report = latest_report(session, occurrence_id)
        if report is not None:
            report.confirmed_at = now
            report.confirmed_by = coordinator.id
            session.add(report)
        text = message(shows, "confirmed", task_key=claim.task.key, unit_name=claim.unit.name)
        return Outcome(messages=(text,), popup="Đã xác nhận.")
    shown = shown_list(session, ch, chat_id, LIST_STEP, now=now)
    step = {"step": "return_reason", "occurrence_id": occurrence_id, LIST_STEP: shown}
    set_state(session, ch, chat_id, step, now=now)
    ask = message(shows, "ask_return_reason", task_key=claim.task.key, unit_name=claim.unit.name)
    return Outcome(messages=(ask,))


def return_with_reason(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    occurrence_id: int,
    text: str,
    *,
    now: datetime,
) -> Outcome:
    """Return the claim: the assignment opens again and the unit's contacts are told why."""
    ch, chat_id = incoming.channel, incoming.chat_id
    shown = shown_list(session, ch, chat_id, LIST_STEP, now=now)
    clear_state(session, ch, chat_id)
    if shown:  # the list's positions still name what they named
        remember_list(session, ch, chat_id, LIST_STEP, shown, now=now)
    plan_ids = coordinated_plan_ids(session, contacts)
    claims = _claims(session, plan_ids, occurrence_id)
    reason = text.strip()[:RETURN_REASON_LIMIT]
    if not claims or not reason:
        return Outcome(messages=(message(incoming.capabilities, "stale_button"),))
    claim = claims[0]
    report = latest_report(session, stored_id(claim.occurrence))
    if report is not None:
        report.returned_at = now
        report.return_reason = reason
        session.add(report)
    occurrence = claim.occurrence
    occurrence.status = ReportStatus.IN_PROGRESS
    occurrence.done_at = None
    occurrence.percent = None
    step = next_step_after(
        due=occurrence.due_date,
        ongoing=occurrence.period == "ongoing",
        after=now,
        policy=ReminderPolicy.from_mapping(claim.plan.reminders),
        calendar=default_calendar(),
    )
    occurrence.next_reminder_at = step.send_at if step else None
    session.add(occurrence)
    _tell_unit(session, claim, reason, now, incoming)
    ack = message(
        incoming.capabilities, "returned_ack", task_key=claim.task.key, unit_name=claim.unit.name
    )
    return Outcome(messages=(ack,))


def _tell_unit(
    session: Session, claim: Claim, reason: str, now: datetime, incoming: Incoming
) -> None:
    """Queue the return notice to every contact of the unit."""
    contacts = session.exec(
        select(Contact).where(
            Contact.unit_id == claim.unit.id, Contact.role == Role.CONTACT, Contact.reachable
        )
    ).all()
    rows = [
        outbox_row(
            key=f"returned:{claim.occurrence.id}:{now.timestamp():.0f}:{contact.id}",
            contact_id=stored_id(contact),
            occurrence_id=claim.occurrence.id,
            kind=MessageKind.NOTICE,
            step="returned",
            now=now,
            text=say(
                _shows(contact, incoming),
                "returned_notice",
                plan=claim.plan.number or claim.plan.code,
                task_key=claim.task.key,
                task_title=claim.task.title[:200],
                unit_name=claim.unit.name,
                reason=reason,
            ),
        )
        for contact in contacts
    ]
    queue(session, rows)


def _shows(contact: Contact, incoming: Incoming) -> Capabilities:
    """What a contact's channel shows: known for the coordinator's own channel, else plain text."""
    return incoming.capabilities if contact.channel == incoming.channel else PLAIN
