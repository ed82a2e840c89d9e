"""Chat texts from templates: Telegram HTML, or the same text stripped for plain channels."""

from __future__ import annotations

import html
import re
from typing import Any

from plans.messages import Button, OutgoingMessage
from plans.render import render

TAG_RE = re.compile(r"</?(?:b|i|u|s|code|pre|a)(?:\s[^>]*)?>")
HTML_CHANNELS = {"telegram"}


def to_plain(text: str) -> str:
    """Drop our HTML markup and unescape user text, for channels without formatting."""
    return html.unescape(TAG_RE.sub("", text))


def say(channel: str, template: str, **context: Any) -> str:
    """Render `chat/<template>.html.j2` for a channel."""
    text = render(f"chat/{template}.html.j2", buttons=channel in HTML_CHANNELS, **context).strip()
    return text if channel in HTML_CHANNELS else to_plain(text)


def message(
    channel: str, template: str, buttons: list[list[Button]] | None = None, **context: Any
) -> OutgoingMessage:
    """A message from a template, with buttons where the channel has them."""
    rows = tuple(tuple(row) for row in buttons or []) if channel in HTML_CHANNELS else ()
    return OutgoingMessage(text=say(channel, template, **context), buttons=rows)
