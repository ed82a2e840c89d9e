"""The Telegram channel: python-telegram-bot updates in (polling or webhook), messages out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.channels.inbox import Inbox
from bot.channels.seam import Running, cancel_on_stop
from bot.channels.telegram.poller import TelegramPoller
from bot.channels.telegram.sender import CHANNEL, TelegramSender, build_bot, file_url
from bot.channels.telegram.transport import AiohttpRequest
from bot.channels.telegram.updates import fetch_document, incoming_of, readable_document
from bot.channels.webhook import SecretWebhook, serve
from bot.settings import Settings
from handlers.types import Incoming, IncomingDocument

__all__ = [
    "CHANNEL",
    "TelegramChannel",
    "TelegramSender",
    "build_application",
    "open_sender",
    "start",
    "start_webhook",
]

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramChannel:
    """Telegram in the shared inbound loop: parsing, documents, the button popup, the sender."""

    name = CHANNEL
    counts_usage = False

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.sender = TelegramSender(bot)

    def parse(self, raw: dict[str, Any]) -> Incoming | None:
        """The Incoming of an update as Telegram sent it."""
        return incoming_of(raw, self.bot)

    async def fetch_documents(self, raw: dict[str, Any]) -> tuple[IncomingDocument, ...]:
        """The plan document the message carries, downloaded (empty: too large or failed)."""
        if not _carries_document(raw):  # most updates: no need to build the update's objects
            return ()
        update = Update.de_json(raw, self.bot)
        document = readable_document(update) if update is not None else None
        return (await fetch_document(self.bot, document),) if document is not None else ()

    async def show_working(self, chat_id: str) -> None:
        """Answers come at once: nothing to show."""

    async def acknowledge(self, raw: dict[str, Any], popup: str | None) -> None:
        """Answer a tapped button with the popup: Telegram shows a spinner until then."""
        query = raw.get("callback_query")
        if not isinstance(query, dict):
            return
        try:
            await self.bot.answer_callback_query(str(query.get("id")), text=popup or None)
        except TelegramError:
            logger.info("callback answer failed for update %s", raw.get("update_id"))


def _carries_document(raw: dict[str, Any]) -> bool:
    """Whether a raw update's message has a document (a tapped button's message is not read)."""
    return any(
        isinstance(value, dict) and "document" in value
        for kind, value in raw.items()
        if kind != "callback_query"
    )


def build_application(
    settings: Settings,
    engine: Engine,
    *,
    clock: Callable[[], datetime] | None = None,
    inbox: Inbox | None = None,
) -> Application:
    """The python-telegram-bot application, its updates received through the inbox."""
    assert settings.telegram_bot_token is not None
    inbox = inbox or Inbox(engine, clock=clock, pending_ttl=settings.pending_ttl)
    application = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url(settings))
        .request(AiohttpRequest(read_timeout=settings.telegram_timeout))
        .updater(None)  # bot/channels/telegram/poller.py polls into the inbox
        .build()
    )
    inbox.add(TelegramChannel(application.bot))

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log every handler error with its traceback; the user never sees a stack."""
        logger.error("error while handling an update", exc_info=context.error)

    application.add_error_handler(on_error)
    return application


async def start_webhook(
    settings: Settings, application: Application, inbox: Inbox
) -> Callable[[], Awaitable[None]]:
    """Register the webhook with Telegram and serve it at /telegram, storing through the inbox."""
    secret = (
        settings.telegram_webhook_secret.get_secret_value()
        if settings.telegram_webhook_secret
        else None
    )

    async def accept(payload: dict) -> None:
        await inbox.accept(CHANNEL, payload)

    route = (
        r"/telegram",
        SecretWebhook,
        {"header": SECRET_HEADER, "secret": secret, "accept": accept},
    )
    stop = await serve(settings, [route])
    assert settings.telegram_webhook_url is not None
    await application.bot.set_webhook(url=settings.telegram_webhook_url, secret_token=secret)
    return stop


async def start(settings: Settings, inbox: Inbox) -> Running:
    """Start the application, then receive by webhook (when a URL is set) or by polling."""
    application = build_application(settings, inbox.engine, inbox=inbox)
    await application.initialize()
    await application.start()
    if settings.telegram_webhook_url:
        stop_receiving = await start_webhook(settings, application, inbox)
    else:
        await application.bot.delete_webhook()
        poller = TelegramPoller(application.bot, inbox, interval=settings.telegram_poll_interval)
        stop_receiving = cancel_on_stop(asyncio.create_task(poller.run()))

    async def stop() -> None:
        """Stop receiving, then the application."""
        await stop_receiving()
        await application.stop()
        await application.shutdown()

    return Running(sender=TelegramSender(application.bot), stop=stop)


async def open_sender(settings: Settings, stack: AsyncExitStack) -> TelegramSender:
    """A sender for one-shot commands, closed when the stack closes."""
    bot = build_bot(settings)
    await stack.enter_async_context(bot)
    return TelegramSender(bot)
