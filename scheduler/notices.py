"""Notices the tick plans beside reminders, each told once (the outbox key says so).

A partner unit ("phối hợp") that does not report is told when its part in a task starts: the
first reminder step of its occurrence. A retired unit's contacts are told that dondoc no longer
reminds it and where its open work went (plans/units_import.py `retire_unit`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlmodel import Session, col

from chat.messages import PLAIN, Capabilities
from chat.texts import say
from plans.clock import local_date
from storage.enums import MessageKind, Role
from storage.models import Contact, Occurrence, Outbox, Plan, Task, Unit
from storage.outbox import outbox_row
from storage.queries import names_by_code, with_occurrence_context

# A unit retired longer ago than this is not announced any more (a tick that ran late still is).
RETIRED_NOTICE_DAYS = 14
PARTNER_STEP = "partner"
RETIRED_STEP = "retired"

# What a channel shows, by name: the dispatcher's senders say (scheduler/dispatcher.py).
ShowsOf = Callable[[str], Capabilities]


def plain(channel: str) -> Capabilities:
    """Plain text for every channel: for callers that have no senders."""
    return PLAIN


@dataclass(frozen=True)
class PartnerStep:
    """A reminder step reached by an occurrence of a partner that does not report."""

    occurrence_id: int
    assignment_id: int
    unit_id: int


def partner_notices(
    session: Session, steps: Sequence[PartnerStep], *, now: datetime, shows_of: ShowsOf = plain
) -> list[dict[str, Any]]:
    """One notice per partner contact and task: the task, its lead units and its due date."""
    if not steps:
        return []
    details = {
        row.id: row
        for row in session.execute(
            with_occurrence_context(
                select(
                    col(Occurrence.id),
                    col(Occurrence.due_date),
                    col(Task.key),
                    col(Task.title),
                    col(Task.owners),
                    col(Task.owner_code),
                    col(Plan.number),
                    col(Plan.code),
                    col(Unit.name),
                )
            ).where(col(Occurrence.id).in_([s.occurrence_id for s in steps]))
        )
    }
    contacts = _contacts(session, {s.unit_id for s in steps})
    owners = {row.id: row.owners or [row.owner_code] for row in details.values()}
    names = names_by_code(session=session, codes=[c for codes in owners.values() for c in codes])
    rows = []
    for step in steps:
        row = details[step.occurrence_id]
        for contact_id, channel in contacts.get(step.unit_id, ()):
            text = say(
                shows_of(channel),
                "partner_notice",
                plan_label=f"Kế hoạch {row.number or row.code}",
                task_key=row.key,
                title=row.title,
                owners=[names.get(code, code) for code in owners[row.id]],
                unit_name=row.name,
                due_date=row.due_date,
                today=local_date(now),
            )
            rows.append(
                outbox_row(
                    key=f"{PARTNER_STEP}:{step.assignment_id}:{contact_id}",
                    contact_id=contact_id,
                    kind=MessageKind.NOTICE,
                    step=PARTNER_STEP,
                    occurrence_id=step.occurrence_id,
                    text=text,
                    now=now,
                )
            )
    return rows


def retirement_notices(
    session: Session, *, now: datetime, shows_of: ShowsOf = plain
) -> list[dict[str, Any]]:
    """One notice per contact of a recently retired unit that has not had it."""
    since = local_date(now) - timedelta(days=RETIRED_NOTICE_DAYS)
    # The recently retired units first, on their own: one seek of `unit.retired_on`, and
    # nothing more on the days there are none. Joined to the contacts, SQLite's planner
    # (without ANALYZE figures) scanned every contact instead: 22 ms a tick at 100,000 units.
    retired = {
        row[0]: row
        for row in session.execute(
            select(col(Unit.id), col(Unit.name), col(Unit.merged_into), col(Unit.retired_on)).where(
                ~col(Unit.active), col(Unit.retired_on) >= since
            )
        )
    }
    if not retired:
        return []
    told = exists().where(
        col(Outbox.contact_id) == col(Contact.id), col(Outbox.step) == RETIRED_STEP
    )
    found = [
        (*retired[unit_id], contact_id, channel)
        for unit_id, contact_id, channel in session.execute(
            select(col(Contact.unit_id), col(Contact.id), col(Contact.channel))
            .where(col(Contact.unit_id).in_(list(retired)), col(Contact.reachable), ~told)
            .order_by(col(Contact.id))
        )
    ]
    successors = names_by_code(session=session, codes=[r[2] for r in found if r[2]])
    return [
        outbox_row(
            key=f"{RETIRED_STEP}:{unit_id}:{contact_id}",
            contact_id=contact_id,
            kind=MessageKind.NOTICE,
            step=RETIRED_STEP,
            text=say(
                shows_of(channel),
                "unit_retired",
                unit_name=name,
                successor=successors.get(merged_into) if merged_into else None,
                day=retired_on,
            ),
            now=now,
        )
        for unit_id, name, merged_into, retired_on, contact_id, channel in found
    ]


def _contacts(session: Session, unit_ids: set[int]) -> dict[int, list[tuple[int, str]]]:
    """unit id → (id, channel) of its reachable contacts."""
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = session.execute(
        select(col(Contact.unit_id), col(Contact.id), col(Contact.channel)).where(
            col(Contact.unit_id).in_(sorted(unit_ids)),
            col(Contact.role) == Role.CONTACT,
            col(Contact.reachable),
        )
    )
    for unit_id, contact_id, channel in rows:
        found[unit_id].append((contact_id, channel))
    return found
