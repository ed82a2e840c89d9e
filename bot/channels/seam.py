"""The one interface a messenger implements for the shared inbound loop (bot/channels/inbox.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chat.messages import Sender
from handlers.types import Incoming, IncomingDocument


class Channel(Protocol):
    """What the inbox needs from a messenger: parse, fetch files, show work, acknowledge, send."""

    name: str
    counts_usage: bool  # replies count against a monthly quota

    @property
    def sender(self) -> Sender:
        """How its answers are sent."""
        ...

    def parse(self, raw: dict[str, Any]) -> Incoming | None:
        """The neutral Incoming of a stored platform update; None for what is not handled."""
        ...

    async def fetch_documents(self, raw: dict[str, Any]) -> tuple[IncomingDocument, ...]:
        """The files the update carries that the conversation reads (empty content: not read)."""
        ...

    async def show_working(self, chat_id: str) -> None:
        """Best effort, before handling: tell the chat an answer is coming."""
        ...

    async def acknowledge(self, raw: dict[str, Any], popup: str | None) -> None:
        """Best effort, after handling: close the platform's own loop (a tapped button)."""
        ...


@dataclass(frozen=True)
class Running:
    """A started channel: its sender for the dispatcher and how to stop receiving."""

    sender: Sender
    stop: Callable[[], Awaitable[None]]


def cancel_on_stop(task: asyncio.Task[None]) -> Callable[[], Awaitable[None]]:
    """A stop coroutine that cancels a background task (a poller) and waits for it."""

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
