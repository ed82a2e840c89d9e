"""The Telegram channel: python-telegram-bot updates in, neutral messages out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.http_transport import AiohttpRequest
from bot.inbox import Inbox
from bot.settings import Settings
from chat import messages as neutral
from chat.messages import Capabilities, OutgoingMessage, split_html
from handlers.types import Incoming

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
GONE_CHAT_ERRORS = ("chat not found", "user is deactivated", "bot was blocked")


def build_bot(settings: Settings) -> Bot:
    """A Bot on the configured API URL (python-telegram-bot appends the token)."""
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    return Bot(
        token,
        base_url=settings.telegram_api_url,
        base_file_url=settings.telegram_api_url.replace("/bot", "/file/bot"),
        request=AiohttpRequest(
            read_timeout=settings.telegram_timeout, write_timeout=settings.telegram_timeout
        ),
    )


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """Inline buttons for a neutral message."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, callback_data=b.data) for b in row]
            for row in message.buttons
        ]
    )


def _seconds(value: int | float | timedelta) -> float:
    """retry_after as seconds, whatever type the library gives."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """Sends neutral messages with python-telegram-bot and maps its errors."""

    channel = CHANNEL
    max_text = MAX_TEXT
    capabilities = Capabilities(html=True, text_limit=MAX_TEXT, items_per_message=8, files=True)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Send text (split under 4,096 characters; buttons on the last piece) and files."""
        try:
            return await self._send(chat_id, message)
        except RetryAfter as exc:
            raise neutral.RetryAfter(_seconds(exc.retry_after)) from exc
        except Forbidden as exc:
            raise neutral.Unreachable(str(exc)) from exc
        except BadRequest as exc:
            if any(s in str(exc).lower() for s in GONE_CHAT_ERRORS):
                raise neutral.Unreachable(str(exc)) from exc
            raise neutral.SendError(str(exc)) from exc
        except (TimedOut, NetworkError) as exc:
            raise neutral.TransientSendError(str(exc)) from exc
        except TelegramError as exc:
            raise neutral.SendError(str(exc)) from exc

    async def _send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """The sending itself."""
        pieces = split_html(message.text, MAX_TEXT)
        sent = None
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            sent = await self.bot.send_message(
                chat_id=chat_id,
                text=piece,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message) if last else None,
            )
        for attachment in message.attachments:
            data = InputFile(attachment.content, filename=attachment.filename)
            if attachment.kind == "photo":
                await self.bot.send_photo(chat_id=chat_id, photo=data)
            else:
                await self.bot.send_document(chat_id=chat_id, document=data)
        return str(sent.message_id) if sent is not None else None


def to_incoming(update: Update) -> Incoming | None:
    """A neutral Incoming for a message or a button press; None for anything else."""
    key = str(update.update_id)
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        chat_id = str(chat.id) if chat is not None else str(query.from_user.id)
        return Incoming(
            channel=CHANNEL,
            chat_id=chat_id,
            update_key=key,
            user_name=query.from_user.full_name,
            button_data=query.data or "",
        )
    msg = update.effective_message
    if msg is None or update.effective_chat is None:
        return None
    files: list[str] = []
    if msg.photo:
        files.append(msg.photo[-1].file_id)
    if msg.document is not None:
        files.append(msg.document.file_id)
    user = update.effective_user
    return Incoming(
        channel=CHANNEL,
        chat_id=str(update.effective_chat.id),
        update_key=key,
        user_name=user.full_name if user else "",
        text=msg.text or msg.caption or "",
        reply_to=str(msg.reply_to_message.message_id) if msg.reply_to_message else None,
        attachments=tuple(files),
    )


class TelegramChannel:
    """Telegram in the shared inbound loop (bot/inbox.py): parsing, the button popup, the sender."""

    name = CHANNEL
    counts_usage = False

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.sender = TelegramSender(bot)

    def parse(self, raw: dict[str, Any]) -> Incoming | None:
        """The Incoming of an update as Telegram sent it."""
        update = Update.de_json(raw, self.bot)
        return to_incoming(update) if update is not None else None

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


def build_application(
    settings: Settings,
    engine: Engine,
    *,
    clock: Callable[[], datetime] | None = None,
    inbox: Inbox | None = None,
) -> Application:
    """The python-telegram-bot application; polled updates go through the inbox."""
    assert settings.telegram_bot_token is not None
    inbox = inbox or Inbox(engine, clock=clock, pending_ttl=settings.pending_ttl)
    application = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .request(AiohttpRequest(read_timeout=settings.telegram_timeout))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .concurrent_updates(False)
        .build()
    )
    inbox.add(TelegramChannel(application.bot))

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Store the polled update, then wait until the inbox has handled and answered it."""
        incoming = to_incoming(update)
        if incoming is not None:
            await inbox.receive(CHANNEL, update.to_dict(), incoming)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log every handler error with its traceback; the user never sees a stack."""
        logger.error("error while handling an update", exc_info=context.error)

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application
