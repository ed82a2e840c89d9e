"""Plain text and Markdown (UTF-8), and the reflow of hard-wrapped lines into paragraphs.

Text copied out of a PDF or a mail keeps the page's line breaks, and sometimes blank lines in the
middle of a sentence. Lines are joined back into paragraphs: a paragraph ends before a numbered
or bulleted line, before a blank line (unless the sentence runs on in lower case), and after a
line that stops well short of the page width (a heading or a paragraph's last line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from statistics import quantiles

from plans.intake import texts
from plans.intake.document import Block, IntakeError

# The numbering or bullet that opens a paragraph: "IV.", "1.", "1.2.", "a)", "-", "+", "•".
MARKER_RE = re.compile(
    r"^(?:(?:[IVXLC]+|[0-9]{1,2}(?:\.[0-9]{1,2})*)[.)]|[0-9]{1,2}(?:\.[0-9]{1,2})+|[a-zđ]\)"
    r"|[-+•*–])(?=\s)"
)
_TERMINAL = tuple(".:;!?")
_MARKUP_RE = re.compile(r"</?(?:b|strong|i|em|u)>|\*\*|__")
_GAP_RE = re.compile(r"(?<=\S) {3,}(?=\S)")
_RULE_RE = re.compile(r"^\s*(?:[-_=*]\s*){3,}$")
_MD_HEADING_RE = re.compile(r"^#{1,6}\s+")
_MD_TABLE_RULE_RE = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")
# Lines this much shorter than the usual full line end their paragraph; a numbered first line
# (a heading such as "10. UBND các xã, thị trấn") ends sooner when a capital follows.
_SHORT = 0.7
_SHORT_HEADING = 0.85
# Text whose lines are this long was not wrapped: every line is a paragraph.
_UNWRAPPED = 160


@dataclass(frozen=True)
class Line:
    """One printed line, with where it came from and whether a blank line preceded it."""

    text: str
    source: str
    blank_before: bool = False
    indented: bool = False  # a first-line indent (PDF): a paragraph starts here
    ragged: bool | None = None  # stops well short of the right margin (PDF); None: unknown
    bold: bool = False


def read_text(path: Path) -> tuple[Block, ...]:
    """The blocks of a UTF-8 text or Markdown file; tab- or pipe-separated lines are rows."""
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IntakeError(texts.NOT_UTF8.format(name=path.name)) from exc
    except OSError as exc:
        raise IntakeError(texts.UNREADABLE_FILE.format(name=path.name, reason=exc)) from exc
    blocks: list[Block] = []
    pending: list[Line] = []
    tables = 0
    in_table = False
    blank = False
    for number, raw_line in enumerate(raw.splitlines(), start=1):
        line = _MD_HEADING_RE.sub("", _MARKUP_RE.sub("", raw_line)).rstrip()
        line = _GAP_RE.sub("\t", line)  # two columns side by side, as headers are printed
        cells = _cells(line)
        if cells is not None:
            if not in_table:
                blocks.extend(reflow(pending))
                pending = []
                tables += 1
                in_table = True
            if any(cells):
                text = " ".join(c for c in cells if c)
                source = texts.SOURCE_LINE.format(n=number)
                blocks.append(Block(text, source, cells=cells, table=tables))
            continue
        in_table = False
        if not line.strip() or _RULE_RE.match(line):
            blank = True
            continue
        pending.append(Line(line.strip(), texts.SOURCE_LINE.format(n=number), blank))
        blank = False
    blocks.extend(reflow(pending))
    return tuple(blocks)


def _cells(line: str) -> tuple[str, ...] | None:
    """The cells of a table line (tab- or pipe-separated), or None for a text line."""
    stripped = line.strip()
    if stripped.startswith("|") and stripped.count("|") >= 2:
        if _MD_TABLE_RULE_RE.match(stripped):
            return ()
        return tuple(" ".join(c.split()) for c in stripped.strip("|").split("|"))
    if "\t" in stripped:
        return tuple(" ".join(c.split()) for c in line.split("\t"))
    return None


def reflow(lines: list[Line]) -> list[Block]:
    """Join wrapped lines back into paragraphs."""
    if not lines:
        return []
    lengths = [len(line.text) for line in lines]
    wide = quantiles(lengths, n=4)[2] if len(lengths) > 1 else lengths[0]
    if wide >= _UNWRAPPED:
        return [Block(line.text, line.source) for line in lines]
    blocks: list[Block] = []
    current: list[Line] = []
    for line in lines:
        if current and _starts_paragraph(current, line, wide):
            blocks.append(_paragraph(current))
            current = []
        current.append(line)
    blocks.append(_paragraph(current))
    return blocks


def _paragraph(lines: list[Line]) -> Block:
    """A paragraph made of its lines."""
    text = " ".join(" ".join(line.text for line in lines).split())
    emphasis = all(line.bold or _capitals(line.text) for line in lines)
    return Block(text, lines[0].source, emphasis=emphasis)


def _starts_paragraph(current: list[Line], line: Line, wide: float) -> bool:
    """Whether `line` opens a new paragraph after the lines of the current one."""
    previous, text = current[-1].text, line.text
    ended = previous.endswith(_TERMINAL)
    heading = len(current) == 1 and bool(MARKER_RE.match(previous))
    short = len(previous) < (_SHORT_HEADING if heading else _SHORT) * wide
    if current[-1].ragged is not None:
        short = current[-1].ragged
    if line.indented or (_capitals(previous) and not _capitals(text)):
        return True
    if _capitals(text) and not _capitals(previous) and (short or ended):
        return True
    if MARKER_RE.match(text):
        return line.blank_before or ended or short
    lower = text[:1].islower()
    if line.blank_before:
        return ended or not lower
    if lower or not text[:1].isalpha():
        return False
    return short or (line.indented and ended)


def _capitals(text: str) -> bool:
    """Whether a line is written in capitals (a heading), ignoring its numbering."""
    words = [w for w in MARKER_RE.sub("", text).split() if any(c.isalpha() for c in w)]
    letters = [c for w in words for c in w if c.isalpha()]
    return len(words) >= 2 and all(c.isupper() for c in letters)
