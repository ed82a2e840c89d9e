"""Send-rate limits: a global rate and a minimum interval per chat (Telegram: 25/s, 1/s)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    """Spaces sends so that neither the global nor the per-chat rate is exceeded."""

    def __init__(
        self,
        per_second: float,
        per_chat_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._gap = 1.0 / per_second if per_second > 0 else 0.0
        self._chat_gap = 1.0 / per_chat_per_second if per_chat_per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_global = 0.0
        self._next_chat: dict[str, float] = {}

    async def wait(self, chat_key: str) -> None:
        """Wait until a message to `chat_key` may go out, and book the slot."""
        now = self._clock()
        at = max(now, self._next_global, self._next_chat.get(chat_key, 0.0))
        self._next_global = at + self._gap
        self._next_chat[chat_key] = at + self._chat_gap
        if len(self._next_chat) > 10_000:
            self._next_chat = {k: v for k, v in self._next_chat.items() if v > now}
        if at > now:
            await self._sleep(at - now)


def unlimited() -> RateLimiter:
    """A limiter that never waits (benchmarks, tests of other behaviour)."""
    return RateLimiter(0, 0)
