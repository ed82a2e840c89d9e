"""The outbox: the one row constructor, claims, the outcome of each send, and stored files."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BindParameter, Row, bindparam, case, select, update
from sqlalchemy.engine import Dialect, Engine
from sqlmodel import Session, col

from storage.db import DriverStatement, insert_ignore, is_sqlite, session_scope, table_of
from storage.enums import OutboxState
from storage.models import Contact, Occurrence, Outbox, OutboxFile, Plan, Task, Unit
from storage.queries import with_occurrence_context

OUTBOX = table_of(Outbox)
CLAIM_ROWS = 500  # rows claimed at once; a dead worker's claims lapse (scheduler/lease.py)


def outbox_row(
    *,
    key: str,
    contact_id: int,
    kind: str,
    now: datetime,
    step: str = "",
    planned_for: datetime | None = None,
    occurrence_id: int | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """A pending row, due at `now`; its unique key makes queueing the same message twice a no-op."""
    return {
        "key": key,
        "contact_id": contact_id,
        "occurrence_id": occurrence_id,
        "kind": kind,
        "step": step,
        "planned_for": planned_for or now,
        "status": OutboxState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "text": text,
    }


def queue(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows built by `outbox_row`, skipping keys already queued; how many were new."""
    return insert_ignore(session, Outbox, rows)


def claim(
    session: Session,
    *,
    now: datetime,
    channels: Collection[str],
    worker: str,
    lease_until: datetime,
    limit: int = CLAIM_ROWS,
) -> list[Row[Any]]:
    """Claim due pending rows (id, kind, text, Contact) of these channels for `worker`.

    A contact's rows of one moment are adjacent, so a batch holds them together: when the batch
    is full, the last contact's rows wait for the next one, whole.
    """
    query = (
        select(col(Outbox.id), col(Outbox.kind), col(Outbox.text), Contact)
        .join(Contact, col(Contact.id) == col(Outbox.contact_id))
        .where(
            col(Outbox.status) == OutboxState.PENDING,
            col(Outbox.next_attempt_at) <= now,
            col(Contact.channel).in_(list(channels)),
        )
        .order_by(col(Outbox.next_attempt_at), col(Outbox.contact_id), col(Outbox.id))
        .limit(limit)
    )
    if not is_sqlite(session.get_bind()):
        query = query.with_for_update(skip_locked=True, of=Outbox)
    rows = list(session.execute(query).all())
    if len(rows) == limit and rows[0].Contact.id != rows[-1].Contact.id:
        cut = rows[-1].Contact.id
        rows = [row for row in rows if row.Contact.id != cut]
    if rows:
        session.connection().execute(
            CLAIM,
            {"rows": [row.id for row in rows], "at": now, "by": worker, "until": lease_until},
        )
    return rows


def reminder_details(session: Session, row_ids: Sequence[int]) -> dict[int, Row[Any]]:
    """What each claimed reminder row shows: its task, plan, unit and occurrence, by row id."""
    if not row_ids:
        return {}
    return {row.id: row for row in session.execute(DETAILS, {"rows": list(row_ids)})}


def files_of(session: Session, row_ids: Sequence[int]) -> dict[int, list[OutboxFile]]:
    """The stored files of outbox rows, in the order they were added."""
    found: dict[int, list[OutboxFile]] = defaultdict(list)
    if row_ids:
        query = select(OutboxFile).where(col(OutboxFile.outbox_id).in_(list(row_ids)))
        for file in session.execute(query.order_by(col(OutboxFile.id))).scalars():
            found[file.outbox_id].append(file)
    return found


def attach(session: Session, files: list[dict[str, Any]]) -> None:
    """Store files (outbox_id, filename, kind, content) with their rows."""
    if files:
        session.connection().execute(table_of(OutboxFile).insert(), files)


def set_status(session: Session, row_ids: Sequence[int], status: OutboxState) -> None:
    """Set the status of outbox rows."""
    if row_ids:
        session.execute(
            update(Outbox).where(col(Outbox.id).in_(list(row_ids))).values(status=status)
        )


def defer(engine: Engine, row_ids: Sequence[int], *, until: datetime, error: str) -> None:
    """Put claimed rows back to pending for a later pass, counting the failed attempt."""
    with session_scope(engine) as session:
        session.execute(
            update(Outbox)
            .where(col(Outbox.id).in_(list(row_ids)))
            .values(
                status=OutboxState.PENDING,
                next_attempt_at=until,
                attempts=col(Outbox.attempts) + 1,
                last_error=error,
                claimed_by=None,
            )
        )


def give_up_on(session: Session, contact: Contact, *, error: str) -> None:
    """The contact cannot be reached: mark it so, and drop what was still to send it."""
    session.execute(update(Contact).where(col(Contact.id) == contact.id).values(reachable=False))
    session.execute(
        update(Outbox)
        .where(
            col(Outbox.contact_id) == contact.id,
            col(Outbox.status).in_((OutboxState.PENDING, OutboxState.SENDING)),
        )
        .values(status=OutboxState.DEAD, last_error=error)
    )


class SentMarks:
    """Writes "sent" marks on one driver connection: those given together in one statement."""

    def __init__(self, connection: Any, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    def write(self, marks: Sequence[tuple[int, str | None]]) -> None:
        """Mark (row id, platform message id) pairs sent, committed when this returns."""
        values: dict[str, Any] = {}
        for index, (row, platform) in enumerate(marks):
            values[f"r{index}"], values[f"p{index}"] = row, platform
        # One statement on an autocommit connection: one round trip (storage/db.py).
        _mark_sent(self.dialect, len(marks)).execute(self.connection, values)


@lru_cache(maxsize=256)
def _mark_sent(dialect: Dialect, count: int) -> DriverStatement:
    """The mark of `count` rows, each with its platform message id, compiled once per size.

    sent_at is the pass's moment, already stored as claimed_at: no datetime to bind.
    """
    rows: list[BindParameter[int]] = [bindparam(f"r{index}") for index in range(count)]
    platform = case(
        *((OUTBOX.c.id == row, bindparam(f"p{index}")) for index, row in enumerate(rows))
    )
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(rows))
        .values(status=OutboxState.SENT, sent_at=OUTBOX.c.claimed_at, platform_message_id=platform)
    )
    return DriverStatement.compile(statement, dialect)


CLAIM = (
    update(OUTBOX)
    .where(OUTBOX.c.id.in_(bindparam("rows", expanding=True)))
    .values(
        status=OutboxState.SENDING,
        claimed_at=bindparam("at"),
        claimed_by=bindparam("by"),
        lease_until=bindparam("until"),
    )
)
# Columns, not entities: this runs for every claimed reminder row.
DETAILS = with_occurrence_context(
    select(
        col(Outbox.id),
        col(Outbox.kind),
        col(Occurrence.id).label("occurrence_id"),
        (col(Occurrence.active) & col(Task.active) & (col(Occurrence.status) != "done")).label(
            "open"
        ),
        col(Occurrence.status),
        col(Occurrence.percent),
        col(Occurrence.due_date),
        col(Task.position),
        col(Task.key),
        col(Task.title),
        col(Task.due_kind),
        col(Task.partners),  # named in the lead's reminder (scheduler/compose.py)
        col(Task.external_partners),
        col(Plan.number),
        col(Plan.code),
        col(Unit.name),
    ).join(Occurrence, col(Occurrence.id) == col(Outbox.occurrence_id))
).where(col(Outbox.id).in_(bindparam("rows", expanding=True)))
