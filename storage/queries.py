"""Small keyword-only queries shared by the use-cases; each takes an explicit session."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, select

from storage.models import Contact, GroupMember, MessageRef, Plan, Unit, UnitGroup


def units_by_code(*, session: Session) -> dict[str, Unit]:
    """Every unit, active or not, by code."""
    return {u.code: u for u in session.exec(select(Unit))}


def group_members(*, session: Session) -> dict[str, list[str]]:
    """Every group code → the codes of its active member units, in code order."""
    members: dict[str, list[str]] = {g.code: [] for g in session.exec(select(UnitGroup))}
    rows = session.exec(
        select(GroupMember.group_code, Unit.code)
        .join(Unit, Unit.id == GroupMember.unit_id)
        .where(Unit.active)
        .order_by(Unit.code)
    )
    for group_code, unit_code in rows:
        members.setdefault(group_code, []).append(unit_code)
    return members


def unit_groups(*, session: Session) -> dict[int, list[str]]:
    """unit id → its group codes."""
    found: dict[int, list[str]] = defaultdict(list)
    for member in session.exec(select(GroupMember)):
        found[member.unit_id].append(member.group_code)
    return found


def plan_by_code(*, session: Session, code: str) -> Plan | None:
    """A plan by its code."""
    return session.exec(select(Plan).where(Plan.code == code)).first()


def contacts_of_units(
    *, session: Session, unit_ids: Sequence[int], role: str
) -> dict[int, list[Contact]]:
    """Reachable contacts with `role` for each unit id."""
    found: dict[int, list[Contact]] = defaultdict(list)
    if not unit_ids:
        return found
    rows = session.exec(
        select(Contact).where(
            Contact.unit_id.in_(list(unit_ids)),  # type: ignore[union-attr]
            Contact.role == role,
            Contact.reachable,
        )
    )
    for contact in rows:
        found[contact.unit_id].append(contact)
    return found


REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by hand


def ensure_ref_code(
    *,
    session: Session,
    contact_id: int,
    occurrence_id: int,
    now: datetime,
    outbox_id: int | None = None,
) -> str:
    """The contact's short code for an occurrence: reused when it exists, created otherwise."""
    existing = session.exec(
        select(MessageRef.code).where(
            MessageRef.contact_id == contact_id, MessageRef.occurrence_id == occurrence_id
        )
    ).first()
    if existing is not None:
        return existing
    taken = set(session.exec(select(MessageRef.code).where(MessageRef.contact_id == contact_id)))
    length = 3
    while True:
        for _ in range(20):
            code = "".join(secrets.choice(REF_ALPHABET) for _ in range(length))
            if code not in taken:
                session.add(
                    MessageRef(
                        code=code,
                        contact_id=contact_id,
                        occurrence_id=occurrence_id,
                        outbox_id=outbox_id,
                        created_at=now,
                    )
                )
                session.flush()
                return code
        length += 1
