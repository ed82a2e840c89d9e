"""Channel-neutral outgoing messages and the sender contract every channel implements."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Protocol

from plans.errors import DondocError

TAG_RE = re.compile(r"</?(?:b|i|u|s|code|pre|a)(?:\s[^>]*)?>")

# What a reader sees as one character: a code point with the marks that join it (Vietnamese
# diacritics written apart, variation selectors, skin tones, emoji joined by ZWJ), or CRLF.
# Eight marks at most: a run of thousands must still be cut somewhere.
CHARACTER = r"\r\n|.(?:[\u0300-\u036f\ufe00-\ufe0f\U0001f3fb-\U0001f3ff]|\u200d.){0,8}"
PLAIN_TOKEN_RE = re.compile(CHARACTER, re.DOTALL)
ENTITY = r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z]{1,8});"
HTML_TOKEN_RE = re.compile(rf"<[^<>]*>|{ENTITY}|{CHARACTER}", re.DOTALL)
OPEN_TAG_RE = re.compile(r"<([A-Za-z][\w-]*)(?:\s[^<>]*)?>")
CLOSE_TAG_RE = re.compile(r"</([A-Za-z][\w-]*)\s*>")

# (name, opening tag) of every element open at a point of the text, outermost first
OpenTags = tuple[tuple[str, str], ...]


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


class SendError(DondocError):
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


@dataclass(frozen=True)
class Capabilities:
    """What a channel can show, so that callers never compare channel names."""

    html: bool  # Telegram-style HTML and inline buttons; otherwise plain text
    text_limit: int  # characters in one message
    items_per_message: int  # tasks one reminder lists before the next message starts
    files: bool  # documents can be attached


# What a channel that declares nothing gets: plain text within the smallest limits of any channel.
PLAIN = Capabilities(html=False, text_limit=2000, items_per_message=3, files=False)


class Sender(Protocol):
    """What the dispatcher needs from a channel."""

    channel: str
    max_text: int
    capabilities: Capabilities

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Deliver a message; return the platform's message id when it gives one."""
        ...


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long plain text into pieces of at most `limit` characters, between visible ones."""
    if len(text) <= limit:
        return [text.rstrip("\n")]
    return _split(PLAIN_TOKEN_RE.findall(text), limit, markup=False)


def split_html(text: str, limit: int) -> list[str]:
    """Cut long Telegram HTML into pieces of at most `limit` characters, each valid HTML.

    A cut never falls inside a tag or an entity (`&#34;` cut in two made Telegram refuse the
    message); tags open at a cut are closed at the end of the piece and reopened in the next.
    """
    if len(text) <= limit:
        return [text.rstrip("\n")]
    return _split(HTML_TOKEN_RE.findall(text), limit, markup=True)


def _split(tokens: list[str], limit: int, *, markup: bool) -> list[str]:
    """Pack tokens (characters, tags, entities) into pieces, cut after a line, else a word."""
    pieces: list[str] = []
    open_tags: OpenTags = ()
    start = 0
    while start < len(tokens):
        end, closing = _piece_end(tokens, start, open_tags, limit)
        body = "".join(tag for _, tag in open_tags) + "".join(tokens[start:end]).rstrip("\n")
        if re.sub(r"<[^<>]*>", "", body) if markup else body:  # Telegram refuses empty text
            pieces.append(body + "".join(f"</{name}>" for name, _ in reversed(closing)))
        start, open_tags = end, closing
    return pieces or [""]


def _piece_end(
    tokens: list[str], start: int, open_tags: OpenTags, limit: int
) -> tuple[int, OpenTags]:
    """Where the piece starting at `start` ends, and the elements still open there."""
    size = sum(len(tag) for _, tag in open_tags)
    after: list[OpenTags] = []  # the elements open after each token of the piece
    line_end = word_end = 0
    index = start
    while index < len(tokens):
        token = tokens[index]
        tags = _after(after[-1] if after else open_tags, token)
        closing = sum(len(name) + 3 for name, _ in tags)
        if after and size + len(token) + closing > limit:
            break
        size += len(token)
        after.append(tags)
        index += 1
        if size < limit // 2:  # a cut this early would waste most of a message
            continue
        if token.endswith("\n"):
            line_end = len(after)
        elif token.isspace():
            word_end = len(after)
    else:
        return len(tokens), after[-1]
    count = line_end or word_end or len(after)
    while count > 1 and OPEN_TAG_RE.fullmatch(tokens[start + count - 1]):
        count -= 1  # an element opened just before the cut starts the next piece instead
    return start + count, after[count - 1]


def _after(open_tags: OpenTags, token: str) -> OpenTags:
    """The elements open after `token`."""
    if opening := OPEN_TAG_RE.fullmatch(token):
        return (*open_tags, (opening.group(1).lower(), token))
    if closing := CLOSE_TAG_RE.fullmatch(token):
        names = [name for name, _ in open_tags]
        name = closing.group(1).lower()
        return open_tags[: len(names) - names[::-1].index(name) - 1] if name in names else open_tags
    return open_tags
