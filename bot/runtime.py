"""`dondoc run`: the configured channels, the scheduler's tick and weekly jobs, until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine

from bot.channels import build_dispatcher, start_channels
from bot.channels.inbox import Inbox
from bot.settings import Settings
from chat.messages import Sender
from scheduler.dispatcher import Dispatcher
from scheduler.leader import Leadership, scheduler_leader  # leader election
from scheduler.tick import tick

logger = logging.getLogger(__name__)


def build_scheduler(
    settings: Settings,
    engine: Engine,
    dispatcher: Dispatcher,
    leader: Leadership | None = None,  # leader election: None = this process always ticks
) -> AsyncIOScheduler:
    """One tick job a minute; a busy minute is coalesced, never dropped silently."""
    scheduler = AsyncIOScheduler(timezone=settings.dondoc_timezone)

    async def tick_job() -> None:
        """Run one scheduler pass at the real time."""
        try:
            # Leader election: only the leader ticks; the others retry the lock every minute.
            if leader is not None and not leader.is_leader():
                return
            await tick(engine, dispatcher, now=datetime.now(UTC), quotas=settings.monthly_quotas)
        except Exception:  # a failed pass must not stop the next one
            logger.exception("tick failed")

    scheduler.add_job(
        tick_job,
        "interval",
        minutes=1,
        id="tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=50,
        next_run_time=datetime.now(UTC),
    )
    return scheduler


async def run(settings: Settings, engine: Engine) -> None:
    """Start every configured channel and the scheduler; stop cleanly on SIGINT/SIGTERM."""
    inbox = Inbox(engine, pending_ttl=settings.pending_ttl)  # every channel's updates
    running = await start_channels(settings, inbox)
    senders: dict[str, Sender] = {r.sender.channel: r.sender for r in running}
    # Updates an earlier run left unhandled go first, oldest first (bot/channels/inbox.py).
    await inbox.start()
    if not senders:
        logger.warning("no channel configured: set TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN")
    dispatcher = build_dispatcher(settings, engine, senders)
    leader = scheduler_leader(engine)  # leader election
    scheduler = build_scheduler(settings, engine, dispatcher, leader)
    if settings.dondoc_scheduler:
        scheduler.start()
    logger.info("dondoc running with channels: %s", ", ".join(senders) or "none")
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
    logger.info("stopping")
    if scheduler.running:
        scheduler.shutdown(wait=False)
    leader.release()  # leader election: hand the lead over at once
    await inbox.stop()  # what is stored and not handled yet waits for the next start
    for channel in running:
        await channel.stop()
