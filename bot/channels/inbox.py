"""The one shared inbound loop: update → stored row → conversation → replies sent → usage counted.

A webhook's update is first stored as it came (one short transaction, deduplicated by channel and
update key, `handled_at` NULL) and answered 200 only after that commit, so a crash can no longer
lose an update the platform will not resend. Each channel then has one lane, a worker that handles
its updates in arrival order: it claims the stored row and runs the conversation in one
transaction (`handle_stored`), so a row is handled once even by two processes. A polled update
has already been taken off the platform and nobody waits for an answer in between: the lane
stores and handles it in one transaction (`handle_incoming`), no extra write on the hot path. A
busy database is retried with backoff, never dropped. A lane starts with the rows an earlier run
left unhandled, oldest first, and rows left behind later (by a process that died) are picked up
by `resume`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bot.channels.inbound import StoreFailed, count_sent, is_busy, set_aside, store, unhandled
from bot.channels.seam import Channel
from chat.messages import SendError
from handlers.conversation import handle_incoming, handle_stored
from handlers.state import PENDING_TTL
from handlers.types import Incoming, Outcome

logger = logging.getLogger(__name__)

STORE_ATTEMPTS = 3  # a webhook's store: then 503, and the platform sends the update again
STORE_LOCK_WAIT = 1.0  # seconds one store attempt waits for a locked database
FIRST_BACKOFF = 0.2
MAX_BACKOFF = 30.0
RESUME_EVERY = 60.0  # seconds between looks for rows another process left unhandled
RESUME_AFTER = timedelta(minutes=1)  # younger rows may still be in a live process's lane
STOP_GRACE = 10.0  # seconds a stop waits for the update in hand to be answered

T = TypeVar("T")
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Item:
    """A stored update waiting in its lane, and who waits for it to be handled."""

    update_key: str
    raw: dict[str, Any]
    incoming: Incoming | None = None  # parsed in the lane when the row comes from the database
    done: asyncio.Future[None] | None = None
    stored: bool = True  # False: polled, stored by the transaction that handles it


@dataclass
class _Lane:
    """One channel's worker and its queue."""

    channel: Channel
    queue: asyncio.Queue[_Item] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    current: asyncio.Future[None] | None = None  # the update being handled


class Inbox:
    """Stores every update before it is answered and handles each stored row once."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,  # the wait between retries
        store_lock_wait: float = STORE_LOCK_WAIT,
        pending_ttl: timedelta = PENDING_TTL,
    ) -> None:
        self.engine = engine
        self.pending_ttl = pending_ttl
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.store_lock_wait = store_lock_wait
        self._lanes: dict[str, _Lane] = {}
        self._pending: set[tuple[str, str]] = set()  # in a lane or being handled
        self._resumer: asyncio.Task[None] | None = None
        self._closed = False  # stopped: updates are still stored, handled after the next start

    def add(self, channel: Channel) -> None:
        """Serve a channel (its lane starts with the first update, or with `start`)."""
        self._lanes[channel.name] = _Lane(channel)

    async def start(self) -> None:
        """Start every lane (each resumes its leftovers first) and the periodic resume."""
        self._closed = False
        for lane in self._lanes.values():
            self._started(lane)
        self._resumer = asyncio.create_task(self._resume_periodically())

    async def stop(self) -> None:
        """Stop the lanes; what they had not handled stays stored for the next start."""
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if self._resumer is not None:
            tasks.append(self._resumer)
        self._closed = True
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for lane in self._lanes.values():
            lane.task = None
            if lane.current is not None:  # let the answer in hand go out, within a grace
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(lane.current, STOP_GRACE)
            while not lane.queue.empty():  # stored: handled after the next start
                waiting = lane.queue.get_nowait().done
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
        self._pending.clear()
        self._resumer = None

    async def accept(self, channel: str, raw: dict[str, Any]) -> None:
        """A webhook's update: returns once it is stored (handled later); StoreFailed if not."""
        lane = self._lanes[channel]
        incoming = self._parse(lane.channel, raw)
        if incoming is None:
            return
        try:
            stored = await self._retrying(
                "store",
                incoming.update_key,
                lambda: store(
                    self.engine, incoming, raw, now=self.clock(), lock_wait=self.store_lock_wait
                ),
                attempts=STORE_ATTEMPTS,
            )
        except Exception as exc:
            if is_busy(exc):
                raise StoreFailed(f"{channel} update {incoming.update_key} not stored") from exc
            raise
        if stored:
            self._enqueue(lane, _Item(incoming.update_key, raw, incoming))

    async def receive(
        self, channel: str, raw: dict[str, Any], incoming: Incoming | None = None
    ) -> None:
        """A polled update: stored and handled in its lane, before this returns."""
        lane = self._lanes[channel]
        incoming = incoming or self._parse(lane.channel, raw)
        if incoming is None:
            return
        done = asyncio.get_running_loop().create_future()
        item = _Item(incoming.update_key, raw, incoming, done, stored=False)
        if self._enqueue(lane, item):
            await done

    @staticmethod
    def _parse(channel: Channel, raw: dict[str, Any]) -> Incoming | None:
        """The update's Incoming; None, with a warning, for one the channel cannot read."""
        try:
            return channel.parse(raw)
        except Exception as exc:  # a platform's odd body must not be resent forever
            logger.warning("unreadable %s update ignored (%s)", channel.name, type(exc).__name__)
            return None

    async def resume(self, *, before: datetime) -> int:
        """Queue the unhandled rows received before `before`; return how many were queued."""
        queued = 0
        for lane in self._lanes.values():
            name = lane.channel.name
            rows = await asyncio.to_thread(unhandled, self.engine, channel=name, before=before)
            for key, raw in rows:
                if (name, key) not in self._pending and self._enqueue(lane, _Item(key, raw)):
                    queued += 1
        if queued:
            logger.info("%d stored updates resumed", queued)
        return queued

    def _enqueue(self, lane: _Lane, item: _Item) -> bool:
        """Put a stored update in its channel's lane; False once the inbox is stopped."""
        if self._closed:
            return False
        self._pending.add((lane.channel.name, item.update_key))
        lane.queue.put_nowait(item)
        self._started(lane)
        return True

    def _started(self, lane: _Lane) -> None:
        """The lane's worker, started on first use."""
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._work(lane))

    async def _work(self, lane: _Lane) -> None:
        """Handle the rows an earlier run left, oldest first, then the queue, one at a time."""
        name = lane.channel.name
        rows = await self._retrying("resume", "-", lambda: unhandled(self.engine, channel=name))
        if rows:
            logger.info("%d stored %s updates left unhandled: handling them first", len(rows), name)
        for key, raw in rows:
            await self._process_in_lane(lane, _Item(key, raw))
        while True:
            await self._process_in_lane(lane, await lane.queue.get())

    async def _process_in_lane(self, lane: _Lane, item: _Item) -> None:
        """Process an item; stopping the lane does not cut it short (see `stop`)."""
        lane.current = asyncio.ensure_future(self._process(lane.channel, item))
        await asyncio.shield(lane.current)

    async def _process(self, channel: Channel, item: _Item) -> None:
        """Handle one stored update and send its answer; errors are logged, never raised."""
        try:
            incoming = item.incoming or self._parse(channel, item.raw)
            if incoming is None or incoming.update_key != item.update_key:
                logger.warning("stored %s update %s unreadable", channel.name, item.update_key)
                await self._set_aside(channel.name, item.update_key)
                return
            await channel.show_working(incoming.chat_id)
            documents = await channel.fetch_documents(item.raw)  # outside the transaction
            if documents:
                incoming = replace(incoming, documents=documents)
            outcome = await self._handle(incoming, item)
            if outcome is not None:
                await self._answer(channel, incoming, item.raw, outcome)
        except Exception:
            logger.exception("error while handling %s update %s", channel.name, item.update_key)
            await self._set_aside(channel.name, item.update_key)
        finally:
            self._pending.discard((channel.name, item.update_key))
            if item.done is not None and not item.done.done():
                item.done.set_result(None)

    async def _handle(self, incoming: Incoming, item: _Item) -> Outcome | None:
        """Claim the row (or store a polled one) and run the conversation in one transaction."""

        def call() -> Outcome | None:
            now, ttl = self.clock(), self.pending_ttl
            if item.stored:  # None when another lane or process handled it first
                return handle_stored(self.engine, incoming, now=now, pending_ttl=ttl)
            return handle_incoming(
                self.engine, incoming, now=now, pending_ttl=ttl, payload=item.raw
            )

        return await self._retrying("handle", incoming.update_key, call)

    async def _answer(
        self, channel: Channel, incoming: Incoming, raw: dict[str, Any], outcome: Outcome
    ) -> None:
        """Send the outcome (a failed send is logged: the update was handled) and count it."""
        now = self.clock()
        await channel.acknowledge(raw, outcome.popup)
        sent = 0
        try:
            for message in outcome.messages:
                await channel.sender.send(incoming.chat_id, message)
                sent += 1
        except SendError as exc:
            logger.warning(
                "%s reply to chat %s not delivered: %s", channel.name, incoming.chat_id, exc
            )
        finally:
            if sent and channel.counts_usage:
                await asyncio.to_thread(
                    count_sent, self.engine, channel=channel.name, now=now, count=sent
                )

    async def _set_aside(self, channel: str, update_key: str) -> None:
        """A row that cannot be handled is marked done (the error is logged), not retried."""
        try:
            await asyncio.to_thread(
                set_aside, self.engine, channel=channel, update_key=update_key, now=self.clock()
            )
        except Exception:  # it stays unhandled: `resume` tries it again later
            logger.exception("could not set aside %s update %s", channel, update_key)

    async def _retrying(
        self,
        what: str,
        update_key: str,
        call: Callable[[], T],
        *,
        attempts: int | None = None,
    ) -> T:
        """Run `call` in a worker thread, again after a backoff while the database is busy."""
        delay = FIRST_BACKOFF
        attempt = 0
        while True:
            attempt += 1
            try:
                return await asyncio.to_thread(call)
            except Exception as exc:
                if not is_busy(exc) or (attempts is not None and attempt >= attempts):
                    raise
                logger.warning(
                    "database busy (%s) on %s of update %s; again in %.1f s",
                    type(exc.orig if isinstance(exc, DBAPIError) else exc).__name__,
                    what,
                    update_key,
                    delay,
                )
            await self.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)

    async def _resume_periodically(self) -> None:
        """Every minute, take over rows left unhandled for a while (e.g. by a dead process)."""
        while True:
            await asyncio.sleep(RESUME_EVERY)
            try:
                await self.resume(before=self.clock() - RESUME_AFTER)
            except Exception:
                logger.exception("resuming stored updates failed")
