"""Small keyword-only queries shared by the use-cases; each takes an explicit session."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage.models import (
    Assignment,
    GroupMember,
    MessageRef,
    Occurrence,
    Plan,
    Task,
    Unit,
    UnitGroup,
)


def units_by_code(*, session: Session) -> dict[str, Unit]:
    """Every unit, active or not, by code."""
    return {u.code: u for u in session.exec(select(Unit))}


def group_members(*, session: Session) -> dict[str, list[str]]:
    """Every group code → the codes of its active member units, in code order."""
    members: dict[str, list[str]] = {g.code: [] for g in session.exec(select(UnitGroup))}
    rows = session.exec(
        select(GroupMember.group_code, Unit.code)
        .join(Unit, col(Unit.id) == GroupMember.unit_id)
        .where(Unit.active)
        .order_by(Unit.code)
    )
    for group_code, unit_code in rows:
        members.setdefault(group_code, []).append(unit_code)
    return members


def names_by_code(*, session: Session, codes: Iterable[str]) -> dict[str, str]:
    """The names of units and groups by code (a group with no description: its code)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    groups = session.exec(
        select(UnitGroup.code, UnitGroup.name).where(col(UnitGroup.code).in_(wanted))
    )
    names = {code: name or code for code, name in groups}
    units = session.exec(select(Unit.code, Unit.name).where(col(Unit.code).in_(wanted)))
    return names | dict(units.all())


def plan_by_code(*, session: Session, code: str) -> Plan | None:
    """A plan by its code."""
    return session.exec(select(Plan).where(Plan.code == code)).first()


REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by hand
# Codes a user could mistake for (or the bot would read as) a command word.
RESERVED_CODES = frozenset({"HUY", "HELP", "XONG", "START", "STATUS", "XACNHAN", "SKIP", "DATHAN"})


def ensure_ref_code(
    *,
    session: Session,
    contact_id: int,
    occurrence_id: int,
    now: datetime,
    outbox_id: int | None = None,
) -> str:
    """The contact's short code for an occurrence: reused when it exists, created otherwise."""
    codes = ensure_ref_codes(
        session=session, wanted=[(contact_id, occurrence_id, outbox_id)], now=now
    )
    return codes[(contact_id, occurrence_id)]


def ensure_ref_codes(
    *, session: Session, wanted: Sequence[tuple[int, int, int | None]], now: datetime
) -> dict[tuple[int, int], str]:
    """Short codes for (contact, occurrence, outbox row) triples, in two statements."""
    contact_ids = sorted({c for c, _, _ in wanted})
    rows = session.exec(
        select(MessageRef.contact_id, MessageRef.code, MessageRef.occurrence_id).where(
            col(MessageRef.contact_id).in_(contact_ids)
        )
    ).all()
    codes = {(contact, occurrence): code for contact, code, occurrence in rows}
    taken: dict[int, set[str]] = defaultdict(set)
    for contact, code, _ in rows:
        taken[contact].add(code)
    fresh: list[dict[str, Any]] = []
    for contact, occurrence, outbox_id in wanted:
        if (contact, occurrence) in codes:
            continue
        code = _fresh_code(taken[contact])
        taken[contact].add(code)
        codes[(contact, occurrence)] = code
        fresh.append(
            {
                "code": code,
                "contact_id": contact,
                "occurrence_id": occurrence,
                "outbox_id": outbox_id,
                "created_at": now,
            }
        )
    if fresh:
        session.flush()  # pending ORM changes first, then one executemany
        session.connection().execute(insert(MessageRef), fresh)
    return codes


def _fresh_code(taken: set[str]) -> str:
    """A random code not in `taken`, three characters while they last."""
    length = 3
    while True:
        for _ in range(20):
            code = "".join(secrets.choice(REF_ALPHABET) for _ in range(length))
            if code not in taken and code not in RESERVED_CODES:
                return code
        length += 1


def with_occurrence_context(query: Any) -> Any:
    """Join an occurrence's assignment, task, plan and owner unit onto a query that has it."""
    return (
        query.join(Assignment, Assignment.id == Occurrence.assignment_id)
        .join(Task, Task.id == Assignment.task_id)
        .join(Plan, Plan.id == Task.plan_id)
        .join(Unit, Unit.id == Assignment.unit_id)
    )
