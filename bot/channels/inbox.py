"""The one shared inbound loop: update → stored row → conversation → replies sent → usage counted.

Every update is stored before it is acknowledged: a webhook's alone, answered 200 only after that
commit; a polled batch in one transaction, before the poller asks for the next (which is what
tells the platform the batch arrived). A row is stored unhandled; each channel then has one
lane, a worker that handles its rows in arrival order, a group at a time: one hand-off to a
worker thread and one transaction for the group, each update claimed (`WHERE handled_at IS
NULL`) with its writes, so a row is handled once even by two processes. If the group fails it
is rolled back and its updates are handled one by one, each in its own transaction; one that
still fails is set aside. A busy database is retried with backoff, never dropped. Answers go out
once their transaction committed, several chats at once and each chat's in order
(bot/channels/answers.py), while the lane handles the next group; a crash loses the answers
not yet out (their updates stay handled), never sends one twice. A lane starts with the rows an
earlier run left unhandled, oldest first, and rows left behind later (by a process that died)
are picked up by `resume`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bot.channels.answers import Answers, patiently
from bot.channels.inbound import (
    StoreFailed,
    count_sent,
    is_busy,
    set_aside,
    store,
    store_many,
    unhandled,
)
from bot.channels.seam import Channel
from chat.messages import SendError
from handlers.conversation import handle_stored, handle_stored_group
from handlers.state import PENDING_TTL
from handlers.types import Incoming, Outcome

logger = logging.getLogger(__name__)

STORE_ATTEMPTS = 3  # a webhook's store: then 503, and the platform sends the update again
STORE_LOCK_WAIT = 1.0  # seconds one store attempt waits for a locked database
FIRST_BACKOFF = 0.2
MAX_BACKOFF = 30.0
RESUME_EVERY = 60.0  # seconds between looks for rows another process left unhandled
RESUME_AFTER = timedelta(minutes=1)  # younger rows may still be in a live process's lane
STOP_GRACE = 10.0  # seconds a stop waits for the answers in hand to go out
GROUP = 100  # updates handled in one transaction (a polled batch at most)
IN_FLIGHT = 16  # answers travelling at once, each to a different chat
LANE_ROOM = 2 * GROUP  # stored updates a lane holds before a poller waits to store more

T = TypeVar("T")
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
Stored = list[tuple[str, dict[str, Any]]]


@dataclass
class _Item:
    """A stored update waiting in its lane, and who waits for it to be answered."""

    update_key: str
    raw: dict[str, Any]
    incoming: Incoming | None = None  # parsed in the lane when the row comes from the database
    done: asyncio.Future[None] | None = None


@dataclass
class _Lane:
    """One channel's worker, its queue and its answers on the way."""

    channel: Channel
    queue: asyncio.Queue[_Item] = field(default_factory=asyncio.Queue)
    taken: asyncio.Event = field(default_factory=asyncio.Event)  # the worker took from the queue
    answers: Answers = field(default_factory=lambda: Answers(IN_FLIGHT))
    task: asyncio.Task[None] | None = None
    current: asyncio.Future[None] | None = None  # the group being handled


class Inbox:
    """Stores every update before it is acknowledged and handles each stored row once."""

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
            if lane.current is not None:  # let the group in hand finish, within a grace
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(lane.current, STOP_GRACE)
            await lane.answers.drain(STOP_GRACE)
            while not lane.queue.empty():  # stored: handled after the next start
                _finished(lane.queue.get_nowait())
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

    async def receive_batch(
        self, channel: str, raws: list[dict[str, Any]]
    ) -> list[asyncio.Future[None]]:
        """A polled batch: returns once it is stored, with a future per update for its answer."""
        lane = self._lanes[channel]
        parsed = [(incoming, raw) for raw in raws if (incoming := self._parse(lane.channel, raw))]
        if not parsed:
            return []
        keys = f"{parsed[0][0].update_key}…{parsed[-1][0].update_key}"
        new = await self._retrying(  # taken off the platform: retried until it is stored
            "store", keys, lambda: store_many(self.engine, parsed, now=self.clock())
        )
        loop = asyncio.get_running_loop()
        items = [
            _Item(incoming.update_key, raw, incoming, loop.create_future())
            for incoming, raw in parsed
            if incoming.update_key in new
        ]
        for item in items:
            if not self._enqueue(lane, item):
                _finished(item)  # stopped: handled after the next start
        while lane.queue.qsize() >= LANE_ROOM:  # the poller waits: memory stays bounded
            lane.taken.clear()
            await lane.taken.wait()
        return [item.done for item in items if item.done is not None]

    async def receive(self, channel: str, raw: dict[str, Any]) -> None:
        """A polled update: stored, handled and answered before this returns."""
        for answered in await self.receive_batch(channel, [raw]):
            await answered

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
        """Handle the rows an earlier run left, oldest first, then the queue, a group at a time."""
        name = lane.channel.name
        rows: Stored = await self._retrying(
            "resume", "-", lambda: unhandled(self.engine, channel=name)
        )
        if rows:
            logger.info("%d stored %s updates left unhandled: handling them first", len(rows), name)
        left = [_Item(key, raw) for key, raw in rows if (name, key) not in self._pending]
        self._pending.update((name, item.update_key) for item in left)  # not resumed twice
        for start in range(0, len(left), GROUP):
            await self._in_lane(lane, left[start : start + GROUP])
        while True:
            items = [await lane.queue.get()]
            while len(items) < GROUP and not lane.queue.empty():
                items.append(lane.queue.get_nowait())
            lane.taken.set()
            await self._in_lane(lane, items)

    async def _in_lane(self, lane: _Lane, items: list[_Item]) -> None:
        """Process a group; stopping the lane does not cut it short (see `stop`)."""
        # While the previous group's answers go out: the sending overlaps with this group's
        # handling, which waits for the database server much of its time (bench/RESULTS.md).
        # At most one group's answers wait besides those travelling: memory stays bounded.
        await lane.answers.room(GROUP + IN_FLIGHT)
        lane.current = asyncio.ensure_future(self._process(lane, items))
        await asyncio.shield(lane.current)

    async def _process(self, lane: _Lane, items: list[_Item]) -> None:
        """Handle a group of stored updates and post their answers; errors are logged."""
        channel = lane.channel
        ready = [(item, incoming) for item in items if (incoming := await self._ready(lane, item))]
        try:
            outcomes = await self._handle_group([incoming for _, incoming in ready])
        except BaseException:
            for item, _ in ready:
                self._finish(channel, item)
            raise
        for (item, incoming), outcome in zip(ready, outcomes, strict=True):
            if outcome is None:
                self._finish(channel, item)
            else:
                lane.answers.post(
                    incoming.chat_id, partial(self._answer, lane, item, incoming, outcome)
                )

    async def _ready(self, lane: _Lane, item: _Item) -> Incoming | None:
        """The update parsed, with its documents, the chat told; None (set aside) if unreadable."""
        channel = lane.channel
        try:
            incoming = item.incoming or self._parse(channel, item.raw)
            if incoming is None or incoming.update_key != item.update_key:
                logger.warning("stored %s update %s unreadable", channel.name, item.update_key)
                await self._set_aside(channel.name, item.update_key)
                self._finish(channel, item)
                return None
            await channel.show_working(incoming.chat_id)
            documents = await channel.fetch_documents(item.raw)  # outside the transaction
        except Exception:
            logger.exception("error while reading %s update %s", channel.name, item.update_key)
            await self._set_aside(channel.name, item.update_key)
            self._finish(channel, item)
            return None
        return replace(incoming, documents=documents) if documents else incoming

    async def _handle_group(self, incomings: list[Incoming]) -> list[Outcome | None]:
        """One transaction for the group; if it fails, each update alone (None: not answered)."""
        if len(incomings) > 1:
            now, ttl = self.clock(), self.pending_ttl
            try:
                return await self._retrying(
                    "handle",
                    f"{incomings[0].update_key}…{incomings[-1].update_key}",
                    lambda: handle_stored_group(self.engine, incomings, now=now, pending_ttl=ttl),
                )
            except Exception as exc:  # rolled back: find the one that fails
                logger.info("a group of %d updates failed (%r): one by one", len(incomings), exc)
        return [await self._handle_alone(incoming) for incoming in incomings]

    async def _handle_alone(self, incoming: Incoming) -> Outcome | None:
        """Claim and handle one update in its own transaction; None if handled before or failed."""

        def call() -> Outcome | None:
            return handle_stored(
                self.engine, incoming, now=self.clock(), pending_ttl=self.pending_ttl
            )

        try:
            return await self._retrying("handle", incoming.update_key, call)
        except Exception:
            logger.exception(
                "error while handling %s update %s", incoming.channel, incoming.update_key
            )
            await self._set_aside(incoming.channel, incoming.update_key)
            return None

    async def _answer(self, lane: _Lane, item: _Item, incoming: Incoming, outcome: Outcome) -> None:
        """Send the outcome (a failed send is logged: the update was handled) and count it."""
        channel, now, sent = lane.channel, self.clock(), 0
        try:
            await channel.acknowledge(item.raw, outcome.popup)
            for message in outcome.messages:
                await patiently(partial(channel.sender.send, incoming.chat_id, message))
                sent += 1
        except SendError as exc:
            logger.warning(
                "%s reply to chat %s not delivered: %s", channel.name, incoming.chat_id, exc
            )
        finally:
            try:
                if sent and channel.counts_usage:
                    await asyncio.to_thread(
                        count_sent, self.engine, channel=channel.name, now=now, count=sent
                    )
            finally:
                self._finish(channel, item)

    def _finish(self, channel: Channel, item: _Item) -> None:
        """The update is done with: no longer pending, its waiter told."""
        self._pending.discard((channel.name, item.update_key))
        _finished(item)

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


def _finished(item: _Item) -> None:
    """Tell whoever waits for the item that it is done with."""
    if item.done is not None and not item.done.done():
        item.done.set_result(None)
