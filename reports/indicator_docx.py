"""The indicator tables in the DOCX appendix: laid out by python-docx, rows streamed in.

As for the appendix of reports/docx_writer.py, each table is written with marker rows (one for
a unit, one bold for a total) that the streamed document multiplies: a plan of 5,000 units
costs seconds, not the minutes python-docx would take cell by cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.shared import Mm, Pt

from reports.indicator_tables import IndicatorTable
from reports.ooxml import chunks, element_span, xml_text
from reports.templates import parts

TABLE_STYLE = "Table Text"  # reports/docx_writer.py sets it up
TEXT_WIDTH = Mm(252)  # landscape A4 within the decree's margins
NUMBER_WIDTH, UNIT_WIDTH = Mm(12), Mm(60)
MARKER = "DONDOC-FIGURE-5C2D"


def add_figure_tables(document: DocumentObject, tables: Sequence[IndicatorTable]) -> None:
    """A new page of the appendix: per task, its title, period and a table with marker rows."""
    if not tables:
        return
    words = parts("indicator_parts.txt.j2")
    title = _centred(document, str(words.section_title()).upper(), bold=True)
    title.paragraph_format.page_break_before = True
    for index, table in enumerate(tables):
        _centred(
            document, str(words.table_title(table)), bold=True
        ).paragraph_format.space_before = Pt(12)
        _centred(document, str(words.period(table)), italic=True)
        headers = [str(words.unit_column()), *table.headers()]
        _grid(document, index, ["TT", *headers])


def with_figure_rows(
    content: Callable[[str], Iterator[str]], tables: Sequence[IndicatorTable]
) -> Callable[[str], Iterator[str]]:
    """`content` with each table's marker rows replaced by its lines, subtotals and totals."""
    if not tables:
        return content

    def expanded(xml: str) -> Iterator[str]:
        for piece in content(xml):
            if MARKER not in piece:
                yield piece
                continue
            for index, table in enumerate(tables):
                start, end = element_span(
                    piece,
                    "w:tr",
                    piece.index(_marker(index, "U")),
                    piece.index(_marker(index, "S")),
                )
                plain, bold = _pieces(piece[start:end], _marker(index, "U"), _marker(index, "S"))
                yield piece[:start]
                yield from chunks(_rows(table, plain, bold))
                piece = piece[end:]
            yield piece

    return expanded


def _marker(index: int, kind: str) -> str:
    """The text of every cell of a table's marker row: U for a unit, S for a total."""
    return f"{MARKER}-{index:04d}{kind}"


def _centred(
    document: DocumentObject, text: str, *, bold: bool = False, italic: bool = False
) -> Any:
    """A centred paragraph."""
    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return paragraph


def _grid(document: DocumentObject, index: int, headers: Sequence[str]) -> None:
    """A table with a repeated header row and the two marker rows."""
    rest = (TEXT_WIDTH - NUMBER_WIDTH - UNIT_WIDTH) // max(len(headers) - 2, 1)
    widths = [NUMBER_WIDTH, UNIT_WIDTH, *([rest] * (len(headers) - 2))]
    table = document.add_table(rows=3, cols=len(headers))
    table.style = document.styles["Table Grid"]
    table.autofit = False
    header, unit, total = table.rows
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row, text, bold in ((header, None, True), (unit, "U", False), (total, "S", True)):
        for position, (cell, width) in enumerate(zip(row.cells, widths, strict=True)):
            cell.width = width
            paragraph = cell.paragraphs[0]
            paragraph.style = document.styles[TABLE_STYLE]
            if text is None or position != 1:
                paragraph.alignment = (
                    WD_ALIGN_PARAGRAPH.CENTER
                    if text is None or position == 0
                    else WD_ALIGN_PARAGRAPH.RIGHT
                )
            run = paragraph.add_run(headers[position] if text is None else _marker(index, text))
            run.bold = bold or None


def _pieces(rows_xml: str, unit: str, total: str) -> tuple[list[str], list[str]]:
    """The XML around the cells of the two marker rows."""
    split = rows_xml.index("</w:tr>") + len("</w:tr>")
    return _split(rows_xml[:split], unit), _split(rows_xml[split:], total)


def _split(row_xml: str, marker: str) -> list[str]:
    """A marker row cut at its cells' texts."""
    return row_xml.replace(f"<w:t>{marker}", f'<w:t xml:space="preserve">{marker}').split(marker)


def _rows(table: IndicatorTable, plain: list[str], bold: list[str]) -> Iterable[str]:
    """The table's lines: units, then group subtotals and the totals in bold."""
    for number, line in enumerate(table.lines, 1):
        yield _row(plain, [str(number), line.unit.name, *table.cells(line)])
    for label, cells in [*table.subtotal_lines(), *table.summary()]:
        yield _row(bold, ["", label, *cells])


def _row(pieces: Sequence[str], cells: Sequence[str]) -> str:
    """One <w:tr> from a marker row's pieces and the cell texts."""
    texts = (xml_text(cell) for cell in cells)
    return "".join(chain.from_iterable(zip(pieces[:-1], texts, strict=True))) + pieces[-1]
