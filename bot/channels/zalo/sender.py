"""Zalo's sender: plain text split under 2,000 characters, photos by URL, no buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.channels.zalo.api import ZaloApi
from chat.messages import Attachment, Capabilities, OutgoingMessage, split_text
from chat.texts import say

CHANNEL = "zalo"
MAX_TEXT = 2000
CAPABILITIES = Capabilities(html=False, text_limit=MAX_TEXT, items_per_message=3, files=False)

# Optional: turns a photo attachment into a public URL for sendPhoto (Zalo takes URLs, not bytes).
PhotoPublisher = Callable[[Attachment], Awaitable[str | None]]


class ZaloSender:
    """Sends neutral messages over Zalo: plain text, split under 2,000 characters, no buttons."""

    channel = CHANNEL
    max_text = MAX_TEXT
    capabilities = CAPABILITIES

    def __init__(self, api: ZaloApi, *, photo_url: PhotoPublisher | None = None) -> None:
        self.api = api
        self.photo_url = photo_url

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Send the text (buttons dropped: the text carries the reply codes), then photos."""
        photos: list[str] = []
        skipped: list[str] = []
        for attachment in message.attachments:
            url = None
            if attachment.kind == "photo" and self.photo_url is not None:
                url = await self.photo_url(attachment)
            if url:
                photos.append(url)
            else:
                skipped.append(attachment.filename)
        text = message.text
        if skipped:
            note = say(CAPABILITIES, "zalo_attachment_skipped", filenames=skipped)
            text = f"{text}\n\n{note}" if text.strip() else note
        sent_id = None
        for piece in split_text(text, MAX_TEXT):
            if piece.strip():
                sent = await self.api.send_message(chat_id, piece)
                sent_id = str(sent.get("message_id") or "") or sent_id
        for url in photos:
            await self.api.send_photo(chat_id, url)
        return sent_id
