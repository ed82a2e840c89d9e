"""Deadline phrases inside a task's text: "trước ngày 20/9/2023", "chậm nhất vào tháng 11 hằng
năm", "Hàng năm", "theo yêu cầu", "Thời gian thực hiện: Quý I/2025".

A phrase starts at a word that introduces a time (a mode word such as "trước", a recurrence such
as "hằng năm", a status such as "theo yêu cầu", or a label such as "Thời hạn:") and is the longest
run of words from there, inside its clause, that the deadline grammar (plans/deadline.py) reads.
Dates of cited documents ("Kết luận số 51-KL/TW ngày 30/5/2019") have no such word before them
and are left alone. A labelled phrase is kept even when the grammar cannot read it (flagged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from plans.deadline import parse_deadline
from plans.errors import DeadlineError

_MAX_WORDS = 10
_TRIGGER_RE = re.compile(
    r"\b(?:(?:hoàn thành|xong|báo cáo) )?(?:trước(?! (?:hết|mắt|đây|đó|khi|tiên))|chậm nhất"
    r"|muộn nhất|không quá|không muộn hơn|hạn chót|định kỳ)\b"
    r"|\b(?:cuối|đầu|giữa)(?= (?:năm|tháng|quý|học kỳ|mỗi|hằng|hàng|[0-9]))"
    r"|\b(?:trong|vào)(?= (?:ngày|tháng|quý|năm [0-9]|năm (?:nay|sau|tới)|vòng|thời hạn|thời gian"
    r"|dịp|học kỳ|hè|tết|cuối|đầu|giữa|thứ|[0-9]))"
    r"|\b(?:hằng|hàng|mỗi) (?=năm|quý|tháng|tuần)"
    r"|\b(?:theo yêu cầu|khi có yêu cầu|đột xuất|khi phát sinh)\b",
    re.IGNORECASE,
)
# "Thường xuyên" is a deadline at a clause's start or end; inside it is an adjective
# ("chi thường xuyên").
_STATUS_RE = re.compile(r"\b(?:thường xuyên|liên tục)(?:,? (?:thường xuyên|liên tục))?\b", re.I)
_LABEL_RE = re.compile(
    r"\b(?:thời gian(?: thực hiện| hoàn thành)?|thời hạn(?: thực hiện| hoàn thành)?"
    r"|tiến độ(?: thực hiện| hoàn thành)?|hạn chót)\s*:\s*",
    re.IGNORECASE,
)
_CLAUSE_END_RE = re.compile(r";|\.(?=\s|$)|\n|\(")
_WORD_END_RE = re.compile(r"[^\s,;]+")
# A phrase ends on a word that can end a time: a number, a period of time, a school milestone.
_LAST_WORD_RE = re.compile(
    r"[0-9]|^(?:năm|quý|tháng|tuần|ngày|học|giảng|hè|tết|đán|kỳ|i|ii|iii|iv|sau|nay|tới|mới"
    r"|xuyên|tục|cầu|xuất|sinh|nhật|hai|ba|tư|sáu|bảy|lần|trình|hoạch|dẫn)$",
    re.IGNORECASE,
)
_LEADING_RE = re.compile(r"^[\s,\-–:+•*]*")


@dataclass(frozen=True)
class DuePhrase:
    """A deadline phrase found in text, with its offsets and whether dondoc reads it."""

    text: str
    start: int
    end: int
    readable: bool


def find_due_phrases(text: str, *, issued: date) -> list[DuePhrase]:
    """The deadline phrases of a text, left to right, not overlapping."""
    found: list[DuePhrase] = []
    for label in _LABEL_RE.finditer(text):
        end = _clause_end(text, label.end())
        phrase = text[label.end() : end].strip(" .,")
        if phrase:
            start = label.end()
            found.append(DuePhrase(phrase, start, start + len(phrase), readable(phrase, issued)))
    for match in _TRIGGER_RE.finditer(text):
        longest = _longest_readable(text, match.start(), issued)
        if longest:
            found.append(longest)
    for match in _STATUS_RE.finditer(text):
        if _at_clause_edge(text, match.start(), match.end()):
            found.append(DuePhrase(match[0], match.start(), match.end(), True))
    return _leftmost_longest(found)


def readable(phrase: str, issued: date) -> bool:
    """Whether the deadline grammar reads a phrase."""
    return _reads(" ".join(phrase.split()), issued)


@lru_cache(maxsize=4096)
def _reads(phrase: str, issued: date) -> bool:
    """Cached: whether parse_deadline accepts the phrase."""
    try:
        parse_deadline(phrase, issued=issued)
    except (DeadlineError, ValueError):
        return False
    return True


def _longest_readable(text: str, start: int, issued: date) -> DuePhrase | None:
    """The longest phrase from `start`, inside its clause, that the grammar reads."""
    limit = _clause_end(text, start)
    ends = [m.end() for m in _WORD_END_RE.finditer(text, start, limit)][:_MAX_WORDS]
    for end in reversed(ends):
        phrase = text[start:end].rstrip(".,:")
        words = phrase.split()
        if len(words) < 2:  # one word ("trước", "định kỳ") reads as nothing on its own
            continue
        if _LAST_WORD_RE.search(words[-1]) and readable(phrase, issued):
            return DuePhrase(phrase, start, start + len(phrase), True)
    return None


def _clause_end(text: str, start: int) -> int:
    """Where the clause holding `start` ends (";", a full stop, a line break)."""
    match = _CLAUSE_END_RE.search(text, start)
    return match.start() if match else len(text)


def _at_clause_edge(text: str, start: int, end: int) -> bool:
    """Whether a span opens its clause or closes it."""
    before = text[:start]
    clause_start = max(before.rfind(";"), before.rfind(". "), before.rfind(":"), before.rfind("\n"))
    opens = not _LEADING_RE.sub("", text[clause_start + 1 : start]).strip()
    return opens or bool(re.match(r"\s*(?:[;.]|$)", text[end:]))


def _leftmost_longest(found: list[DuePhrase]) -> list[DuePhrase]:
    """Phrases that do not overlap, preferring the earliest, then the longest."""
    chosen: list[DuePhrase] = []
    for phrase in sorted(found, key=lambda p: (p.start, -(p.end - p.start))):
        if not chosen or phrase.start >= chosen[-1].end:
            chosen.append(phrase)
    return chosen
