"""Coordinators confirm a "done" claim or return it with a reason (the contact is told)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from handlers.reporting import latest_report
from handlers.state import clear_state, set_state
from handlers.texts import message, say
from handlers.types import Incoming, Outcome
from plans.calendar import default_calendar
from plans.messages import Button
from plans.policy import ReminderPolicy, next_step_after
from storage.db import insert_ignore
from storage.models import Contact, Occurrence, Outbox, Plan, Task, Unit
from storage.queries import with_occurrence_context

LIST_LIMIT = 10
BUTTON_RE = re.compile(r"^c:(ok|ret):(\d{1,12})$")


@dataclass(frozen=True)
class Claim:
    """A done claim waiting for the coordinator."""

    occurrence: Occurrence
    task: Task
    plan: Plan
    unit: Unit


def coordinated_plan_ids(session: Session, contacts: list[Contact]) -> set[int]:
    """Plans whose coordinating unit is one of this chat's coordinator registrations."""
    unit_ids = [c.unit_id for c in contacts if c.role == "coordinator"]
    if not unit_ids:
        return set()
    codes = session.exec(select(Unit.code).where(Unit.id.in_(unit_ids))).all()  # type: ignore[union-attr]
    return set(
        session.exec(select(Plan.id).where(Plan.coordinator_code.in_(codes))).all()  # type: ignore[attr-defined]
    )


def _claims(session: Session, plan_ids: set[int], occurrence_id: int | None = None) -> list[Claim]:
    """Unconfirmed done claims of the given plans."""
    query = (
        with_occurrence_context(select(Occurrence, Task, Plan, Unit))
        .where(
            Plan.id.in_(plan_ids),  # type: ignore[union-attr]
            Occurrence.status == "done",
            Occurrence.confirmed_at.is_(None),  # type: ignore[union-attr]
            Occurrence.active,
        )
        .order_by(Occurrence.reported_at)  # type: ignore[arg-type]
    )
    if occurrence_id is not None:
        query = query.where(Occurrence.id == occurrence_id)
    return [Claim(*row) for row in session.exec(query.limit(200)).all()]


def pending_list(
    session: Session, channel: str, contacts: list[Contact], args: list[str], *, now: datetime
) -> Outcome:
    """/xacnhan: list claims with confirm/return buttons; on Zalo `xacnhan ok N` / `tralai N`."""
    plan_ids = coordinated_plan_ids(session, contacts)
    if not plan_ids:
        return Outcome(messages=(message(channel, "not_allowed"),))
    if len(args) >= 2 and args[0].lower() in ("ok", "tralai") and args[1].isdigit():
        action = "ok" if args[0].lower() == "ok" else "ret"
        incoming = Incoming(channel=channel, chat_id=contacts[0].chat_id, update_key="")
        outcome = _act(session, incoming, contacts, plan_ids, action, int(args[1]), now)
        if action == "ret" and len(args) > 2:  # the reason came with the command: no step
            state = {"step": "return_reason", "occurrence_id": int(args[1])}
            reason = Incoming(channel, contacts[0].chat_id, "", text=" ".join(args[2:]))
            return return_with_reason(session, reason, contacts, state, now=now)
        return outcome
    claims = _claims(session, plan_ids)
    if not claims:
        return Outcome(messages=(message(channel, "confirm_none"),))
    shown = claims[:LIST_LIMIT]
    buttons = [
        [
            Button(f"✅ Xác nhận {c.occurrence.id}", f"c:ok:{c.occurrence.id}"),
            Button(f"↩️ Trả lại {c.occurrence.id}", f"c:ret:{c.occurrence.id}"),
        ]
        for c in shown
    ]
    items = [
        {
            "id": c.occurrence.id,
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
                channel, "confirm_list", buttons=buttons, items=items, more=len(claims) - len(shown)
            ),
        )
    )


def _note_of(session: Session, occurrence: Occurrence) -> str:
    """The note of the claim's report."""
    report = latest_report(session, occurrence.id)  # type: ignore[arg-type]
    return report.note if report is not None else ""


def button(
    session: Session, incoming: Incoming, contacts: list[Contact], data: str, *, now: datetime
) -> Outcome:
    """A confirm/return button, checked against the caller's plans."""
    match = BUTTON_RE.match(data)
    plan_ids = coordinated_plan_ids(session, contacts)
    if match is None or not plan_ids:
        return Outcome(
            messages=(message(incoming.channel, "stale_button"),), popup="Nút không hợp lệ."
        )
    return _act(session, incoming, contacts, plan_ids, match.group(1), int(match.group(2)), now)


def _act(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    plan_ids: set[int],
    action: str,
    occurrence_id: int,
    now: datetime,
) -> Outcome:
    """Confirm now, or ask for the reason of a return."""
    ch = incoming.channel
    claims = _claims(session, plan_ids, occurrence_id)
    if not claims:
        return Outcome(messages=(message(ch, "stale_button"),), popup="Không còn chờ xác nhận.")
    claim = claims[0]
    coordinator = next(c for c in contacts if c.role == "coordinator")
    if action == "ok":
        claim.occurrence.confirmed_at = now
        session.add(claim.occurrence)
        report = latest_report(session, occurrence_id)
        if report is not None:
            report.confirmed_at = now
            report.confirmed_by = coordinator.id
            session.add(report)
        text = message(ch, "confirmed", task_key=claim.task.key, unit_name=claim.unit.name)
        return Outcome(messages=(text,), popup="Đã xác nhận.")
    set_state(
        session,
        ch,
        incoming.chat_id,
        {"step": "return_reason", "occurrence_id": occurrence_id},
        now=now,
    )
    ask = message(ch, "ask_return_reason", task_key=claim.task.key, unit_name=claim.unit.name)
    return Outcome(messages=(ask,))


def return_with_reason(
    session: Session, incoming: Incoming, contacts: list[Contact], state: dict, *, now: datetime
) -> Outcome:
    """Return the claim: the assignment opens again and the unit's contacts are told why."""
    ch = incoming.channel
    clear_state(session, ch, incoming.chat_id)
    plan_ids = coordinated_plan_ids(session, contacts)
    claims = _claims(session, plan_ids, int(state.get("occurrence_id", 0)))
    reason = incoming.text.strip()[:500]
    if not claims or not reason:
        return Outcome(messages=(message(ch, "stale_button"),))
    claim = claims[0]
    report = latest_report(session, claim.occurrence.id)  # type: ignore[arg-type]
    if report is not None:
        report.returned_at = now
        report.return_reason = reason
        session.add(report)
    occurrence = claim.occurrence
    occurrence.status = "in_progress"
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
    _tell_unit(session, claim, reason, now)
    ack = message(ch, "returned_ack", task_key=claim.task.key, unit_name=claim.unit.name)
    return Outcome(messages=(ack,))


def _tell_unit(session: Session, claim: Claim, reason: str, now: datetime) -> None:
    """Queue the return notice to every contact of the unit."""
    contacts = session.exec(
        select(Contact).where(
            Contact.unit_id == claim.unit.id, Contact.role == "contact", Contact.reachable
        )
    ).all()
    rows = [
        {
            "key": f"returned:{claim.occurrence.id}:{now.timestamp():.0f}:{contact.id}",
            "contact_id": contact.id,
            "occurrence_id": claim.occurrence.id,
            "kind": "notice",
            "step": "returned",
            "planned_for": now,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "text": say(
                contact.channel,
                "returned_notice",
                plan=claim.plan.number or claim.plan.code,
                task_key=claim.task.key,
                task_title=claim.task.title[:200],
                unit_name=claim.unit.name,
                reason=reason,
            ),
        }
        for contact in contacts
    ]
    insert_ignore(session, Outbox, rows)
