"""Telegram's sender: neutral messages out through python-telegram-bot, its errors mapped."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter  # public RequestData takes these

from bot.channels.telegram.transport import AiohttpRequest
from bot.settings import Settings
from chat import messages as neutral
from chat.messages import Capabilities, OutgoingMessage, split_html

CHANNEL = "telegram"
MAX_TEXT = 4096
CAPABILITIES = Capabilities(html=True, text_limit=MAX_TEXT, items_per_message=8, files=True)
GONE_CHAT_ERRORS = ("chat not found", "user is deactivated", "bot was blocked")


def file_url(settings: Settings) -> str:
    """Where files are downloaded: the API URL's `/bot` becomes `/file/bot` (token appended)."""
    return settings.telegram_api_url.replace("/bot", "/file/bot")


def build_bot(settings: Settings) -> Bot:
    """A Bot on the configured API URL (python-telegram-bot appends the token)."""
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    return Bot(
        token,
        base_url=settings.telegram_api_url,
        base_file_url=file_url(settings),
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


def retry_seconds(value: int | float | timedelta) -> float:
    """retry_after as seconds, whatever type the library gives."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """Sends neutral messages with python-telegram-bot and maps its errors."""

    channel = CHANNEL
    max_text = MAX_TEXT
    capabilities = CAPABILITIES

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Send text (split under 4,096 characters; buttons on the last piece) and files."""
        try:
            return await self._send(chat_id, message)
        except RetryAfter as exc:
            raise neutral.RetryAfter(retry_seconds(exc.retry_after)) from exc
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
            sent = await self._send_text(chat_id, piece, keyboard(message) if last else None)
        for attachment in message.attachments:
            data = InputFile(attachment.content, filename=attachment.filename)
            if attachment.kind == "photo":
                await self.bot.send_photo(chat_id=chat_id, photo=data)
            else:
                await self.bot.send_document(chat_id=chat_id, document=data)
        return sent

    async def _send_text(self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None) -> str:
        """One sendMessage through the bot's request backend; the sent message's id.

        Telegram's answer is read for the id alone: building python-telegram-bot's `Message`
        from it cost more CPU than the rest of the reply's send (bench/RESULTS.md). Errors are
        the library's, as `Bot.send_message` raises them.
        """
        values: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
        if markup is not None:
            values["reply_markup"] = markup
        data = RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])
        result = await self.bot.request.post(f"{self.bot.base_url}/sendMessage", request_data=data)
        if not isinstance(result, dict) or "message_id" not in result:
            raise TelegramError(f"unexpected sendMessage result: {str(result)[:200]}")
        return str(result["message_id"])
