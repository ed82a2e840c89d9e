"""Send pending outbox rows through the channel senders, safely under crashes and rate limits.

A pass claims a batch (storage/outbox.py), reads what its messages show in the same short
transaction, renders them with none open (scheduler/compose.py), then sends with up to
`concurrency` messages in flight, each to a different chat: a chat's messages go one after the
other in one lane. A message stays in flight until its "sent" mark is committed (marks of
messages that come back together share a commit, scheduler/marks.py), so a crash repeats at most
`concurrency` messages, each to a different chat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from chat.messages import (
    PLAIN,
    Capabilities,
    OutgoingMessage,
    RetryAfter,
    Sender,
    SendError,
    Unreachable,
)
from plans.clock import local_date
from plans.policy import in_quiet_hours
from plans.redact import redact
from scheduler.compose import Job, read_claimed, render_jobs
from scheduler.lease import Lease
from scheduler.marks import MarkBatch
from scheduler.quota import count_sent
from scheduler.ratelimit import RateLimiter
from scheduler.unreachable import contact_lost
from storage.db import driver_connection, session_scope
from storage.models import Contact
from storage.outbox import SentMarks, claim, defer

logger = logging.getLogger(__name__)

INLINE_RETRIES = 4  # transient failures retried inside one pass before the row waits for the next
LONG_WAIT = 60.0  # a 429 asking for longer than this is left to a later pass
RETRY_LATER = timedelta(minutes=25)  # after INLINE_RETRIES failures, the row waits this long
MAX_ERROR = 500  # characters of an error kept in outbox.last_error


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


class Dispatcher:
    """Claims pending outbox rows, sends them and records the outcome."""

    def __init__(
        self,
        engine: Engine,
        senders: dict[str, Sender],
        *,
        limiter: RateLimiter,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_sent: Callable[[Contact, OutgoingMessage], None] | None = None,
        concurrency: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency = max(concurrency, 1)  # messages in flight: what a crash may repeat
        self.engine = engine
        self.senders = senders
        self.limiter = limiter
        self.sleep = sleep
        self.on_sent = on_sent
        self.worker = worker_identity()
        self.lease = Lease(engine, self.worker, monotonic=monotonic)

    def capabilities(self, channel: str) -> Capabilities:
        """What a channel can show: its sender's word, plain text without one."""
        sender = self.senders.get(channel)
        return sender.capabilities if sender is not None else PLAIN

    async def dispatch(self, *, now: datetime) -> DispatchResult:
        """Send everything pending whose time has come (outside quiet hours)."""
        result = DispatchResult()
        if in_quiet_hours(now) or not self.senders:
            return result
        reclaimed = self.lease.begin(now)
        if reclaimed:
            logger.warning("%s lapsed or leftover claims queued again", reclaimed)
        with driver_connection(self.engine) as connection:
            marks = MarkBatch(SentMarks(connection, self.engine.dialect))
            while jobs := self._claim(now, result):
                before = Counter(result.by_channel)
                await self._send_lanes(_lanes(jobs), now, result, marks)
                with session_scope(self.engine) as session:  # quota counters, once per batch
                    for channel, count in (result.by_channel - before).items():
                        count_sent(session, channel, now, count)
        return result

    def _claim(self, now: datetime, result: DispatchResult) -> list[Job]:
        """Claim a batch and read what it shows in one transaction; render once it is closed."""
        while True:
            with session_scope(self.engine) as session:
                rows = claim(
                    session,
                    now=now,
                    channels=list(self.senders),
                    worker=self.worker,
                    lease_until=self.lease.claimed(),
                )
                if not rows:
                    return []
                claimed = read_claimed(session, rows, now)
            result.skipped += claimed.skipped
            jobs = render_jobs(claimed, self.capabilities, local_date(now))
            if jobs:  # else every row of the batch was skipped: claim the next one
                return jobs

    async def _send_lanes(
        self, lanes: list[list[Job]], now: datetime, result: DispatchResult, marks: MarkBatch
    ) -> None:
        """Send the lanes side by side, each one's jobs in turn; `concurrency` in flight."""
        in_flight = InFlight(self.concurrency)

        async def lane(jobs: list[Job]) -> None:
            try:
                for job in jobs:
                    await self._deliver(job, now, result, marks, in_flight)
            except BaseException:
                in_flight.stopped = True  # no lane sends another message after a failure
                raise

        await _all_or_first_error([asyncio.ensure_future(lane(jobs)) for jobs in lanes])

    async def _deliver(
        self,
        job: Job,
        now: datetime,
        result: DispatchResult,
        marks: MarkBatch,
        in_flight: InFlight,
    ) -> None:
        """Send a job part by part; each part's rows are marked sent as soon as it is out."""
        for index, (message, row_ids) in enumerate(job.parts):
            try:
                await self._send(job.contact, message, row_ids, result, marks, in_flight)
            except RetryAfter as exc:
                defer(
                    self.engine, _ids(job.parts[index:]), until=_later(now, exc), error=_text(exc)
                )
                result.deferred += 1
                return
            except Unreachable as exc:
                contact_lost(
                    self.engine,
                    job.contact,
                    job.row_ids,
                    now=now,
                    error=_text(exc),
                    capabilities=self.capabilities,
                )
                result.unreachable += 1
                return
            except SendError as exc:
                defer(
                    self.engine, _ids(job.parts[index:]), until=now + RETRY_LATER, error=_text(exc)
                )
                result.deferred += 1
                result.errors.append(_text(exc))
                return
            result.sent += len(row_ids)
            result.messages += 1
            result.by_channel[job.contact.channel] += 1

    async def _send(
        self,
        contact: Contact,
        message: OutgoingMessage,
        row_ids: list[int],
        result: DispatchResult,
        marks: MarkBatch,
        in_flight: InFlight,
    ) -> None:
        """Send one message and mark it sent; short 429s and transient failures are retried."""
        sender = self.senders[contact.channel]
        chat = f"{contact.channel}:{contact.chat_id}"
        attempt = 0
        while True:
            await self.limiter.chat_free(chat)
            async with in_flight.slot():
                self.lease.keep()  # however long the pass runs, no one takes the rows it holds
                await self.limiter.wait(chat)
                try:
                    platform_id = await sender.send(contact.chat_id, message)
                except SendError as exc:
                    failure = exc
                else:
                    if self.on_sent:
                        self.on_sent(contact, message)
                    await marks.sent(row_ids, platform_id)  # in flight until committed
                    return
            if isinstance(failure, Unreachable):
                raise failure
            attempt += 1
            result.retried += 1
            if isinstance(failure, RetryAfter):
                if failure.seconds > LONG_WAIT or attempt > INLINE_RETRIES:
                    raise failure
                await self.sleep(failure.seconds)
            elif attempt > INLINE_RETRIES:
                raise failure
            else:
                await self.sleep(0.2 * 2 ** (attempt - 1))


class InFlight:
    """The places in flight of one pass; after a failure none is given out again."""

    def __init__(self, places: int) -> None:
        self.places = asyncio.Semaphore(places)
        self.stopped = False

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place while a message is sent and marked."""
        async with self.places:
            if self.stopped:
                raise asyncio.CancelledError  # the pass failed: end this lane quietly
            yield


def _lanes(jobs: Iterable[Job]) -> list[list[Job]]:
    """Jobs grouped by chat, in claim order: one lane's messages never overlap."""
    lanes: dict[tuple[str, str], list[Job]] = {}
    for job in jobs:
        lanes.setdefault((job.contact.channel, job.contact.chat_id), []).append(job)
    return list(lanes.values())


async def _all_or_first_error(tasks: list[asyncio.Future[None]]) -> None:
    """Wait for every task; on the first failure cancel the others and raise it."""
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error


def _ids(parts: list[tuple[OutgoingMessage, list[int]]]) -> list[int]:
    """The rows of the parts not sent."""
    return [i for _, ids in parts for i in ids]


def _later(now: datetime, exc: RetryAfter) -> datetime:
    """When a row the platform asked to wait for is tried again."""
    return now + timedelta(seconds=exc.seconds)


def _text(exc: SendError) -> str:
    """A send error as stored and reported: secrets masked (URLs carry tokens), then shortened."""
    return redact(str(exc))[:MAX_ERROR]
