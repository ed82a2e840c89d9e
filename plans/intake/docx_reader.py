"""DOCX: paragraphs and tables in document order, automatic numbering as printed, merged cells."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.etree import _Element

from plans.intake import texts
from plans.intake.document import Block, IntakeError

_ROMAN = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


def read_docx(path: Path) -> tuple[Block, ...]:
    """The blocks of a Word document."""
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IntakeError(texts.DOCX_UNREADABLE.format(name=path.name, reason=exc)) from exc
    styles = _Styles(document)
    numbering = _Numbering.of(document, styles)
    blocks: list[Block] = []
    paragraphs = tables = 0
    for element in _body_items(document.element.body):
        if element.tag == qn("w:p"):
            paragraph = Paragraph(element, document)
            text = (numbering.label(paragraph) + paragraph.text).strip()
            if text:
                paragraphs += 1
                source = texts.SOURCE_PARAGRAPH.format(n=paragraphs)
                blocks.append(Block(text, source, emphasis=_emphasised(paragraph, styles)))
        else:
            tables += 1
            blocks.extend(_rows(Table(element, document), tables, numbering))
    return tuple(blocks)


def _body_items(body: _Element) -> Iterator[_Element]:
    """Paragraphs and tables of the body in order, looking inside content controls."""
    for child in body.iterchildren():
        if child.tag in (qn("w:p"), qn("w:tbl")):
            yield child
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _body_items(content)


def _rows(table: Table, number: int, numbering: _Numbering) -> Iterator[Block]:
    """One block per row; a cell merged across columns is kept once, down rows it repeats."""
    for index, row in enumerate(table.rows, start=1):
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            same = previous is not None and cell._tc is previous._tc
            previous = cell
            if same:
                cells.append("")
                continue
            lines = [numbering.label(p) + p.text for p in cell.paragraphs]
            cells.append("\n".join(line.strip() for line in lines if line.strip()))
        if any(cells):
            text = " ".join(" ".join(c.split()) for c in cells if c)
            source = texts.SOURCE_ROW.format(table=number, row=index)
            yield Block(text, source, cells=tuple(cells), table=number)


class _Styles:
    """Paragraph styles by id, looked up once (python-docx scans all styles on each lookup)."""

    def __init__(self, document: docx.document.Document) -> None:
        self.by_id = {style.style_id: style for style in document.styles}
        self.default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)

    def of(self, paragraph: Paragraph) -> Any:
        """The style of a paragraph (the default one when it names none)."""
        return self.by_id.get(paragraph._p.style or "", self.default)


def _emphasised(paragraph: Paragraph, styles: _Styles) -> bool:
    """Bold throughout, or centred: how plans set headings and titles."""
    style = styles.of(paragraph)
    alignment = paragraph.alignment
    if alignment is None and style is not None:
        alignment = style.paragraph_format.alignment
    if alignment == WD_ALIGN_PARAGRAPH.CENTER:
        return True
    runs = [run for run in paragraph.runs if run.text.strip()]
    style_bold = bool(style is not None and style.font.bold)
    return bool(runs) and all(run.bold or (run.bold is None and style_bold) for run in runs)


@dataclass(frozen=True)
class _Level:
    """One level of a list definition: its start, number format and label pattern."""

    start: int
    fmt: str
    text: str


@dataclass
class _Numbering:
    """Word's automatic list numbers, counted in document order as Word prints them."""

    styles: _Styles
    levels: dict[str, dict[int, _Level]]  # numId → ilvl → level
    # Lists of one definition continue each other's numbers unless a list restarts them.
    keys: dict[str, str] = field(default_factory=dict)  # numId → counter key
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, document: docx.document.Document, styles: _Styles) -> _Numbering:
        """The list definitions of a document (none when it has no numbering part)."""
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return cls(styles, {})
        abstract = {
            a.get(qn("w:abstractNumId")): _levels(a) for a in root.iterfind(qn("w:abstractNum"))
        }
        levels: dict[str, dict[int, _Level]] = {}
        keys: dict[str, str] = {}
        for num in root.iterfind(qn("w:num")):
            num_id = num.get(qn("w:numId"))
            ref = num.find(qn("w:abstractNumId"))
            abstract_id = ref.get(qn("w:val")) if ref is not None else None
            base = dict(abstract.get(abstract_id, {}))
            keys[num_id] = f"a{abstract_id}"
            for override in num.iterfind(qn("w:lvlOverride")):
                start = override.find(qn("w:startOverride"))
                ilvl = int(override.get(qn("w:ilvl"), "0"))
                if start is not None and ilvl in base:
                    old = base[ilvl]
                    base[ilvl] = _Level(int(start.get(qn("w:val"), "1")), old.fmt, old.text)
                    keys[num_id] = f"n{num_id}"
            levels[num_id] = base
        return cls(styles, levels, keys)

    def label(self, paragraph: Paragraph) -> str:
        """The printed number of a list paragraph ("1.2. ", "a) ", "- "), else ""."""
        num_id, ilvl = _num_pr(paragraph, self.styles.of(paragraph))
        definition = self.levels.get(num_id or "")
        if not definition or ilvl not in definition:
            return ""
        counters = self.counters.setdefault(self.keys.get(num_id or "", ""), {})
        level = definition[ilvl]
        counters[ilvl] = counters.get(ilvl, level.start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if level.fmt == "bullet":
            return "- "
        if level.fmt == "none":
            return ""
        text = level.text
        for k, lvl in definition.items():
            value = counters.get(k, lvl.start)
            text = text.replace(f"%{k + 1}", _format(value, lvl.fmt))
        return text + " " if text else ""


def _levels(abstract: _Element) -> dict[int, _Level]:
    """The levels of an abstract list definition."""
    levels: dict[int, _Level] = {}
    for lvl in abstract.iterfind(qn("w:lvl")):
        start = lvl.find(qn("w:start"))
        fmt = lvl.find(qn("w:numFmt"))
        text = lvl.find(qn("w:lvlText"))
        levels[int(lvl.get(qn("w:ilvl"), "0"))] = _Level(
            int(start.get(qn("w:val"), "1")) if start is not None else 1,
            fmt.get(qn("w:val"), "decimal") if fmt is not None else "decimal",
            text.get(qn("w:val"), "") if text is not None else "",
        )
    return levels


def _num_pr(paragraph: Paragraph, style: Any) -> tuple[str | None, int]:
    """The list (numId) and level of a paragraph, from itself or its style."""
    sources = [paragraph._p.pPr]
    while style is not None:
        sources.append(style.element.pPr)
        style = style.base_style
    for ppr in sources:
        num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
        if num_pr is None:
            continue
        num_id = num_pr.find(qn("w:numId"))
        ilvl = num_pr.find(qn("w:ilvl"))
        if num_id is None:
            continue
        value = num_id.get(qn("w:val"))
        return (None if value == "0" else value), int(
            ilvl.get(qn("w:val"))
        ) if ilvl is not None else 0
    return None, 0


def _format(value: int, fmt: str) -> str:
    """A list counter in Word's number format."""
    if fmt in ("upperRoman", "lowerRoman"):
        roman = _roman(value)
        return roman if fmt == "upperRoman" else roman.lower()
    if fmt in ("upperLetter", "lowerLetter"):
        letter = chr(ord("a") + (value - 1) % 26)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt == "decimalZero":
        return f"{value:02d}"
    return str(value)


def _roman(value: int) -> str:
    """An integer in Roman numerals."""
    out = ""
    for amount, numeral in _ROMAN:
        while value >= amount:
            out += numeral
            value -= amount
    return out
