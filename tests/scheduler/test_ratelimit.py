"""The send-rate limiter, on a simulated clock: 25 messages/s overall, 1/s per chat."""

from __future__ import annotations

import asyncio

from scheduler.ratelimit import MAX_IN_FLIGHT, RateLimiter, in_flight_for


class FakeClock:
    """Monotonic time that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_global_rate_is_25_per_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(25, 1, clock=clock, sleep=clock.sleep)
    for chat in range(100):
        await limiter.wait(f"chat-{chat}")
    assert abs((clock.now - 100.0) - 99 / 25) < 1e-9  # 100 sends take 3.96 s


async def test_one_message_per_second_per_chat() -> None:
    clock = FakeClock()
    limiter = RateLimiter(25, 1, clock=clock, sleep=clock.sleep)
    sent_at = []
    for _ in range(3):
        await limiter.wait("same-chat")
        sent_at.append(clock.now)
    assert [round(t - sent_at[0], 6) for t in sent_at] == [0.0, 1.0, 2.0]


async def test_zero_means_unlimited() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0, 0, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        await limiter.wait("chat")
    assert clock.now == 100.0


class ManualClock:
    """Monotonic time that moves only when the test says; sleepers wake when it passes them."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        waker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.now + seconds, waker))
        await waker

    async def advance_to(self, moment: float) -> None:
        """Move to `moment` and let whoever was due by then run."""
        self.now = moment
        for at, waker in list(self.sleepers):
            if at <= moment and not waker.done():
                waker.set_result(None)
        for _ in range(5):
            await asyncio.sleep(0)


async def test_a_chat_waiting_out_its_second_holds_up_no_other_chat() -> None:
    clock = ManualClock()
    limiter = RateLimiter(25, 1, clock=clock, sleep=clock.sleep)
    await limiter.wait("chat-a")
    again = asyncio.ensure_future(limiter.wait("chat-a"))  # a second message to the same chat
    await asyncio.sleep(0)
    other = asyncio.ensure_future(limiter.wait("chat-b"))
    await clock.advance_to(100.04)  # the next global slot, 1/25 s later
    assert other.done() and not again.done()
    await clock.advance_to(101.0)
    assert again.done()


def test_the_default_in_flight_fills_the_rate_at_a_round_trip_of_200_ms() -> None:
    assert in_flight_for(25) == 5
    assert in_flight_for(1) == 1
    assert in_flight_for(0) == MAX_IN_FLIGHT  # the rate lifted
