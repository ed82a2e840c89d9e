"""The send-rate limiter, on a simulated clock: 25 messages/s overall, 1/s per chat."""

from __future__ import annotations

from scheduler.ratelimit import RateLimiter


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
