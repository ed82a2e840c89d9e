"""Channel-neutral conversation input: what any messenger's update becomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from chat.messages import PLAIN, Capabilities, OutgoingMessage
from plans.characters import storable

MAX_INCOMING_TEXT = 4096


@dataclass(frozen=True)
class IncomingDocument:
    """A file the user sent whose content the conversation reads (a plan to draft)."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Incoming:
    """One user action: a text, a button press or a file, from one chat."""

    channel: str
    chat_id: str
    update_key: str  # unique per channel: the platform's update or message id
    user_name: str = ""
    text: str = ""
    button_data: str | None = None
    reply_to: str | None = None  # platform id of the bot message being replied to
    attachments: tuple[str, ...] = field(default_factory=tuple)  # platform file ids
    documents: tuple[IncomingDocument, ...] = field(default_factory=tuple)  # downloaded files
    capabilities: Capabilities = PLAIN  # what the channel shows: answers are rendered for it

    def __post_init__(self) -> None:
        """Whatever the channel delivered, what is handled can be stored and reported."""
        object.__setattr__(self, "text", storable(self.text))
        object.__setattr__(self, "user_name", storable(self.user_name))
        if self.button_data is not None:
            object.__setattr__(self, "button_data", storable(self.button_data))


@dataclass(frozen=True)
class Outcome:
    """What the handler wants said: messages to the chat, and a short popup for a button."""

    messages: tuple[OutgoingMessage, ...] = ()
    popup: str | None = None
    # Work that needs transactions of its own (a plan import), run once the update's commits;
    # what it returns is said after `messages` (handlers/conversation.py).
    then: Callable[[Engine, datetime], Outcome] | None = None
