"""The formal BÁO CÁO as a DOCX file, laid out per Nghị định 30/2020/NĐ-CP (State bodies) or
Hướng dẫn 36-HD/VPTW (Party bodies): see reports/letterhead.py."""

from __future__ import annotations

import io
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
from docx.shared import Cm, Emu, Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from plans.render import due_text
from reports.indicator_docx import add_figure_tables, with_figure_rows
from reports.letterhead import Letterhead, letterhead
from reports.model import PlanReport, ReportRow
from reports.ooxml import chunks, element_span, rewrite_part, xml_safe, xml_text
from reports.templates import lines, parts
from storage.enums import ReportStatus

FONT = "Times New Roman"
BODY_SIZE = Pt(14)
TABLE_STYLE = "Table Text"
# Nghị định 30/2020, Phụ lục I: A4, top/bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
MARGINS = {"top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}
A4 = (Mm(210), Mm(297))
HEADER_WIDTHS = (Mm(70), Mm(95))
TEXT_WIDTH = Emu(A4[0] - MARGINS["left"] - MARGINS["right"])
# Average advance of a Times New Roman character, in ems: bold capitals, bold mixed case. Rules
# are sized from it (Nghị định 30/2020: 1/3 to 1/2 of the line above, the Tiêu ngữ's full width).
CAPITALS_EM, MIXED_EM = 0.66, 0.47
SHORT_RULE = 0.4  # of the line above: under the issuing body and the trích yếu
APPENDIX_WIDTHS = (Mm(12), Mm(50), Mm(85), Mm(25), Mm(38), Mm(42))  # landscape text width
CENTRED_COLUMNS = {0, 3}

DOCUMENT_XML = "word/document.xml"
MARKER = "DONDOC-CELL-7F3A9C"
LINE_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
SIGNATURE_LINES = 4  # room for the signature, the seal and the signer's name
# What follows <w:pgNumType> in a <w:sectPr> (ECMA-376 CT_SectPr): it is inserted before them.
AFTER_PAGE_NUMBERING = (
    "w:cols",
    "w:formProt",
    "w:vAlign",
    "w:noEndnote",
    "w:titlePg",
    "w:textDirection",
    "w:bidi",
    "w:rtlGutter",
    "w:docGrid",
    "w:printerSettings",
    "w:sectPrChange",
)


def write_docx(report: PlanReport, path: Path, place: str | None = None) -> None:
    """Write the report as an administrative BÁO CÁO with the unit × task appendix."""
    words = parts("report_parts.txt.j2")
    head = letterhead(report, place)
    document = Document()
    _set_styles(document)
    body = document.sections[0]
    _set_page(body, landscape=False)
    _page_numbers(body)
    _heading(document, head)
    _title(document, head)
    _body(document, str(words.body(report)))
    _closing(document, head)
    appendix = document.add_section(WD_SECTION.NEW_PAGE)
    _set_page(appendix, landscape=True)
    _restart_numbering(appendix)
    for index, line in enumerate(lines(words.appendix_title(report))):
        _paragraph(
            document, line, bold=index < 2, italic=index >= 2, align=WD_ALIGN_PARAGRAPH.CENTER
        )
    _appendix_table(document, str(words.appendix_columns()).split("|"))
    add_figure_tables(document, report.indicators)
    skeleton = io.BytesIO()
    document.save(skeleton)
    content = with_figure_rows(_with_rows(_appendix_cells(report.rows)), report.indicators)
    rewrite_part(skeleton.getvalue(), Path(path), DOCUMENT_XML, content)


def remark(row: ReportRow) -> str:
    """The "Ghi chú" of an appendix row: note, progress, flags and a return reason."""
    items = [row.note.strip()]
    if row.status == ReportStatus.IN_PROGRESS and row.percent is not None:
        items.append(f"{row.percent}%")
    items.extend(row.flags)
    items.append(row.return_reason or "")
    return "; ".join(item for item in items if item)


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


def _page_numbers(section: Section) -> None:
    """The page number centred in the top margin from page 2 on (the first page shows none)."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2")):
        run = paragraph.add_run()
        run.font.size = BODY_SIZE
        if kind is None:
            element = OxmlElement("w:instrText" if text == " PAGE " else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        run._r.append(element)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)


def _restart_numbering(section: Section) -> None:
    """An appendix numbers its own pages from 1, its first page unnumbered (its header is the
    report's, linked)."""
    section.different_first_page_header_footer = True
    numbering = OxmlElement("w:pgNumType")
    numbering.set(qn("w:start"), "1")
    section._sectPr.insert_element_before(numbering, *AFTER_PAGE_NUMBERING)


def _heading(document: DocumentObject, head: Letterhead) -> None:
    """Issuing body, its rule or "*", and number on the left; Quốc hiệu and Tiêu ngữ (or the
    Party's name) over a rule, and the place-date line, on the right."""
    left, right = _borderless(document, HEADER_WIDTHS).rows[0].cells
    centre = WD_ALIGN_PARAGRAPH.CENTER
    for index, line in enumerate(head.body):
        own = index == len(head.body) - 1  # the unit itself, under its parent body
        _paragraph(left, line, bold=own, size=Pt(13), align=centre, after=Pt(0))
    if head.party:
        _paragraph(left, "*", size=Pt(13), align=centre, after=Pt(0))
    else:
        name = _text_width(head.body[-1], Pt(13), CAPITALS_EM)
        _rule(left, name, HEADER_WIDTHS[0], SHORT_RULE)
    _paragraph(left, head.number, size=Pt(13), align=centre, before=Pt(6))
    *upper, motto = head.national
    for line in upper:
        _paragraph(right, line, bold=True, size=Pt(13), align=centre, after=Pt(0))
    size = Pt(15) if head.party else BODY_SIZE
    _paragraph(right, motto, bold=True, size=size, align=centre, after=Pt(0))
    _rule(
        right, _text_width(motto, size, CAPITALS_EM if head.party else MIXED_EM), HEADER_WIDTHS[1]
    )
    _paragraph(right, head.place_date, italic=True, align=centre, before=Pt(12))


def _title(document: DocumentObject, head: Letterhead) -> None:
    """Title and trích yếu over a short rule, then the addressee when there is one."""
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(
        document, head.title, bold=True, size=Pt(15), align=centre, before=Pt(18), after=Pt(0)
    )
    _paragraph(document, head.subtitle, bold=True, align=centre, after=Pt(0))
    _rule(document, _text_width(head.subtitle, BODY_SIZE, MIXED_EM), TEXT_WIDTH, SHORT_RULE)
    if head.addressee:
        _paragraph(document, head.addressee, align=centre, before=Pt(12))
    _paragraph(document, "", after=Pt(6))


def _text_width(text: str, size: Length, em: float) -> Length:
    """About how wide `text` prints in one line at `size` (rules are sized from it)."""
    return Emu(int(len(text) * size * em))


def _rule(
    container: DocumentObject | _Cell, line: Length, width: Length, share: float = 1.0
) -> Paragraph:
    """A centred horizontal rule, `share` of a `line` that wraps at `width`: an empty
    paragraph's bottom border."""
    length = int(min(line, width) * share)
    paragraph = container.add_paragraph()
    border = OxmlElement("w:bottom")
    for name, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        border.set(qn(f"w:{name}"), value)
    borders = OxmlElement("w:pBdr")
    borders.append(border)
    # First in the empty <w:pPr>: the spacing and indents set below go after it, in schema order.
    paragraph._p.get_or_add_pPr().append(borders)
    fmt = paragraph.paragraph_format
    fmt.space_after = Pt(0)
    fmt.left_indent = fmt.right_indent = Emu((width - length) // 2)
    fmt.line_spacing = Pt(3)  # an exact, small line: the rule sits just under the text above
    return paragraph


def _body(document: DocumentObject, text: str) -> None:
    """Sections I-III: "# " lines are bold headings, the rest justified paragraphs."""
    for line in lines(text):
        if line.startswith("# "):
            _paragraph(document, line[2:], bold=True, indent=True, before=Pt(6))
        else:
            _paragraph(document, line, indent=True)


def _closing(document: DocumentObject, head: Letterhead) -> None:
    """The recipients ("Nơi nhận") at the bottom left, the signer's title on the right with room
    for the signature (a Party document underlines "Nơi nhận", a State one sets it bold italic)."""
    left, right = _borderless(document, HEADER_WIDTHS).rows[0].cells
    label, *recipients = head.recipients
    heading = _paragraph(left, label, size=Pt(12), after=Pt(0), before=Pt(12))
    if head.party:
        heading.runs[0].underline = True
    else:
        heading.runs[0].bold = heading.runs[0].italic = True
    for line in recipients:
        _paragraph(left, line, size=Pt(11), after=Pt(0))
    centre = WD_ALIGN_PARAGRAPH.CENTER
    for index, line in enumerate(head.signer):
        _paragraph(
            right, line, bold=True, align=centre, after=Pt(0), before=Pt(12) if not index else None
        )
    for _ in range(SIGNATURE_LINES):
        _paragraph(right, "", after=Pt(0))


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
