"""Chat texts from templates: HTML for channels that show it, the same text stripped for others."""

from __future__ import annotations

from typing import Any

from chat.messages import Button, Capabilities, OutgoingMessage, to_plain
from chat.templates import render

__all__ = ["message", "say", "to_plain"]


def say(shows: Capabilities, template: str, **context: Any) -> str:
    """Render `chat/<template>.html.j2` for a channel that shows what `shows` says."""
    text = render(f"{template}.html.j2", buttons=shows.html, **context).strip()
    return text if shows.html else to_plain(text)


def message(
    shows: Capabilities, template: str, buttons: list[list[Button]] | None = None, **context: Any
) -> OutgoingMessage:
    """A message from a template, with buttons where the channel has them."""
    rows = tuple(tuple(row) for row in buttons or []) if shows.html else ()
    return OutgoingMessage(text=say(shows, template, **context), buttons=rows)
