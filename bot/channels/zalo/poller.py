"""Zalo by polling: getUpdates in a loop, backing off on errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels.zalo.api import ZaloApi
from chat.messages import RetryAfter, SendError, TransientSendError

logger = logging.getLogger(__name__)

MIN_POLL_INTERVAL = 1.0
MAX_BACKOFF = 60.0

UpdateHandler = Callable[[dict[str, Any]], Awaitable[None]]


class ZaloPoller:
    """getUpdates in a loop: 408 is "nothing yet", errors back off exponentially (capped)."""

    def __init__(
        self,
        api: ZaloApi,
        handle: UpdateHandler,
        *,
        interval: float = MIN_POLL_INTERVAL,
        long_poll: int = 30,
        max_backoff: float = MAX_BACKOFF,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api = api
        self.handle = handle
        self.interval = max(interval, MIN_POLL_INTERVAL)
        self.long_poll = long_poll
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.failures = 0

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            await self.sleep(await self.poll_once())

    async def poll_once(self) -> float:
        """One getUpdates call with its updates handled; return the wait before the next."""
        try:
            updates = await self.api.get_updates(timeout=self.long_poll)
        except RetryAfter as exc:
            return self._backoff(exc, at_least=exc.seconds)
        except TransientSendError as exc:
            return self._backoff(exc)
        except SendError as exc:  # a refused token or request: retrying fast would not help
            self.failures += 1
            logger.error("zalo getUpdates refused (%s); next poll in %.0f s", exc, self.max_backoff)
            return self.max_backoff
        self.failures = 0
        for update in updates:
            await self.handle(update)
        return self.interval

    def _backoff(self, exc: SendError, at_least: float = 0.0) -> float:
        """The next wait after a failed poll: doubling from the interval, capped."""
        self.failures += 1
        wait = min(self.max_backoff, self.interval * 2 ** (self.failures - 1))
        wait = max(wait, at_least)
        logger.warning("zalo getUpdates failed (%s); next poll in %.1f s", exc, wait)
        return wait
