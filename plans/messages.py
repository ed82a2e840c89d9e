"""Channel-neutral outgoing messages and the sender contract every channel implements."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Protocol

# Channels that render Telegram-style HTML and inline buttons; others get plain text.
HTML_CHANNELS = frozenset({"telegram"})
TAG_RE = re.compile(r"</?(?:b|i|u|s|code|pre|a)(?:\s[^>]*)?>")


def to_plain(text: str) -> str:
    """Drop our HTML markup and unescape user text, for channels without formatting."""
    return html.unescape(TAG_RE.sub("", text))


@dataclass(frozen=True)
class Button:
    """A choice the user can tap (Telegram) or type as a number (Zalo)."""

    text: str
    data: str  # at most 64 bytes: a short server-side reference, never the data itself


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (the digest's DOCX, a chart image)."""

    filename: str
    content: bytes
    kind: str = "document"  # document | photo


@dataclass(frozen=True)
class OutgoingMessage:
    """Text already rendered for the target channel, with optional buttons and files."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class SendError(Exception):
    """A message could not be delivered."""


class RetryAfter(SendError):
    """The platform asks us to wait (HTTP 429)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class TransientSendError(SendError):
    """A 5xx or a timeout: worth retrying with backoff."""


class Unreachable(SendError):
    """The user blocked the bot or the chat is gone (HTTP 403): stop trying."""


class Sender(Protocol):
    """What the dispatcher needs from a channel."""

    channel: str
    max_text: int

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Deliver a message; return the platform's message id when it gives one."""
        ...


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into pieces under `limit`, at line breaks where possible."""
    if len(text) <= limit:
        return [text.rstrip("\n")]
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current or not pieces:
        pieces.append(current)
    return [p.rstrip("\n") for p in pieces]
