"""A channel sender for tests that drive the dispatcher without a messenger."""

from __future__ import annotations

from bot.telegram_channel import TelegramSender
from chat.messages import OutgoingMessage


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
