"""The Zalo channel: Zalo Bot Platform updates in (polling or webhook), neutral messages out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.channels.inbox import Inbox
from bot.channels.seam import Running, cancel_on_stop
from bot.channels.zalo.api import ZaloApi, ZaloAuthError, updates_in
from bot.channels.zalo.poller import ZaloPoller
from bot.channels.zalo.sender import CHANNEL, MAX_TEXT, ZaloSender
from bot.channels.zalo.updates import to_incoming
from bot.channels.zalo.webhook import SECRET_HEADER, start_webhook
from bot.settings import Settings
from chat.messages import SendError
from handlers.state import PENDING_TTL
from handlers.types import Incoming, IncomingDocument

__all__ = [
    "CHANNEL",
    "MAX_TEXT",
    "SECRET_HEADER",
    "ZaloApi",
    "ZaloAuthError",
    "ZaloConversation",
    "ZaloPoller",
    "ZaloSender",
    "open_sender",
    "start",
]

logger = logging.getLogger(__name__)


class ZaloConversation:
    """Zalo in the shared inbound loop (bot/channels/inbox.py): updates in, answers out."""

    name = CHANNEL
    counts_usage = True  # replies count against the monthly quota (scheduler/quota.py)

    def __init__(
        self,
        engine: Engine,
        sender: ZaloSender,
        *,
        clock: Callable[[], datetime] | None = None,
        pending_ttl: timedelta = PENDING_TTL,
        inbox: Inbox | None = None,
    ) -> None:
        self.sender = sender
        self.inbox = inbox or Inbox(engine, clock=clock, pending_ttl=pending_ttl)
        self.inbox.add(self)

    def parse(self, raw: dict[str, Any]) -> Incoming | None:
        """The Incoming of one stored update."""
        return to_incoming(raw)

    async def fetch_documents(self, raw: dict[str, Any]) -> tuple[IncomingDocument, ...]:
        """Zalo delivers no files."""
        return ()

    async def show_working(self, chat_id: str) -> None:
        """Best effort: a failed chat action must not hold up the answer."""
        try:
            await self.sender.api.send_chat_action(chat_id)
        except SendError as exc:
            logger.debug("zalo chat action failed: %s", exc)

    async def acknowledge(self, raw: dict[str, Any], popup: str | None) -> None:
        """Zalo has no buttons to answer."""

    async def handle_update(self, update: dict[str, Any]) -> None:
        """A polled update: stored and handled in one transaction, answered before the next poll."""
        await self.inbox.receive(CHANNEL, update)

    async def accept(self, payload: dict[str, Any]) -> None:
        """A webhook body: returns once each of its updates is stored (StoreFailed if not)."""
        for update in updates_in(payload):
            await self.inbox.accept(CHANNEL, update)


def build_api(settings: Settings) -> ZaloApi:
    """A client on the configured API URL (the token is appended)."""
    assert settings.zalo_bot_token is not None
    return ZaloApi(
        settings.zalo_bot_token.get_secret_value(),
        base_url=settings.zalo_api_url,
        timeout=settings.zalo_timeout,
    )


async def open_sender(settings: Settings, stack: AsyncExitStack) -> ZaloSender:
    """A sender for one-shot commands, closed when the stack closes."""
    api = await stack.enter_async_context(build_api(settings))
    return ZaloSender(api)


async def start(settings: Settings, inbox: Inbox) -> Running:
    """Check the token, then receive updates by webhook (when a URL is set) or by polling."""
    api = build_api(settings)
    try:
        me = await api.get_me()
        logger.info("zalo bot %s ready", me.get("account_name") or me.get("id") or "?")
        sender = ZaloSender(api)
        conversation = ZaloConversation(inbox.engine, sender, inbox=inbox)
        if settings.zalo_webhook_url:
            stop_receiving = await start_webhook(settings, api, conversation.accept)
        else:
            if (await api.get_webhook_info()).get("url"):
                await api.delete_webhook()  # getUpdates does not work while a webhook is set
            poller = ZaloPoller(
                api,
                conversation.handle_update,
                interval=settings.zalo_poll_interval,
                long_poll=settings.zalo_poll_timeout,
            )
            stop_receiving = cancel_on_stop(asyncio.create_task(poller.run()))
    except BaseException:
        await api.aclose()
        raise

    async def stop() -> None:
        """Stop receiving, then close the client."""
        await stop_receiving()
        await api.aclose()

    return Running(sender=sender, stop=stop)
