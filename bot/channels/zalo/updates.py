"""Zalo updates in: the neutral Incoming of a text or photo message."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from bot.channels.zalo.api import updates_in
from bot.channels.zalo.sender import CAPABILITIES, CHANNEL
from handlers.types import Incoming

logger = logging.getLogger(__name__)

TEXT_EVENTS = {"message.text.received"}
IMAGE_EVENTS = {"message.image.received"}
MAX_UPDATE_KEY = 96  # Inbound.update_key


def _update_key(message_id: str) -> str:
    """The dedupe key: Zalo's message id (a digest if it would not fit the column)."""
    if len(message_id) <= MAX_UPDATE_KEY:
        return message_id
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()


def to_incoming(payload: dict[str, Any]) -> Incoming | None:
    """A neutral Incoming for a text or photo message; None for anything else."""
    updates = updates_in(payload)
    if not updates:
        return None
    update = updates[0]
    event = str(update.get("event_name") or "")
    message = update.get("message")
    if event not in TEXT_EVENTS | IMAGE_EVENTS or not isinstance(message, dict):
        logger.debug("zalo event %r ignored", event[:64])
        return None
    found_chat, found_sender = message.get("chat"), message.get("from")
    chat = found_chat if isinstance(found_chat, dict) else {}
    sender = found_sender if isinstance(found_sender, dict) else {}
    chat_id = str(chat.get("id") or sender.get("id") or "")
    message_id = str(message.get("message_id") or "")
    if not chat_id or not message_id:
        logger.debug("zalo %s without chat or message id ignored", event)
        return None
    files: tuple[str, ...] = ()
    if event in IMAGE_EVENTS:
        photo = message.get("photo_url") or message.get("photo")
        files = (photo,) if isinstance(photo, str) and photo else ()
        if not files:
            logger.debug("zalo image message %s without a URL ignored", message_id)
            return None
    text = message.get("text") or message.get("caption") or ""
    return Incoming(
        channel=CHANNEL,
        chat_id=chat_id,
        update_key=_update_key(message_id),
        user_name=str(sender.get("display_name") or sender.get("name") or ""),
        text=text if isinstance(text, str) else "",
        attachments=files,
        capabilities=CAPABILITIES,
    )
