"""A contact that blocked the bot: stop writing to it and tell the coordinators, once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from chat.messages import Capabilities
from chat.templates import render
from storage.db import session_scope, stored_id
from storage.enums import MessageKind, Role
from storage.models import Assignment, Contact, Occurrence, Outbox, Plan, Task, Unit
from storage.outbox import give_up_on, outbox_row, queue

logger = logging.getLogger(__name__)


def contact_lost(
    engine: Engine,
    contact: Contact,
    row_ids: Sequence[int],
    *,
    now: datetime,
    error: str,
    capabilities: Callable[[str], Capabilities],
) -> None:
    """Mark the contact unreachable, drop its queued rows, tell the coordinators of their plans."""
    logger.warning("contact %s unreachable on %s", contact.id, contact.channel)
    with session_scope(engine) as session:
        give_up_on(session, contact, error=error)
        _notify_coordinators(session, contact, row_ids, now, capabilities)


def _notify_coordinators(
    session: Session,
    contact: Contact,
    row_ids: Sequence[int],
    now: datetime,
    capabilities: Callable[[str], Capabilities],
) -> None:
    """Queue the notices; the key makes a second loss of the same contact add nothing."""
    unit = session.get(Unit, contact.unit_id)
    coordinator_codes = set(
        session.exec(
            select(col(Plan.coordinator_code))
            .join(Task, col(Task.plan_id) == col(Plan.id))
            .join(Assignment, col(Assignment.task_id) == col(Task.id))
            .join(Occurrence, col(Occurrence.assignment_id) == col(Assignment.id))
            .join(Outbox, col(Outbox.occurrence_id) == col(Occurrence.id))
            .where(col(Outbox.id).in_(list(row_ids)))
            .distinct()
        ).all()
    )
    coordinators = session.exec(
        select(Contact)
        .join(Unit, col(Unit.id) == col(Contact.unit_id))
        .where(
            col(Unit.code).in_(coordinator_codes),
            col(Contact.role) == Role.COORDINATOR,
            col(Contact.reachable),
        )
    ).all()
    rows = [
        outbox_row(
            key=f"unreachable:{contact.id}:{coordinator.id}",
            contact_id=stored_id(coordinator),
            kind=MessageKind.NOTICE,
            step="unreachable",
            now=now,
            text=render(
                _template(capabilities(coordinator.channel)),
                unit_name=unit.name if unit else "",
                contact_name=contact.display_name,
                channel=contact.channel,
            ),
        )
        for coordinator in coordinators
    ]
    queue(session, rows)


def _template(capabilities: Capabilities) -> str:
    """The notice's template for a channel: HTML or plain text."""
    return "unreachable.html.j2" if capabilities.html else "unreachable.txt.j2"
