"""Send pending outbox rows through the channel senders, safely under crashes and rate limits."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from plans.clock import local_date
from plans.messages import (
    HTML_CHANNELS,
    OutgoingMessage,
    RetryAfter,
    Sender,
    SendError,
    Unreachable,
    to_plain,
)
from plans.policy import in_quiet_hours
from plans.redact import redact
from plans.reminder_text import ReminderItem, reminder_messages
from plans.render import render
from scheduler.digest import render_digest
from scheduler.lease import Lease
from scheduler.ratelimit import RateLimiter
from storage.db import (
    DriverStatement,
    driver_connection,
    insert_ignore,
    is_sqlite,
    session_scope,
)
from storage.models import (
    Assignment,
    Contact,
    Occurrence,
    Outbox,
    Plan,
    SentCounter,
    Task,
    Unit,
)
from storage.queries import ensure_ref_codes, with_occurrence_context

logger = logging.getLogger(__name__)

REMINDER_KINDS = ("reminder", "checkin", "escalation")
INLINE_RETRIES = 4  # transient failures retried inside one pass before the row waits for the next
LONG_WAIT = 60.0  # a 429 asking for longer than this is left to a later pass
RETRY_LATER = timedelta(minutes=25)  # after INLINE_RETRIES failures, the row waits this long
CLAIM_ROWS = 500  # rows claimed at once; a dead worker's claims lapse (scheduler/lease.py)
MAX_ERROR = 500  # characters of an error kept in outbox.last_error
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]


def worker_identity() -> str:
    """host:pid:nonce — who holds a claim; unique per worker, even under a reused PID."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class DispatchResult:
    """What one dispatch pass did."""

    sent: int = 0
    messages: int = 0
    retried: int = 0
    unreachable: int = 0
    skipped: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)
    by_channel: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Claimed:
    """The rows of one outgoing message, claimed by this worker."""

    contact: Contact
    row_ids: tuple[int, ...]
    kind: str
    text: str | None


@dataclass(frozen=True)
class Job:
    """A claimed message, rendered: its parts, each with the rows marked sent once it is out."""

    contact: Contact
    parts: list[tuple[OutgoingMessage, list[int]]]

    @property
    def row_ids(self) -> list[int]:
        """Every row of the job."""
        return [i for _, ids in self.parts for i in ids]


class Dispatcher:
    """Claims pending outbox rows, renders them, sends them and records the outcome."""

    def __init__(
        self,
        engine: Engine,
        senders: dict[str, Sender],
        *,
        limiter: RateLimiter,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_sent: Callable[[Contact, OutgoingMessage], None] | None = None,
        concurrency: int = 1,
        zalo_quota: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # One message in flight keeps the crash promise: a SIGKILL repeats at most that one.
        # More overlap HTTP round-trips (and can repeat up to `concurrency` after a crash).
        self.concurrency = max(concurrency, 1)
        self.zalo_quota = zalo_quota
        self.engine = engine
        self.senders = senders
        self.limiter = limiter
        self.sleep = sleep
        self.on_sent = on_sent
        self.worker = worker_identity()
        self.lease = Lease(engine, self.worker, monotonic=monotonic)
        self.mark_sent = DriverStatement.compile(MARK_SENT, engine.dialect)

    async def dispatch(self, *, now: datetime) -> DispatchResult:
        """Send everything pending whose time has come (outside quiet hours)."""
        result = DispatchResult()
        if in_quiet_hours(now) or not self.senders:
            return result
        reclaimed = self.lease.begin(now)
        if reclaimed:
            logger.warning("%s lapsed or leftover claims queued again", reclaimed)
        gate = asyncio.Semaphore(self.concurrency)

        async def deliver(job: Job, marks: Any) -> None:
            async with gate:
                await self._deliver(job, now, result, marks)

        with driver_connection(self.engine) as marks:  # records every sent message
            while True:
                jobs = self._claim(now, result)
                if not jobs:
                    break
                before = Counter(result.by_channel)
                if self.concurrency == 1:
                    for job in jobs:
                        await self._deliver(job, now, result, marks)
                else:
                    await asyncio.gather(*(deliver(job, marks) for job in jobs))
                with session_scope(self.engine) as session:  # quota counters, once per batch
                    for channel, count in (result.by_channel - before).items():
                        count_sent(session, channel, now, count)
        return result

    def _claim(self, now: datetime, result: DispatchResult) -> list[Job]:
        """Claim and render a batch of due rows: each contact's due reminders in one message."""
        with session_scope(self.engine) as session:
            query = (
                select(Outbox.id, Outbox.kind, Outbox.text, Contact)
                .join(Contact, Contact.id == Outbox.contact_id)
                .where(
                    Outbox.status == "pending",
                    Outbox.next_attempt_at <= now,  # type: ignore[operator]
                    Contact.channel.in_(list(self.senders)),  # type: ignore[attr-defined]
                )
                # A contact's rows of one moment are adjacent, so a batch holds them together.
                .order_by(Outbox.next_attempt_at, Outbox.contact_id, Outbox.id)  # type: ignore[arg-type]
                .limit(CLAIM_ROWS)
            )
            if not is_sqlite(self.engine):
                query = query.with_for_update(skip_locked=True, of=Outbox)  # type: ignore[arg-type]
            rows = session.execute(query).all()
            if len(rows) == CLAIM_ROWS and rows[0].Contact.id != rows[-1].Contact.id:
                cut = rows[-1].Contact.id  # its rows may go on past the batch: next time, whole
                rows = [row for row in rows if row.Contact.id != cut]
            batch: list[Claimed] = []
            reminders: dict[int, list[int]] = {}
            contacts: dict[int, Contact] = {}
            for row_id, kind, text, contact in rows:
                if kind in REMINDER_KINDS:
                    contacts[contact.id] = contact
                    reminders.setdefault(contact.id, []).append(row_id)
                else:
                    batch.append(Claimed(contact, (row_id,), kind, text))
            batch += [
                Claimed(contacts[contact_id], tuple(ids), "reminder", None)
                for contact_id, ids in reminders.items()
            ]
            if rows:
                session.connection().execute(
                    CLAIM,
                    {
                        "rows": [row.id for row in rows],
                        "at": now,
                        "by": self.worker,
                        "until": self.lease.claimed(),
                    },
                )
            return self._render_batch(session, batch, now, result)

    async def _deliver(self, job: Job, now: datetime, result: DispatchResult, marks: Any) -> None:
        """Send a job part by part; each part's rows are marked sent as soon as it is out."""
        for index, (message, row_ids) in enumerate(job.parts):
            try:
                platform_id = await self._send(job.contact, message, result)
            except RetryAfter as exc:
                self._defer(job.parts[index:], now + timedelta(seconds=exc.seconds), _text(exc))
                result.deferred += 1
                return
            except Unreachable as exc:
                self._mark_unreachable(job.contact, job.row_ids, now, _text(exc))
                result.unreachable += 1
                return
            except SendError as exc:
                self._defer(job.parts[index:], now + RETRY_LATER, _text(exc))
                result.deferred += 1
                result.errors.append(_text(exc))
                return
            # Committed before the next message leaves: a crash repeats at most the one in flight.
            for row_id in row_ids:
                self.mark_sent.execute(marks, {"row": row_id, "platform": platform_id})
            marks.commit()
            result.sent += len(row_ids)
            result.messages += 1
            result.by_channel[job.contact.channel] += 1

    async def _send(
        self, contact: Contact, message: OutgoingMessage, result: DispatchResult
    ) -> str | None:
        """Send one message, waiting out short 429s and retrying transient failures a few times."""
        sender = self.senders[contact.channel]
        attempt = 0
        while True:
            self.lease.keep()  # however long the pass runs, no one takes the rows it holds
            await self.limiter.wait(f"{contact.channel}:{contact.chat_id}")
            try:
                platform_id = await sender.send(contact.chat_id, message)
            except RetryAfter as exc:
                attempt += 1
                result.retried += 1
                if exc.seconds > LONG_WAIT or attempt > INLINE_RETRIES:
                    raise
                await self.sleep(exc.seconds)
                continue
            except Unreachable:
                raise
            except SendError:
                attempt += 1
                result.retried += 1
                if attempt > INLINE_RETRIES:
                    raise
                await self.sleep(0.2 * 2 ** (attempt - 1))
                continue
            if self.on_sent:
                self.on_sent(contact, message)
            return platform_id

    def _render_batch(
        self, session: Session, batch: list[Claimed], now: datetime, result: DispatchResult
    ) -> list[Job]:
        """Render a claimed batch with a handful of queries, whatever its size."""
        reminder_ids = [i for c in batch if c.kind == "reminder" for i in c.row_ids]
        details = {row.id: row for row in session.execute(DETAILS, {"rows": reminder_ids})}
        dead = [i for i, row in details.items() if not row.open]
        if dead:
            _set_status(session, dead, "skipped")
            result.skipped += len(dead)
        wanted = [
            (c.contact.id, details[i].occurrence_id, i)
            for c in batch
            for i in c.row_ids
            if i in details and i not in dead and details[i].kind != "escalation"
        ]
        codes = ensure_ref_codes(session=session, wanted=wanted, now=now)  # type: ignore[arg-type]
        jobs: list[Job] = []
        for claimed in batch:
            sender = self.senders[claimed.contact.channel]
            if claimed.kind == "digest":
                digest = render_digest(
                    session, claimed.text or "", now=now, zalo_quota=self.zalo_quota
                )
                if sender.channel not in HTML_CHANNELS:
                    digest = [replace(m, text=to_plain(m.text)) for m in digest]
                # The row counts as sent with the digest's last part (its chart follows the text).
                parts = [(m, []) for m in digest[:-1]] + [(digest[-1], list(claimed.row_ids))]
                jobs.append(Job(claimed.contact, parts))
                continue
            if claimed.kind != "reminder":
                message = OutgoingMessage(text=claimed.text or "")
                jobs.append(Job(claimed.contact, [(message, list(claimed.row_ids))]))
                continue
            live = [i for i in claimed.row_ids if i in details and i not in dead]
            live.sort(key=lambda i: (details[i].due_date or date.max, details[i].position))
            entries = [(i, _item(claimed.contact, details[i], codes)) for i in live]
            if entries:
                parts = reminder_messages(sender.channel, entries, local_date(now))
                jobs.append(Job(claimed.contact, parts))
        return jobs

    def _defer(
        self, parts: list[tuple[OutgoingMessage, list[int]]], until: datetime, error: str
    ) -> None:
        """Put the rows of the parts not sent back to pending for a later pass."""
        row_ids = [i for _, ids in parts for i in ids]
        with session_scope(self.engine) as session:
            session.execute(
                update(Outbox)
                .where(Outbox.id.in_(row_ids))  # type: ignore[union-attr]
                .values(
                    status="pending",
                    next_attempt_at=until,
                    attempts=Outbox.attempts + 1,
                    last_error=error,
                    claimed_by=None,
                )
            )

    def _mark_unreachable(
        self, unreachable: Contact, row_ids: list[int], now: datetime, error: str
    ) -> None:
        """403: stop writing to this chat and tell the coordinators, once."""
        logger.warning("contact %s unreachable on %s", unreachable.id, unreachable.channel)
        with session_scope(self.engine) as session:
            contact = session.get(Contact, unreachable.id)
            assert contact is not None
            contact.reachable = False
            session.add(contact)
            session.execute(
                update(Outbox)
                .where(
                    Outbox.contact_id == contact.id,
                    Outbox.status.in_(("pending", "sending")),  # type: ignore[attr-defined]
                )
                .values(status="dead", last_error=error)
            )
            _notify_coordinators(session, contact, row_ids, now)


CLAIM = (
    update(OUTBOX)
    .where(OUTBOX.c.id.in_(bindparam("rows", expanding=True)))
    .values(
        status="sending",
        claimed_at=bindparam("at"),
        claimed_by=bindparam("by"),
        lease_until=bindparam("until"),
    )
)
# sent_at is the pass's moment, already stored as claimed_at: no datetime to bind per message.
MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("row"))
    .values(status="sent", sent_at=OUTBOX.c.claimed_at, platform_message_id=bindparam("platform"))
)
# What a reminder line shows, for the claimed rows (columns, not entities: this runs per row).
DETAILS = with_occurrence_context(
    select(
        Outbox.id,
        Outbox.kind,
        Occurrence.id.label("occurrence_id"),  # type: ignore[union-attr]
        (Occurrence.active & Task.active & (Occurrence.status != "done")).label("open"),
        Occurrence.status,
        Occurrence.percent,
        Occurrence.due_date,
        Task.position,
        Task.key,
        Task.title,
        Task.due_kind,
        Plan.number,
        Plan.code,
        Unit.name,
    ).join(Occurrence, Occurrence.id == Outbox.occurrence_id)
).where(Outbox.id.in_(bindparam("rows", expanding=True)))  # type: ignore[union-attr]


def _item(contact: Contact, row: Row[Any], codes: dict[tuple[int, int], str]) -> ReminderItem:
    """One task line of a reminder."""
    escalation = row.kind == "escalation"
    return ReminderItem(
        code="" if escalation else codes[(contact.id, row.occurrence_id)],  # type: ignore[index]
        plan_label=f"Kế hoạch {row.number or row.code}",
        task_key=row.key,
        task_title=row.title,
        unit_name=row.name,
        due_date=row.due_date,
        due_kind=row.due_kind,
        escalation=escalation,
        status=row.status,
        percent=row.percent,
    )


def _text(exc: SendError) -> str:
    """A send error as stored and reported: secrets masked (URLs carry tokens), then shortened."""
    return redact(str(exc))[:MAX_ERROR]


def _set_status(session: Session, row_ids: list[int], status: str) -> None:
    """Set the status of outbox rows."""
    session.execute(
        update(Outbox).where(Outbox.id.in_(row_ids)).values(status=status)  # type: ignore[union-attr]
    )


def count_sent(session: Session, channel: str, now: datetime, count: int) -> None:
    """Add to the channel's monthly sent-message counter."""
    month = local_date(now).strftime("%Y-%m")
    updated = session.execute(
        update(SentCounter)
        .where(SentCounter.channel == channel, SentCounter.month == month)
        .values(count=SentCounter.count + count)
    )
    if not updated.rowcount:  # type: ignore[attr-defined]
        insert_ignore(session, SentCounter, [{"channel": channel, "month": month, "count": count}])


def _notify_coordinators(
    session: Session, contact: Contact, row_ids: list[int], now: datetime
) -> None:
    """Queue one notice per coordinator of the plans concerned that a contact is unreachable."""
    unit = session.get(Unit, contact.unit_id)
    coordinator_codes = set(
        session.exec(
            select(Plan.coordinator_code)
            .join(Task, Task.plan_id == Plan.id)
            .join(Assignment, Assignment.task_id == Task.id)
            .join(Occurrence, Occurrence.assignment_id == Assignment.id)
            .join(Outbox, Outbox.occurrence_id == Occurrence.id)
            .where(Outbox.id.in_(row_ids))  # type: ignore[union-attr]
            .distinct()
        ).all()
    )
    coordinators = session.exec(
        select(Contact)
        .join(Unit, Unit.id == Contact.unit_id)
        .where(
            Unit.code.in_(coordinator_codes),  # type: ignore[attr-defined]
            Contact.role == "coordinator",
            Contact.reachable,
        )
    ).all()
    rows = []
    for coordinator in coordinators:
        text = render(
            "unreachable.html.j2" if coordinator.channel == "telegram" else "unreachable.txt.j2",
            unit_name=unit.name if unit else "",
            contact_name=contact.display_name,
            channel=contact.channel,
        )
        rows.append(
            {
                "key": f"unreachable:{contact.id}:{coordinator.id}",
                "contact_id": coordinator.id,
                "kind": "notice",
                "step": "unreachable",
                "planned_for": now,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "text": text,
            }
        )
    insert_ignore(session, Outbox, rows)
