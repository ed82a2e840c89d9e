"""Answers out: several chats answered at once, each chat's answers in the order they were handled.

The inbound loop (bot/channels/inbox.py) posts an update's answer once its transaction has
committed and goes on handling the next updates while the answer travels, so the round trip to
the platform overlaps with the database work instead of adding to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chat.messages import RetryAfter, TransientSendError

logger = logging.getLogger(__name__)

Send = Callable[[], Awaitable[None]]
ATTEMPTS = 3  # tries of one reply message before it is logged as not delivered
LONGEST_WAIT = 30.0  # a 429 asking for longer than this is not waited for: the reply is dropped
TRANSIENT_PAUSE = 0.5  # seconds before the second try after a network failure (then twice that)


async def patiently(send: Callable[[], Awaitable[Any]]) -> None:
    """Send one message, waiting as the platform asks (429) or briefly after a network failure.

    Many answers travel at once, so a burst may meet the platform's global limit: its 429 is a
    request to wait, not a failure. The last failure is raised for the caller to log.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await send()
            return
        except RetryAfter as exc:
            if attempt == ATTEMPTS or exc.seconds > LONGEST_WAIT:
                raise
            await asyncio.sleep(exc.seconds)
        except TransientSendError:
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(TRANSIENT_PAUSE * attempt)


class Answers:
    """Answers in flight: at most `in_flight` at once, one chat's strictly one after another."""

    def __init__(self, in_flight: int) -> None:
        self._slots = asyncio.Semaphore(in_flight)
        self._last: dict[str, asyncio.Task[None]] = {}  # each chat's latest answer
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def post(self, chat: str, send: Send) -> None:
        """Send once the chat's earlier answers are out (whether they were delivered or not)."""
        task = asyncio.create_task(self._after(self._last.get(chat), send))
        self._last[chat] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(chat, done))

    async def room(self, most: int) -> None:
        """Wait until fewer than `most` answers are waiting or in flight."""
        while len(self._tasks) >= most:
            await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)

    async def drain(self, timeout: float) -> None:
        """Let the answers posted go out within `timeout`; cancel those still waiting then."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    async def _after(self, before: asyncio.Task[None] | None, send: Send) -> None:
        """Wait for the chat's previous answer and a free slot, then send; errors are logged."""
        if before is not None:
            await asyncio.wait({before})
        async with self._slots:
            try:
                await send()
            except Exception:
                logger.exception("an answer failed")

    def _forget(self, chat: str, task: asyncio.Task[None]) -> None:
        """Drop a finished answer."""
        self._tasks.discard(task)
        if self._last.get(chat) is task:
            del self._last[chat]
