"""Chat texts from templates: Telegram HTML, or the same text stripped for plain channels."""

from __future__ import annotations

from typing import Any

from chat.messages import HTML_CHANNELS, Button, OutgoingMessage, to_plain
from chat.templates import render

__all__ = ["HTML_CHANNELS", "message", "say", "to_plain"]


def say(channel: str, template: str, **context: Any) -> str:
    """Render `chat/<template>.html.j2` for a channel."""
    text = render(f"{template}.html.j2", buttons=channel in HTML_CHANNELS, **context).strip()
    return text if channel in HTML_CHANNELS else to_plain(text)


def message(
    channel: str, template: str, buttons: list[list[Button]] | None = None, **context: Any
) -> OutgoingMessage:
    """A message from a template, with buttons where the channel has them."""
    rows = tuple(tuple(row) for row in buttons or []) if channel in HTML_CHANNELS else ()
    return OutgoingMessage(text=say(channel, template, **context), buttons=rows)
