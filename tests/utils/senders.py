"""A channel sender for tests that drive the dispatcher without a messenger."""

from __future__ import annotations

from bot.channels.telegram import TelegramSender
from bot.channels.zalo import ZaloSender
from chat.messages import PLAIN, Capabilities, OutgoingMessage


def shows(channel: str) -> Capabilities:
    """What a channel shows, as its module in bot/channels/ declares it (plain if unknown)."""
    known = {s.channel: s.capabilities for s in (TelegramSender, ZaloSender)}
    return known.get(channel, PLAIN)


class RecordingSender:
    """A Telegram-shaped sender that only records."""

    channel = "telegram"
    max_text = 4096
    capabilities = TelegramSender.capabilities

    def __init__(self) -> None:
        self.chats: list[str] = []

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Record the chat."""
        self.chats.append(chat_id)
        return str(len(self.chats))
