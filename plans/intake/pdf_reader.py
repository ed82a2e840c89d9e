"""PDF with a text layer, read with pdfplumber.

pdfplumber (on pdfminer.six) was chosen over pypdf and pypdfium2 because it gives every line with
its position and finds ruled tables: an appendix table in a PDF comes out as rows of cells, like
a DOCX table, and first-line indents and gaps between lines help rebuild paragraphs. A PDF
without a text layer (a scan) is refused with what to do instead.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfparser import PDFSyntaxError
from pdfplumber.utils.exceptions import PdfminerException

from plans.intake import texts
from plans.intake.document import Block, IntakeError
from plans.intake.text_reader import Line, reflow

# Fewer characters than this per page on average: the text layer is missing (a scan).
_MIN_CHARS_PER_PAGE = 20
# A first-line indent lies this far right of the left margin (points); further is centred text.
_INDENT = (8.0, 60.0)
_RAGGED = 0.12  # a line ending this share of the text width short of the right margin
_PAGE_NUMBER_RE = re.compile(r"^[-–\s]*[0-9]{1,3}[-–\s]*$")


def read_pdf(path: Path) -> tuple[Block, ...]:
    """The blocks of a PDF: text lines rebuilt into paragraphs, ruled tables as rows."""
    try:
        with pdfplumber.open(str(path)) as pdf:
            pages = list(pdf.pages)
            if sum(len(page.chars) for page in pages) < _MIN_CHARS_PER_PAGE * max(1, len(pages)):
                raise IntakeError(texts.SCANNED_PDF.format(name=path.name))
            return tuple(_blocks(pages))
    except (PdfminerException, PDFSyntaxError, ValueError, KeyError) as exc:
        raise IntakeError(texts.PDF_UNREADABLE.format(name=path.name, reason=exc)) from exc


def _blocks(pages: list[Any]) -> list[Block]:
    """Lines and table rows of every page in reading order; paragraphs may cross pages."""
    blocks: list[Block] = []
    pending: list[Line] = []
    tables = 0
    for number, page in enumerate(pages, start=1):
        found = page.find_tables()
        boxes = [table.bbox for table in found]
        outside = page.filter(lambda obj, boxes=boxes: not _inside(obj, boxes))
        items: list[tuple[float, str, Any]] = [
            (line["top"], "line", line)
            for line in outside.extract_text_lines(keep_blank_chars=False)
            if not _PAGE_NUMBER_RE.match(line["text"])
        ]
        items += [(table.bbox[1], "table", table) for table in found]
        items.sort(key=lambda item: item[0])
        text_lines = [item[2] for item in items if item[1] == "line"]
        margin = min((line["x0"] for line in text_lines), default=0.0)
        right = max((line["x1"] for line in text_lines), default=0.0)
        bottom: float | None = None
        line_number = 0
        for _, kind, item in items:
            if kind == "table":
                blocks.extend(reflow(pending))
                pending = []
                tables += 1
                blocks.extend(_rows(item.extract(), tables))
                bottom = None
                continue
            height = item["bottom"] - item["top"]
            gap = bottom is not None and item["top"] - bottom > 0.8 * height
            line_number += 1
            source = texts.SOURCE_PAGE_LINE.format(page=number, n=line_number)
            indent = item["x0"] - margin
            ragged = right - item["x1"] > _RAGGED * (right - margin)
            bold = all(
                "bold" in c.get("fontname", "").lower() for c in item["chars"] if c["text"].strip()
            )
            line = Line(item["text"].strip(), source, bool(gap), _INDENT[0] < indent < _INDENT[1])
            pending.append(replace(line, ragged=ragged, bold=bold))
            bottom = item["bottom"]
    blocks.extend(reflow(pending))
    return blocks


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    """Whether a character or graphic lies inside one of the table boxes."""
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _rows(rows: list[list[str | None]], table: int) -> list[Block]:
    """Table rows as blocks; cells covered by a merged cell are blank."""
    blocks = []
    for index, row in enumerate(rows, start=1):
        cells = tuple(" ".join((cell or "").split()) for cell in row)
        if any(cells):
            text = " ".join(c for c in cells if c)
            source = texts.SOURCE_ROW.format(table=table, row=index)
            blocks.append(Block(text, source, cells=cells, table=table))
    return blocks
