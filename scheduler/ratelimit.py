"""Send-rate limits: a global rate and a minimum interval per chat (Telegram: 25/s, 1/s)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

# A Bot API round trip from a server in Vietnam takes 50-150 ms; this much in flight fills the
# rate at that latency with room to spare (25/s × 0.2 s = 5 messages in flight).
ROUND_TRIP_SECONDS = 0.2
MAX_IN_FLIGHT = 32  # with the rate lifted (0: benchmarks), and the most a default ever asks


def in_flight_for(per_second: float) -> int:
    """Messages in flight that fill `per_second` at a real round trip (SEND_CONCURRENCY default)."""
    if per_second <= 0:
        return MAX_IN_FLIGHT
    return min(MAX_IN_FLIGHT, max(1, math.ceil(per_second * ROUND_TRIP_SECONDS)))


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

    async def chat_free(self, chat_key: str) -> None:
        """Wait until the chat's own interval has passed (no slot is booked)."""
        while (at := self._next_chat.get(chat_key, 0.0)) > (now := self._clock()):
            await self._sleep(at - now)

    async def wait(self, chat_key: str) -> None:
        """Wait until a message to `chat_key` may go out, and book the slot."""
        # The chat's own interval first: a global slot booked at its end would hold up every
        # other chat's message for it.
        await self.chat_free(chat_key)
        now = self._clock()
        at = max(now, self._next_global)
        self._next_global = at + self._gap
        self._next_chat[chat_key] = at + self._chat_gap
        if len(self._next_chat) > 10_000:
            self._next_chat = {k: v for k, v in self._next_chat.items() if v > now}
        if at > now:
            await self._sleep(at - now)


def unlimited() -> RateLimiter:
    """A limiter that never waits (benchmarks, tests of other behaviour)."""
    return RateLimiter(0, 0)
