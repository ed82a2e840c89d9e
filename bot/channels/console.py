"""A console channel: messages printed to the terminal as they would arrive (demo, operators)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from chat.messages import Capabilities, OutgoingMessage


class ConsoleSender:
    """Prints each message with its recipient; attachments are saved to a folder."""

    channel = "console"
    max_text = 4096
    capabilities = Capabilities(html=False, text_limit=4096, items_per_message=5, files=True)

    def __init__(
        self, console: Console, names: dict[str, str] | None = None, files: Path | None = None
    ) -> None:
        self.console = console
        self.names = names or {}
        self.files = files
        self.count = 0

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Print the message; buttons appear as [labels] under it."""
        self.count += 1
        self.console.rule(f"→ {self.names.get(chat_id, chat_id)}", align="left", style="dim")
        self.console.print(message.text, markup=False, highlight=False)
        for row in message.buttons:
            self.console.print(" ".join(f"[{b.text}]" for b in row), markup=False, style="cyan")
        for attachment in message.attachments:
            where = attachment.filename
            if self.files is not None:
                self.files.mkdir(parents=True, exist_ok=True)
                path = self.files / attachment.filename
                path.write_bytes(attachment.content)
                where = str(path)
            self.console.print(f"📎 {where}", markup=False, style="dim")
        return str(self.count)
