"""A tiny python-telegram-bot 22 bot that the emulator smoke test drives in a subprocess.

Usage: python echo_bot.py API_URL FILE_URL TOKEN

/start answers with two inline buttons; a press answers the query and edits the message;
other text is echoed. Each handler also checks what python-telegram-bot parsed from the
emulator's answers, so a missing launcher patch shows up as an error, not as silence: every
error is logged to stderr with the marker ECHO-BOT-ERROR and told to the chat.
"""

from __future__ import annotations

import datetime as dtm
import logging
import sys

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

logger = logging.getLogger("echo_bot")

COLOURS = {"pick:red": "Đỏ", "pick:blue": "Xanh"}


class PatchMissing(AssertionError):
    """What the bot parsed from the emulator is not what Telegram would have sent."""


def check_sent(message: Message, bot_id: int) -> None:
    """A message the bot sent: a date near now (seconds, not ms) and the bot as sender."""
    age = abs((dtm.datetime.now(dtm.UTC) - message.date).total_seconds())
    if age > 300:
        raise PatchMissing(f"sent message date {message.date} is not now")
    if message.from_user is None or message.from_user.id != bot_id or not message.from_user.is_bot:
        raise PatchMissing(f"sent message from {message.from_user!r}, not the bot")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet with two colour buttons."""
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for data, label in COLOURS.items()]]
    )
    payload = " ".join(context.args or [])
    suffix = f" ({payload})" if payload else ""
    sent = await update.effective_message.reply_text(
        f"Xin chào {update.effective_user.first_name}! Chọn màu{suffix}:",
        reply_markup=keyboard,
    )
    check_sent(sent, context.bot.id)


async def pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and edit the keyboard message into the choice."""
    query = update.callback_query
    if not query.chat_instance:
        raise PatchMissing("callback query without chat_instance")
    if not isinstance(query.message, Message) or query.message.reply_markup is None:
        raise PatchMissing(f"callback query without the pressed message: {query.message!r}")
    answered = await query.answer(f"Đã chọn {COLOURS.get(query.data, '?')}")
    if answered is not True:
        raise PatchMissing(f"answerCallbackQuery returned {answered!r}")
    edited = await query.edit_message_text(f"Bạn đã chọn: {COLOURS.get(query.data, query.data)}")
    if not isinstance(edited, Message) or edited.edit_date is None:
        raise PatchMissing(f"editMessageText returned {edited!r}")
    check_sent(edited, context.bot.id)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Repeat the user's text, as a reply when the user replied to us."""
    message = update.effective_message
    replied = message.reply_to_message
    suffix = f" (trả lời #{replied.message_id})" if replied is not None else ""
    sent = await message.reply_text(f"echo: {message.text}{suffix}")
    check_sent(sent, context.bot.id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every handler error loudly and tell the chat, so the test sees it."""
    logger.error("ECHO-BOT-ERROR %r", context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id, f"ECHO-BOT-ERROR {context.error!r}"
        )


async def post_init(application: Application) -> None:
    """Start-up calls a real bot makes; fail loudly if the emulator mis-answers them."""
    me = application.bot.bot
    if not me.is_bot:
        raise PatchMissing("getMe without is_bot")
    if await application.bot.set_my_commands([("start", "Bắt đầu")]) is not True:
        raise PatchMissing("setMyCommands did not return True")
    print(f"ECHO-BOT-STARTED @{me.username} id={me.id}", file=sys.stderr, flush=True)


def main() -> None:
    """Poll the emulator until terminated."""
    api_url, file_url, token = sys.argv[1:4]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    application = (
        Application.builder()
        .token(token)
        .base_url(api_url)
        .base_file_url(file_url)
        .post_init(post_init)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pick, pattern=r"^pick:"))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_error_handler(on_error)
    # The emulator answers getUpdates at once (no long polling), hence the short interval.
    application.run_polling(poll_interval=0.2, allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
