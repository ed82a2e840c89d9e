"""The plan's header: number, issuing body, place and date, title, the plan it implements.

Vietnamese administrative documents print them in a fixed order (Decree 30/2020/ND-CP, Party
Instruction 36-HD/VPTW): the issuing body and "Số: 47/KH-UBND" top left, "Cẩm Giàng, ngày 05
tháng 9 năm 2023" top right (often a two-column table), then "KẾ HOẠCH" and the title line(s),
then the grounds ("Căn cứ …", "Thực hiện Kế hoạch số …"). An appendix prints instead "(Kèm theo
Kế hoạch số 315-KH/HU, ngày 29/11/2024 của Ban Thường vụ Huyện ủy)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from plans.intake import texts
from plans.intake.document import Block
from plans.intake.owners import fold_words, words
from plans.intake.text_reader import MARKER_RE

_HEAD_BLOCKS = 40  # the header never lies further into a document than this
NUMBER = r"[0-9]{1,5}[a-zA-Z]?\s?[-/]\s?[A-ZĐ][\wĐđ]*(?:\s?[-/.]\s?[\wĐđ&]+)*"
_NUMBER_RE = re.compile(rf"(?<![\w/])Số\s*:?\s*({NUMBER})")
_ATTACHED_RE = re.compile(
    rf"Kèm theo\s+(?:Kế hoạch|KH)\s+số\s*:?\s*({NUMBER})(?:\s*,?\s*ngày\s+([0-9/.\-]+))?"
    r"(?:\s+(?:của|do)\s+([^)\n]+))?",
    re.IGNORECASE,
)
_IMPLEMENTS_RE = re.compile(
    rf"\b(?:Căn cứ|Thực hiện|Triển khai)\s+(?:Kế hoạch|KH)\s+số\s*:?\s*({NUMBER})", re.IGNORECASE
)
_LONG_DATE_RE = re.compile(
    r"ngày\s+([0-9]{1,2})\s+tháng\s+([0-9]{1,2})\s+năm\s+([0-9]{4})", re.IGNORECASE
)
_SHORT_DATE_RE = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_TITLE_WORD_RE = re.compile(r"^\s*KẾ\s+HOẠCH\b\s*:?\s*", re.IGNORECASE)
_GROUNDS_RE = re.compile(r"^(?:Căn cứ|Thực hiện|Triển khai|Để|Nhằm|Kèm theo|\()", re.IGNORECASE)
_SECTION_RE = re.compile(r"^(?:(?:PHẦN|Phần)\s+)?[IVX]{1,4}[.)]?\s+\S")
_MOTTO_RE = re.compile(
    r"CỘNG HÒA|CỘNG HOÀ|Độc lập|ĐẢNG CỘNG SẢN|^\*+$|^-+$|^Số\b|ngày\s+[0-9.…]*\s*tháng",
    re.IGNORECASE,
)
_UNTIL_RES = (
    re.compile(r"giai đoạn\s+(?:năm\s+)?[0-9]{4}\s*[-–—]\s*([0-9]{4})", re.IGNORECASE),
    re.compile(r"(?:đến|tới)\s+năm\s+([0-9]{4})", re.IGNORECASE),
    re.compile(r"\bnăm\s+([0-9]{4})\s*$", re.IGNORECASE),
)


@dataclass(frozen=True)
class Header:
    """What the header says; None where it says nothing."""

    number: str | None = None
    issuer: str | None = None
    place: str | None = None
    issued: date | None = None
    title: str | None = None
    implements: str | None = None
    until: date | None = None


def read_header(blocks: tuple[Block, ...]) -> Header:
    """The header of a document."""
    head = _head(blocks)
    lines = [line.strip() for block in head for line in _lines(block) if line.strip()]
    attached = next((m for line in lines if (m := _ATTACHED_RE.search(line))), None)
    number = _number(lines) or (attached and _clean_number(attached[1]))
    place, issued = _place_and_date(lines)
    if issued is None and attached and attached[2]:
        issued = _short_date(attached[2])
    title = _title(head)
    issuer = attached[3].strip(" .") if attached and attached[3] else _issuer(lines)
    implements = next(
        (_clean_number(m[1]) for block in head if (m := _IMPLEMENTS_RE.search(block.text))), None
    )
    return Header(number, issuer, place, issued, title, implements, _until(title))


def _head(blocks: tuple[Block, ...]) -> list[Block]:
    """The blocks before the first section heading (at most the first few dozen)."""
    head: list[Block] = []
    for block in blocks[:_HEAD_BLOCKS]:
        if not block.is_row and _SECTION_RE.match(block.text) and head:
            break
        head.append(block)
    return head


def _lines(block: Block) -> list[str]:
    """The lines of a block: cells of a row, and lines of a cell or paragraph; a text header
    that prints two columns side by side is split at the wide gap."""
    parts = block.cells if block.is_row else (block.text,)
    return [
        piece
        for part in parts
        for line in part.split("\n")
        for piece in re.split(r"\s{3,}|\t", line)
    ]


def _number(lines: list[str]) -> str | None:
    """The document number after "Số:"."""
    for line in lines:
        match = _NUMBER_RE.search(line)
        if match:
            return _clean_number(match[1])
    return None


def _clean_number(text: str) -> str:
    """A document number without spaces around its separators and without a final dot."""
    return re.sub(r"\s*([-/])\s*", r"\1", text).strip(" .,")


def _place_and_date(lines: list[str]) -> tuple[str | None, date | None]:
    """ "Cẩm Giàng, ngày 05 tháng 9 năm 2023" → (Cẩm Giàng, 2023-09-05)."""
    for line in lines:
        match = _LONG_DATE_RE.search(line)
        if not match:
            continue
        place = line[: match.start()].strip(" ,")
        try:
            day = date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            return place or None, None
        return place or None, day
    return None, None


def _short_date(text: str) -> date | None:
    """A d/m/yyyy date, or None."""
    match = _SHORT_DATE_RE.search(text)
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


def _issuer(lines: list[str]) -> str | None:
    """The issuing body: the capitalised lines top left, before the title."""
    found: list[str] = []
    for line in lines:
        if _TITLE_WORD_RE.match(line) and not _TITLE_WORD_RE.sub("", line):
            break
        if _MOTTO_RE.search(line):
            continue
        letters = [c for c in line if c.isalpha()]
        if len(letters) < 3 or not all(c.isupper() for c in letters):
            break
        found.append(" ".join(line.split()))
    if not found:
        return None
    unit_words = words().unit_words
    last = fold_words(found[-1])
    if len(found) > 1 and any(tuple(last[: len(w)]) == w for w in unit_words):
        return found[-1]
    return " ".join(found)


def _title(head: list[Block]) -> str | None:
    """The line(s) after "KẾ HOẠCH", as "Kế hoạch <title>"."""
    for index, block in enumerate(head):
        if block.is_row or not _TITLE_WORD_RE.match(block.text):
            continue
        rest = _TITLE_WORD_RE.sub("", block.text).strip()
        parts = [rest] if rest else []
        for following in head[index + 1 :]:
            if following.is_row or _GROUNDS_RE.match(following.text) and parts:
                break
            if MARKER_RE.match(following.text) or re.match(r"^[-_=*\s]+$", following.text):
                break
            if parts and not following.emphasis:
                break
            parts.append(following.text.strip())
            if following.text.rstrip().endswith("."):
                break
        title = " ".join(" ".join(parts).split()).strip(" .")
        return _as_title(title) if title else None
    return None


def _as_title(text: str) -> str:
    """ "Tổ chức thực hiện …" → "Kế hoạch tổ chức thực hiện …"; a title in capitals is lowered."""
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        text = text.lower()
    first, _, rest = text.partition(" ")
    if first[1:2].islower() or first.islower():
        first = first.lower()
    return f"{texts.PLAN_TITLE_PREFIX} {first} {rest}".strip()


def _until(title: str | None) -> date | None:
    """The last year a title names ("giai đoạn 2021-2025", "đến năm 2030", "năm 2025")."""
    for pattern in _UNTIL_RES:
        match = pattern.search(title or "")
        if match:
            return date(int(match[1]), 12, 31)
    return None
