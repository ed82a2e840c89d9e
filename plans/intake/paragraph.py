"""A drafted task, and what a paragraph of a plan holds: numbering, clauses, partners, title."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plans.intake.due import DuePhrase
from plans.intake.owners import Mention, UnitIndex
from plans.intake.text_reader import MARKER_RE


@dataclass
class Task:
    """One drafted task: what the document says, resolved where it could be."""

    id: str
    title: str
    source: str
    owners: list[Mention] = field(default_factory=list)
    partners: list[Mention] = field(default_factory=list)
    due: str | None = None
    due_readable: bool = True
    request: bool = False
    split_ids: tuple[str, ...] = ()  # the tasks one paragraph was split into


BULLETS = ("-", "+", "•", "*", "–")


CLOSING_RE = re.compile(
    r"^(?:Trên đây là|Nơi nhận|TM\.|KT\.|T/M|Lưu:|Lưu VT|Yêu cầu các|Trong quá trình thực hiện)",
    re.IGNORECASE,
)


REQUEST_RE = re.compile(r"^(?:kính\s+)?đề nghị\s+", re.IGNORECASE)


HEADING_SUFFIX_RE = re.compile(
    r"^\s*(?:có trách nhiệm|chịu trách nhiệm|chủ trì|thực hiện)?"
    r"(?:\s*(?:các|những))?(?:\s*nhiệm vụ)?(?:\s*(?:sau|cụ thể|sau đây))?\s*[:.]?\s*$",
    re.IGNORECASE,
)


_PARTNER_RE = re.compile(r"\bphối hợp(?:\s+chặt chẽ)?(?:\s+với)?\s+", re.IGNORECASE)


_CLAUSE_RE = re.compile(r";\s*|\.\s+(?=[^\W\d_])|\n")


def partners_in(units: UnitIndex, text: str) -> list[Mention]:
    """The units after the first "phối hợp (với)" of a text, vague ones left out."""
    match = _PARTNER_RE.search(text)
    return named(units, text, match.end()) if match else []


def named(units: UnitIndex, text: str, start: int = 0) -> list[Mention]:
    """The units a text lists from `start`, vague ones ("các đơn vị liên quan") left out."""
    return [m for m in units.units_at(text, start) if not m.vague]


def numbering(text: str) -> tuple[str, str]:
    """The kind of a paragraph's numbering ("arabic2" for "1.2.", "letter", "-") and its
    label ("1.2", "a", "-"); ("", "") when unnumbered."""
    marker = MARKER_RE.match(text)
    if not marker:
        return "", ""
    label = marker[0].rstrip(".)")
    if label in BULLETS:
        return label, label
    if label.isdigit() or "." in label:
        return f"arabic{label.count('.') + 1}", label
    if re.fullmatch(r"[IVXLC]+", label):
        return "roman", label
    return "letter", label


def deadline_segments(
    body: str, phrases: list[DuePhrase]
) -> list[tuple[int, int, list[DuePhrase]]]:
    """(start, end, deadlines) of each task a paragraph holds: one per clause that has a
    deadline, the clauses after it joining it; clauses before the first deadline stay apart."""
    clauses = _clauses(body)
    dated = {i for i, (s, e) in enumerate(clauses) if any(s <= p.start < e for p in phrases)}
    if len(dated) <= 1:
        return [(0, len(body), phrases)]
    groups: list[list[int]] = []
    for index in range(len(clauses)):
        if index in dated or not groups:
            groups.append([index])
        else:
            groups[-1].append(index)
    out = []
    for group in groups:
        start, end = clauses[group[0]][0], clauses[group[-1]][1]
        out.append((start, end, [p for p in phrases if start <= p.start < end]))
    return out


def _clauses(body: str) -> list[tuple[int, int]]:
    """The clauses of a paragraph: split at ";" and at sentence ends."""
    spans = []
    start = 0
    for match in _CLAUSE_RE.finditer(body):
        if body[start : match.start()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if body[start:].strip():
        spans.append((start, len(body)))
    return spans or [(0, len(body))]


def title_of(text: str) -> str:
    """A task's title: its text on one line, first letter capital."""
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]
