"""Telegram updates in: the neutral Incoming of an update, and the plan document it carries."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Document, Update

from bot.channels.telegram.sender import CAPABILITIES, CHANNEL
from handlers.types import Incoming, IncomingDocument

logger = logging.getLogger(__name__)

# Files the conversation reads (a plan's document to draft), and the largest it downloads.
DOCUMENT_SUFFIXES = (".docx", ".doc", ".pdf", ".txt", ".md", ".yaml", ".yml")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


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
            capabilities=CAPABILITIES,
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
        capabilities=CAPABILITIES,
    )


def incoming_of(raw: dict[str, Any], bot: Bot) -> Incoming | None:
    """The Incoming of an update as Telegram sent it.

    A plain message or a button press (nearly every update) is read straight from its JSON, the
    same fields `to_incoming` reads (tests/bot/test_telegram_updates.py holds them equal);
    building python-telegram-bot's objects for it cost more than the rest of the inbound loop.
    Any other kind goes through those objects.
    """
    if len(raw) == 2:  # update_id and the one kind of the update
        if isinstance(message := raw.get("message"), dict):
            return _from_message(str(raw["update_id"]), message)
        if isinstance(query := raw.get("callback_query"), dict):
            return _from_button(str(raw["update_id"]), query)
    update = Update.de_json(raw, bot)
    return to_incoming(update) if update is not None else None


def _from_message(key: str, message: dict[str, Any]) -> Incoming:
    """A message's Incoming from its JSON."""
    files = []
    if message.get("photo"):
        files.append(str(message["photo"][-1]["file_id"]))
    if message.get("document") is not None:
        files.append(str(message["document"]["file_id"]))
    user = message.get("from")
    replied = message.get("reply_to_message")
    return Incoming(
        channel=CHANNEL,
        chat_id=str(message["chat"]["id"]),
        update_key=key,
        user_name=_full_name(user) if user else "",
        text=message.get("text") or message.get("caption") or "",
        reply_to=str(replied["message_id"]) if replied else None,
        attachments=tuple(files),
        capabilities=CAPABILITIES,
    )


def _from_button(key: str, query: dict[str, Any]) -> Incoming:
    """A button press's Incoming from its JSON: the chat of the message the button was on."""
    message = query.get("message")
    user = query["from"]
    chat_id = message["chat"]["id"] if message else user["id"]
    return Incoming(
        channel=CHANNEL,
        chat_id=str(chat_id),
        update_key=key,
        user_name=_full_name(user),
        button_data=query.get("data") or "",
        capabilities=CAPABILITIES,
    )


def _full_name(user: dict[str, Any]) -> str:
    """First and last name, as python-telegram-bot's `User.full_name` gives them."""
    first, last = user["first_name"], user.get("last_name")
    return f"{first} {last}" if last else str(first)


def readable_document(update: Update) -> Document | None:
    """The message's document when it is a kind of file the conversation reads."""
    message = update.effective_message
    document = message.document if message is not None else None
    if document is None or not (document.file_name or "").lower().endswith(DOCUMENT_SUFFIXES):
        return None
    return document


async def fetch_document(bot: Bot, document: Document) -> IncomingDocument:
    """The document's bytes; empty content when it is too large or could not be downloaded."""
    name = document.file_name or ""
    if (document.file_size or 0) > MAX_DOCUMENT_BYTES:
        logger.info("telegram document %s too large (%s bytes)", name, document.file_size)
        return IncomingDocument(name, b"")
    try:
        found = await bot.get_file(document.file_id)
        content = bytes(await found.download_as_bytearray())
    except Exception as exc:  # whatever failed, the update is still handled; the type names it
        # (not the message: a download error can carry the file URL, and the URL the token)
        logger.warning("telegram document %s not downloaded (%s)", name, type(exc).__name__)
        return IncomingDocument(name, b"")
    if len(content) > MAX_DOCUMENT_BYTES:  # a size the update did not declare
        return IncomingDocument(name, b"")
    return IncomingDocument(name, content)
