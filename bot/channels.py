"""Build the channel senders the configuration enables, for one-shot commands like `tick`."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.settings import Settings
from chat.messages import Sender
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import RateLimiter, in_flight_for
from scheduler.tick import TickResult, tick


async def open_senders(settings: Settings, stack: AsyncExitStack) -> dict[str, Sender]:
    """Senders for every configured channel, closed when the stack closes."""
    senders: dict[str, Sender] = {}
    if settings.telegram_enabled:
        from bot.telegram_channel import TelegramSender, build_bot

        bot = build_bot(settings)
        await stack.enter_async_context(bot)
        senders["telegram"] = TelegramSender(bot)
    if settings.zalo_enabled:  # Zalo channel, see bot/zalo_channel.py
        from bot import zalo_channel

        senders["zalo"] = await zalo_channel.open_sender(settings, stack)
    return senders


async def run_tick_once(settings: Settings, engine: Engine, *, now: datetime) -> TickResult:
    """`dondoc tick`: one planning and dispatch pass with the configured channels."""
    async with AsyncExitStack() as stack:
        senders = await open_senders(settings, stack)
        dispatcher = build_dispatcher(settings, engine, senders)
        return await tick(engine, dispatcher, now=now, quotas=settings.monthly_quotas)


def build_dispatcher(settings: Settings, engine: Engine, senders: dict[str, Sender]) -> Dispatcher:
    """The dispatcher with the configured rate limits and messages in flight (default: by rate)."""
    rate = settings.send_rate_per_second
    return Dispatcher(
        engine,
        senders,
        limiter=RateLimiter(rate, settings.send_rate_per_chat),
        concurrency=settings.send_concurrency or in_flight_for(rate),
    )
