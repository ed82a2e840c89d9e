"""Registration: redeem a single-use invite code from a chat (/start CODE or DK CODE)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select

from chat.messages import OutgoingMessage
from chat.texts import message
from handlers.invites import hash_code
from handlers.types import Incoming
from plans.clock import local_date
from storage.enums import ReportStatus, Role
from storage.models import Assignment, Contact, Invite, Occurrence, Unit

ROLE_LABELS = {
    Role.CONTACT: "đầu mối báo cáo",
    Role.HEAD: "lãnh đạo",
    Role.COORDINATOR: "văn phòng điều phối",
}
MAX_CODE = 64
# The redemption itself: of two chats redeeming one code at once, only one changes the row (on
# PostgreSQL the second waits for the first's commit, then finds used_at set).
CLAIM = (
    update(Invite)
    .where(col(Invite.id) == bindparam("invite"), col(Invite.used_at).is_(None))
    .values(used_at=bindparam("now"))
)
# A contact who registers late is chased for the unit's overdue work at the next tick: the tick
# sends only the latest step (plans/policy.py), and the outbox key spares the other contacts.
CHASE_OVERDUE = (
    update(Occurrence)
    .where(
        col(Occurrence.assignment_id).in_(
            select(col(Assignment.id)).where(
                col(Assignment.unit_id) == bindparam("unit"), col(Assignment.active)
            )
        ),
        col(Occurrence.active),
        col(Occurrence.status) != ReportStatus.DONE,
        col(Occurrence.due_date) < bindparam("today"),
        # Only ever earlier: a tick already due to look at it keeps its (earlier) time.
        or_(
            col(Occurrence.next_reminder_at).is_(None),
            col(Occurrence.next_reminder_at) > bindparam("look_at"),
        ),
    )
    .values(next_reminder_at=bindparam("look_at"))
)


def redeem_invite(
    session: Session, incoming: Incoming, code: str, *, now: datetime
) -> OutgoingMessage:
    """Register the chat with the invite's unit and role, if the code is valid."""
    ch, shows = incoming.channel, incoming.capabilities
    invite = None
    if len(code) <= MAX_CODE:
        invite = session.exec(select(Invite).where(Invite.code_hash == hash_code(code))).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return message(shows, "invalid_code")
    unit = session.get(Unit, invite.unit_id)
    if unit is None or unit.id is None or not unit.active:
        return message(shows, "invalid_code")
    if session.connection().execute(CLAIM, {"invite": invite.id, "now": now}).rowcount != 1:
        return message(shows, "invalid_code")  # another chat redeemed it since it was read
    contact = session.exec(
        select(Contact).where(
            Contact.channel == ch,
            Contact.chat_id == incoming.chat_id,
            Contact.unit_id == unit.id,
            Contact.role == invite.role,
        )
    ).first()
    if contact is None:
        contact = Contact(
            channel=ch,
            chat_id=incoming.chat_id,
            unit_id=unit.id,
            role=invite.role,
            display_name=incoming.user_name[:120],
            created_at=now,
        )
    contact.reachable = True
    session.add(contact)
    session.flush()
    invite.used_at = now
    invite.used_by = contact.id
    session.add(invite)
    if invite.role == Role.CONTACT:
        session.connection().execute(
            CHASE_OVERDUE, {"unit": unit.id, "today": local_date(now), "look_at": now}
        )
    return message(
        shows,
        "welcome",
        unit_name=unit.name,
        role=invite.role,
        role_label=ROLE_LABELS[invite.role],
    )
