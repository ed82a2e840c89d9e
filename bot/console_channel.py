"""A console channel: messages printed to the terminal, for the demo and for operators."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel

from plans.messages import OutgoingMessage


class ConsoleSender:
    """Prints each message as it would arrive on a phone."""

    channel = "console"
    max_text = 4096

    def __init__(self, console: Console, names: dict[str, str] | None = None) -> None:
        self.console = console
        self.names = names or {}
        self.count = 0

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Print the message with its buttons as they would be shown."""
        self.count += 1
        body = message.text
        if message.buttons:
            body += "\n" + "\n".join(" ".join(f"[{b.text}]" for b in row) for row in message.buttons)
        for attachment in message.attachments:
            body += f"\n📎 {attachment.filename} ({len(attachment.content):,} bytes)"
        title = self.names.get(chat_id, chat_id)
        self.console.print(Panel(body, title=f"→ {title}", title_align="left", expand=False))
        return str(self.count)
