"""Telegram by polling: getUpdates as the Bot API sent them, each batch stored before the next call.

python-telegram-bot's own Updater asks for the next batch as soon as it has queued the last one,
so a crash could lose updates Telegram already counted as delivered, and it turns every update
into objects that the inbox would turn back into JSON to store. This poller hands the raw batch
to the inbox (bot/channels/inbox.py), which stores it in one transaction; only then does the
next getUpdates carry the offset that tells Telegram the batch arrived.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.inbox import Inbox
from bot.channels.telegram.sender import CHANNEL, retry_seconds
from bot.channels.telegram.transport import AiohttpRequest

logger = logging.getLogger(__name__)

BATCH = 100  # the most getUpdates gives at once
LONG_POLL = 10  # seconds Telegram holds a getUpdates open while there is nothing new
READ_MARGIN = 5.0  # seconds a long poll's answer may take beyond its hold
MAX_BACKOFF = 60.0

Sleep = Callable[[float], Awaitable[None]]


class TelegramPoller:
    """getUpdates in a loop: a batch is stored before the next call acknowledges it."""

    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        *,
        interval: float = 0.0,
        long_poll: int = LONG_POLL,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.inbox = inbox
        self.interval = interval  # between empty answers (a long poll makes it moot)
        self.long_poll = long_poll
        self.sleep = sleep
        self.request = AiohttpRequest(connection_pool_size=1)
        self.offset: int | None = None  # the first update not yet stored
        self.failures = 0

    async def run(self) -> None:
        """Poll until cancelled."""
        async with self.request:
            while True:
                wait = await self.poll_once()
                if wait > 0:
                    await self.sleep(wait)

    async def poll_once(self) -> float:
        """One getUpdates with its batch stored; return the wait before the next call."""
        try:
            updates = await self._get_updates()
        except RetryAfter as exc:
            return self._backoff(exc, at_least=retry_seconds(exc.retry_after))
        except NetworkError as exc:  # timed out, connection refused, a 5xx
            return self._backoff(exc)
        except TelegramError as exc:  # a refused token: retrying fast would not help
            self.failures += 1
            logger.error("telegram getUpdates refused (%s); next poll in %.0f s", exc, MAX_BACKOFF)
            return MAX_BACKOFF
        self.failures = 0
        if not updates:
            return self.interval
        try:
            await self.inbox.receive_batch(CHANNEL, updates)
        except Exception:  # not stored: the same batch again, the offset unchanged
            self.failures += 1
            logger.exception("telegram updates not stored; asked for again")
            return min(MAX_BACKOFF, 2.0 ** (self.failures - 1))
        ids = [u["update_id"] for u in updates if isinstance(u.get("update_id"), int)]
        if ids:
            self.offset = max(ids) + 1
        return 0.0

    async def _get_updates(self) -> list[dict[str, Any]]:
        """The next batch exactly as the Bot API sent it."""
        parameters = {"timeout": self.long_poll, "limit": BATCH}
        if self.offset is not None:
            parameters["offset"] = self.offset
        result = await self.request.post(
            url=f"{self.bot.base_url}/getUpdates",
            request_data=RequestData(
                [RequestParameter.from_input(name, value) for name, value in parameters.items()]
            ),
            read_timeout=self.long_poll + READ_MARGIN,
        )
        if not isinstance(result, list):
            return []
        return [update for update in result if isinstance(update, dict)]

    def _backoff(self, exc: TelegramError, at_least: float = 0.0) -> float:
        """The next wait after a failed poll: doubling from one second, capped."""
        self.failures += 1
        wait = max(min(MAX_BACKOFF, 2.0 ** (self.failures - 1)), at_least)
        logger.warning("telegram getUpdates failed (%s); next poll in %.1f s", exc, wait)
        return wait
