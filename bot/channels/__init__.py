"""The channels the settings enable: started for `dondoc run`, or senders for one-shot commands.

Each messenger is a module or package here implementing the seam (bot/channels/seam.py): a
`Channel` for the shared inbound loop (bot/channels/inbox.py), a Sender with its Capabilities,
`start(settings, inbox)` and `open_sender(settings, stack)`. This module is the one list of them.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Engine

from bot.channels.inbox import Inbox
from bot.channels.seam import Channel, Running
from bot.settings import Settings
from chat.messages import Sender
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import RateLimiter, in_flight_for
from scheduler.tick import TickResult, tick

__all__ = [
    "Channel",
    "Running",
    "build_dispatcher",
    "open_senders",
    "run_tick_once",
    "start_channels",
]


class Plug(Protocol):
    """A channel's module: how `dondoc run` starts it and how one-shot commands send with it."""

    async def start(self, settings: Settings, inbox: Inbox) -> Running:
        """Receive updates into the inbox; return the sender and how to stop."""
        ...

    async def open_sender(self, settings: Settings, stack: AsyncExitStack) -> Sender:
        """A sender alone, closed when the stack closes."""
        ...


def enabled(settings: Settings) -> list[Plug]:
    """The modules of the channels that have a token (imported only then: a fast start-up)."""
    plugs: list[Plug] = []
    if settings.telegram_enabled:
        from bot.channels import telegram

        plugs.append(telegram)
    if settings.zalo_enabled:
        from bot.channels import zalo

        plugs.append(zalo)
    return plugs


async def start_channels(settings: Settings, inbox: Inbox) -> list[Running]:
    """Start every configured channel, each receiving into the inbox."""
    return [await plug.start(settings, inbox) for plug in enabled(settings)]


async def open_senders(settings: Settings, stack: AsyncExitStack) -> dict[str, Sender]:
    """Senders for every configured channel, closed when the stack closes."""
    senders = [await plug.open_sender(settings, stack) for plug in enabled(settings)]
    return {sender.channel: sender for sender in senders}


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
