"""The formal BÁO CÁO as a DOCX file, laid out per Nghị định 30/2020/NĐ-CP."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from reports.ooxml import chunks, element_span, rewrite_part, xml_safe, xml_text
from plans.render import due_text
from reports.templates import parts
from reports.model import PlanReport, ReportRow
from plans.status import IN_PROGRESS

FONT = "Times New Roman"
BODY_SIZE = Pt(14)
TABLE_STYLE = "Table Text"
# Nghị định 30/2020, Phụ lục I: A4, top/bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
MARGINS = {"top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}
A4 = (Mm(210), Mm(297))
HEADER_WIDTHS = (Mm(70), Mm(95))
APPENDIX_WIDTHS = (Mm(12), Mm(50), Mm(85), Mm(25), Mm(38), Mm(42))  # landscape text width
CENTRED_COLUMNS = {0, 3}

DOCUMENT_XML = "word/document.xml"
MARKER = "DONDOC-CELL-7F3A9C"
LINE_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_PLACE_AFTER = re.compile(
    r"\b(?:(?:huyện|tỉnh|thành|thị|đảng) (?:ủy|uỷ)|thành phố|thị trấn|thị xã"
    r"|huyện|tỉnh|xã|phường|quận)\s+",
    re.IGNORECASE,
)
UNKNOWN_PLACE = "……"


def write_docx(report: PlanReport, path: Path, place: str | None = None) -> None:
    """Write the report as an administrative BÁO CÁO with the unit × task appendix."""
    words = parts("report_parts.txt.j2")
    document = Document()
    _set_styles(document)
    _set_page(document.sections[0], landscape=False)
    _heading(document, report, words, place or default_place(report.plan.issuer))
    _paragraph(document, words.title(), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(18))
    _paragraph(document, words.subtitle(report.plan), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(document, "", after=Pt(6))
    _body(document, str(words.body(report)))
    _closing(document, report, words)
    _set_page(document.add_section(WD_SECTION.NEW_PAGE), landscape=True)
    for index, line in enumerate(_lines(words.appendix_title(report))):
        _paragraph(
            document, line, bold=index < 2, italic=index >= 2, align=WD_ALIGN_PARAGRAPH.CENTER
        )
    _appendix_table(document, str(words.appendix_columns()).split("|"))
    skeleton = io.BytesIO()
    document.save(skeleton)
    content = _with_rows(_appendix_cells(report.rows))
    rewrite_part(skeleton.getvalue(), Path(path), DOCUMENT_XML, content)


def default_place(issuer: str | None) -> str:
    """The place name of the date line: the words after the issuer's last administrative level."""
    if issuer:
        found = list(_PLACE_AFTER.finditer(issuer))
        if found:
            return issuer[found[-1].end() :].strip() or UNKNOWN_PLACE
    return UNKNOWN_PLACE


def remark(row: ReportRow) -> str:
    """The "Ghi chú" of an appendix row: note, progress, flags and a return reason."""
    items = [row.note.strip()]
    if row.status == IN_PROGRESS and row.percent is not None:
        items.append(f"{row.percent}%")
    items.extend(row.flags)
    items.append(row.return_reason or "")
    return "; ".join(item for item in items if item)


def _lines(text: Any) -> list[str]:
    """Non-empty lines of a rendered macro."""
    return [line.strip() for line in str(text).splitlines() if line.strip()]


def _set_styles(document: DocumentObject) -> None:
    """Times New Roman everywhere (East Asian slots too), 14 pt body, a 12 pt table style."""
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = BODY_SIZE
    _all_slots(normal.element.get_or_add_rPr().get_or_add_rFonts())
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        for fonts in defaults.iter(qn("w:rFonts")):
            _all_slots(fonts)
    spacing = normal.paragraph_format
    spacing.space_before = Pt(0)
    spacing.space_after = Pt(6)
    spacing.line_spacing = 1.0
    table_text = document.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    table_text.font.size = Pt(12)
    table_text.paragraph_format.space_before = Pt(2)
    table_text.paragraph_format.space_after = Pt(2)


def _all_slots(fonts: Any) -> None:
    """Point every script slot of an rFonts element at Times New Roman, no theme fonts."""
    for attribute in list(fonts.attrib):
        if attribute.endswith("Theme"):
            del fonts.attrib[attribute]
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)


def _set_page(section: Section, *, landscape: bool) -> None:
    """A4 with the decree's margins, portrait for the report, landscape for the appendix."""
    width, height = A4
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    for side, margin in MARGINS.items():
        setattr(section, f"{side}_margin", margin)


def _paragraph(
    container: DocumentObject | _Cell,
    text: Any,
    *,
    bold: bool = False,
    italic: bool = False,
    size: Length | None = None,
    align: Any = None,
    before: Length | None = None,
    after: Length | None = None,
    indent: bool = False,
) -> Paragraph:
    """Append one formatted paragraph (a fresh cell's empty first paragraph is reused)."""
    # Only a cell's paragraphs are listed: listing the document's would cost O(n) per call.
    fresh = isinstance(container, _Cell) and _is_blank(container)
    paragraph = container.paragraphs[0] if fresh else container.add_paragraph()
    if text:
        run = paragraph.add_run(xml_safe(str(text)))
        run.bold = bold or None
        run.italic = italic or None
        if size is not None:
            run.font.size = size
    fmt = paragraph.paragraph_format
    if align is not None:
        fmt.alignment = align
    if before is not None:
        fmt.space_before = before
    if after is not None:
        fmt.space_after = after
    if indent:
        fmt.first_line_indent = Cm(1)
        fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    return paragraph


def _is_blank(cell: _Cell) -> bool:
    """A cell that still holds only its initial empty paragraph."""
    paragraphs = cell.paragraphs
    return len(paragraphs) == 1 and not paragraphs[0].text


def _borderless(document: DocumentObject, widths: Sequence[Length]) -> Table:
    """A one-row layout table without borders and with fixed column widths."""
    table = document.add_table(rows=1, cols=len(widths))
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, cell, width in zip(table.columns, table.rows[0].cells, widths, strict=True):
        column.width = width
        cell.width = width
    return table


def _heading(document: DocumentObject, report: PlanReport, words: Any, place: str) -> None:
    """Issuing body and number on the left; nation, motto and place-date on the right."""
    left, right = _borderless(document, HEADER_WIDTHS).rows[0].cells
    centre = WD_ALIGN_PARAGRAPH.CENTER
    body = _lines(words.issuing_body(report.plan))
    for index, line in enumerate(body):
        last = index == len(body) - 1
        _paragraph(left, line, bold=last, size=Pt(13), align=centre, after=Pt(0))
    _paragraph(left, words.number(report.plan), size=Pt(13), align=centre, before=Pt(6))
    _paragraph(right, words.nation(), bold=True, size=Pt(13), align=centre, after=Pt(0))
    _paragraph(right, words.motto(), bold=True, align=centre, after=Pt(0))
    _paragraph(right, words.place_date(place, report.at), italic=True, align=centre, before=Pt(12))


def _body(document: DocumentObject, text: str) -> None:
    """Sections I-III: "# " lines are bold headings, the rest justified paragraphs."""
    for line in _lines(text):
        if line.startswith("# "):
            _paragraph(document, line[2:], bold=True, indent=True, before=Pt(6))
        else:
            _paragraph(document, line, indent=True)


def _closing(document: DocumentObject, report: PlanReport, words: Any) -> None:
    """The recipients ("Nơi nhận") at the bottom left, the signature block on the right."""
    left, right = _borderless(document, HEADER_WIDTHS).rows[0].cells
    recipients = _lines(words.recipients(report.plan))
    _paragraph(left, recipients[0], bold=True, italic=True, size=Pt(12), after=Pt(0), before=Pt(12))
    for line in recipients[1:]:
        _paragraph(left, line, size=Pt(11), after=Pt(0))
    centre = WD_ALIGN_PARAGRAPH.CENTER
    title, *notes = _lines(words.signature())
    _paragraph(right, title, bold=True, align=centre, after=Pt(0), before=Pt(12))
    for line in notes:
        _paragraph(right, line, italic=True, align=centre)


def _appendix_table(document: DocumentObject, headers: Sequence[str]) -> None:
    """The appendix grid: a repeated header row and one marker row the writer multiplies."""
    table = document.add_table(rows=2, cols=len(headers))
    table.style = document.styles["Table Grid"]
    table.autofit = False
    for column, width in zip(table.columns, APPENDIX_WIDTHS, strict=True):
        column.width = width
    header, template = table.rows
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for index, (width, title) in enumerate(zip(APPENDIX_WIDTHS, headers, strict=True)):
        cell = header.cells[index]
        cell.width = width
        paragraph = cell.paragraphs[0]
        paragraph.style = document.styles[TABLE_STYLE]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(title).bold = True
        cell = template.cells[index]
        cell.width = width
        paragraph = cell.paragraphs[0]
        paragraph.style = document.styles[TABLE_STYLE]
        if index in CENTRED_COLUMNS:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(MARKER)


def _appendix_cells(rows: Sequence[ReportRow]) -> Iterator[tuple[str, ...]]:
    """The six cell texts of every appendix row."""
    for number, row in enumerate(rows, 1):
        yield (
            str(number),
            row.unit.name,
            f"{row.task.key} — {row.task.title}",
            due_text(row.period, row.due_date),
            row.category.label,
            remark(row),
        )


def _xml_text(text: str) -> str:
    """Cell text as the content of a <w:t> element (line breaks become <w:br/>)."""
    text = xml_text(text.strip())
    return text.replace("\r\n", "\n").replace("\n", LINE_BREAK) if "\n" in text else text


def _with_rows(rows: Iterable[Sequence[str]]) -> Callable[[str], Iterator[str]]:
    """The document XML with the marker row replaced by one row per item of `rows`."""

    def content(xml: str) -> Iterator[str]:
        start, end = element_span(xml, "w:tr", xml.index(MARKER), xml.rindex(MARKER))
        row_xml = xml[start:end].replace(f"<w:t>{MARKER}", f'<w:t xml:space="preserve">{MARKER}')
        pieces = row_xml.split(MARKER)
        yield xml[:start]
        yield from chunks(_row(pieces, cells) for cells in rows)
        yield xml[end:]

    return content


def _row(pieces: Sequence[str], cells: Sequence[str]) -> str:
    """One <w:tr> from the marker row's pieces and the cell texts."""
    texts = map(_xml_text, cells)
    return "".join(chain.from_iterable(zip(pieces[:-1], texts, strict=True))) + pieces[-1]
