"""Understand a short free-text status reply: done, in progress (with %), or blocked."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from plans.status import STATUS_CHOICES
from storage.enums import ReportStatus
from storage.queries import REF_ALPHABET, RESERVED_CODES

PERCENT_RE = re.compile(r"(\d{1,3})\s*(?:%|phan tram)")
# Only what could be a code the bot gave (storage/queries.py): a code that is not the chat's is
# refused, so a word like «xong 1 phần» must not be read as one.
CODE_CHARS = REF_ALPHABET + REF_ALPHABET.lower()
CODE_REPLY_RE = re.compile(rf"^\s*([{CODE_CHARS}]{{3,5}})\s+([123])\b[\s,.:;\-–]*(.*)$", re.DOTALL)
BARE_CHOICE_RE = re.compile(r"^\s*([123])\b[\s,.:;\-–]*(.*)$", re.DOTALL)

# Matched on folded text (lower case, no diacritics, "đ" → "d"); order matters: negations first.
BLOCKED_WORDS = (
    "kho khan",
    "vuong",
    "chua the",
    "khong the",
    "thieu kinh phi",
    "can ho tro",
)
NOT_DONE_WORDS = ("chua xong", "chua hoan thanh", "chua ht")
IN_PROGRESS_WORDS = (
    "dang lam",
    "dang thuc hien",
    "dang trien khai",
    "dang tien hanh",
    "dang hoan thien",
    "tien do",
)
DONE_WORDS = (
    "da hoan thanh",
    "hoan thanh",
    "da xong",
    "xong",
    "done",
    "ok xong",
    "da thuc hien xong",
)


@dataclass(frozen=True)
class ParsedReply:
    """What a reply says: a status (or None when unreadable), a percentage and the note."""

    status: ReportStatus | None
    percent: int | None
    note: str


def fold(text: str) -> str:
    """Lower case without Vietnamese diacritics, for keyword matching."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return re.sub(r"\s+", " ", stripped.lower()).strip()


def _has_word(folded: str, phrase: str) -> bool:
    """Whether a phrase occurs as whole words."""
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", folded) is not None


def parse_percent(text: str) -> int | None:
    """A percentage between 0 and 100 written in the text, if any."""
    match = PERCENT_RE.search(fold(text))
    if not match:
        return None
    value = int(match.group(1))
    return value if 0 <= value <= 100 else None


def parse_reply(text: str) -> ParsedReply:
    """Read a free-text reply; the whole text is kept as the note."""
    folded = fold(text)
    note = text.strip()
    percent = parse_percent(text)
    if any(_has_word(folded, w) for w in BLOCKED_WORDS):
        return ParsedReply(ReportStatus.BLOCKED, percent, note)
    if any(_has_word(folded, w) for w in NOT_DONE_WORDS):
        return ParsedReply(ReportStatus.IN_PROGRESS, percent, note)
    if percent == 100:
        return ParsedReply(ReportStatus.DONE, 100, note)
    if any(_has_word(folded, w) for w in IN_PROGRESS_WORDS) or percent is not None:
        return ParsedReply(ReportStatus.IN_PROGRESS, percent, note)
    if any(_has_word(folded, w) for w in DONE_WORDS):
        return ParsedReply(ReportStatus.DONE, None, note)
    return ParsedReply(None, percent, note)


def parse_choice(choice: str, rest: str) -> ParsedReply:
    """A numbered choice (1 xong, 2 đang làm, 3 khó khăn) followed by an optional note."""
    status = STATUS_CHOICES[choice]
    percent = parse_percent(rest)
    if status == ReportStatus.DONE:
        percent = 100
    return ParsedReply(status, percent, rest.strip())


def parse_coded_reply(text: str) -> tuple[str, ParsedReply] | None:
    """`A7K 2 đạt 60%, ...` → ("A7K", in progress 60 %); None when the text has no code."""
    match = CODE_REPLY_RE.match(text)
    if not match or match.group(1).upper() in RESERVED_CODES:
        return None
    return match.group(1).upper(), parse_choice(match.group(2), match.group(3))


def parse_bare_choice(text: str) -> ParsedReply | None:
    """`2 đạt 60%` without a code (applies to the latest reminder)."""
    match = BARE_CHOICE_RE.match(text)
    if not match:
        return None
    return parse_choice(match.group(1), match.group(2))
