"""The report as an XLSX workbook: a summary, a line per unit, a row per occurrence."""

# The occurrence sheet is a long table (one row per unit × task × period) rather than a
# units × tasks matrix: recurring tasks would need several periods in one matrix cell, and a
# coordinator filters a long table by unit, task, category or date and pivots it at will.

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from plans.status import PERIOD_LABELS, STATUS_LABELS, Category
from reports.indicator_xlsx import figures_sheet
from reports.model import PlanReport, ReportRow, Tally
from reports.ooxml import chunks, element_span, rewrite_parts, xml_safe, xml_text
from reports.templates import lines, parts

DATE_FORMAT = "dd/mm/yyyy"
TIME_FORMAT = "hh:mm dd/mm/yyyy"
PERCENT_FORMAT = "0.0%"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
WRAP = Alignment(wrap_text=True, vertical="top")
UNIT_WIDTHS = (14, 40, 12, 12, 12, 12, 12, 12, 10, 12, 12, 12, 12, 12)
ROW_WIDTHS = (7, 14, 36, 10, 50, 12, 24, 16, 6, 40, 13, 10, 28)
DATE_COLUMNS = (5, 10)  # Hạn, Ngày báo cáo (0-based)
COLUMN_LETTERS = tuple(get_column_letter(i) for i in range(1, len(ROW_WIDTHS) + 1))
EXCEL_EPOCH = date(1899, 12, 30)
_CELL_STYLE = re.compile(r'<c r="([A-Z]+)2"[^>]*? s="(\d+)"')


def write_xlsx(report: PlanReport, path: Path) -> None:
    """Write the workbook: openpyxl (write-only) lays it out, the long table is streamed in."""
    words = parts("report_parts.txt.j2")
    workbook = Workbook(write_only=True)
    _summary(workbook.create_sheet(str(words.sheet_summary())), report, words)
    _units(workbook.create_sheet(str(words.sheet_units())), report, words)
    rows_sheet = workbook.create_sheet(report.plan.code[:31])  # codes are [A-Za-z0-9_-]
    _rows_skeleton(rows_sheet, report, words)
    part = f"xl/worksheets/sheet{workbook.index(rows_sheet) + 1}.xml"
    contents = {part: _with_rows(report.rows)}
    figures = figures_sheet(workbook, report.indicators)  # reports/indicator_xlsx.py
    if figures is not None:
        contents[figures[0]] = figures[1]
    skeleton = io.BytesIO()
    workbook.save(skeleton)
    rewrite_parts(skeleton.getvalue(), Path(path), contents)


def _header_row(sheet: WriteOnlyWorksheet, titles: Sequence[str]) -> list[WriteOnlyCell]:
    """Bold, shaded, wrapped header cells."""
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = WRAP
        cells.append(cell)
    return cells


def _styled(sheet: WriteOnlyWorksheet, value: Any, number_format: str) -> WriteOnlyCell:
    """A cell with a number format (dates, percentages)."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _widths(sheet: WriteOnlyWorksheet, widths: Sequence[int]) -> None:
    """Column widths; write-only sheets need them before the first row."""
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _filtered(sheet: WriteOnlyWorksheet, columns: int, rows: int) -> None:
    """Freeze the header row and put an auto-filter over the table."""
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{max(rows, 1) + 1}"


def _summary(sheet: WriteOnlyWorksheet, report: PlanReport, words: Any) -> None:
    """Plan header, counts per category and the completion rate."""
    plan, tally = report.plan, report.tally
    _widths(sheet, (46, 60, 12))
    title = WriteOnlyCell(sheet, value=str(words.summary_heading(plan)))
    title.font = Font(bold=True, size=13)
    sheet.append([title])
    values: list[Any] = [
        _text(sheet, plan.title),
        _text(sheet, plan.issuer),
        _styled(sheet, plan.issued, DATE_FORMAT),
        _text(sheet, plan.coordinator.name),
        _as_of(sheet, report),
        report.units_count,
        report.tasks_count,
    ]
    labels = lines(words.summary_labels())
    for label, value in zip(labels, values, strict=True):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(_header_row(sheet, str(words.summary_columns()).split("|")))
    for category in Category:
        count = tally.counts[category]
        share = _styled(sheet, count / tally.total if tally.total else None, PERCENT_FORMAT)
        sheet.append([category.label, count, share])
    total, done, dated, completion, due_soon, unreported, blocked = lines(words.summary_totals())
    sheet.append([_bold(sheet, total), tally.total])
    sheet.append([done, tally.done])
    sheet.append([dated, tally.dated])
    sheet.append([completion, None, _styled(sheet, _fraction(tally), PERCENT_FORMAT)])
    sheet.append([due_soon, tally.due_soon])
    sheet.append([unreported, tally.unreported])
    sheet.append([blocked, tally.blocked])
    notes = [  # the footnotes the other formats carry (reports/templates/)
        *([words.dissolved_note(report)] if report.dissolved else []),
        *([words.closed_note(report)] if report.closed else []),
    ]
    if notes:
        sheet.append([])
    for text in notes:
        note = WriteOnlyCell(sheet, value=str(text).strip())
        note.alignment = WRAP
        sheet.append([note])


def _units(sheet: WriteOnlyWorksheet, report: PlanReport, words: Any) -> None:
    """One line per unit: counts per category, open flags and completion rate."""
    by_unit: dict[int, list[ReportRow]] = defaultdict(list)
    for row in report.rows:
        by_unit[row.unit.id].append(row)
    headers = str(words.unit_columns()).split("|")
    _widths(sheet, UNIT_WIDTHS)
    _filtered(sheet, len(headers), len(by_unit))
    sheet.append(_header_row(sheet, headers))
    for rows in by_unit.values():
        unit, tally = rows[0].unit, Tally.of(rows)
        sheet.append(
            [
                unit.code,
                _text(sheet, unit.name),
                *(tally.counts[c] for c in Category),
                tally.total,
                tally.unreported,
                tally.blocked,
                tally.done,
                tally.dated,
                _styled(sheet, _fraction(tally), PERCENT_FORMAT),
            ]
        )


def _rows_skeleton(sheet: WriteOnlyWorksheet, report: PlanReport, words: Any) -> None:
    """Header and one styled sample row of the long table; `_with_rows` fills it in."""
    headers = str(words.row_columns()).split("|")
    _widths(sheet, ROW_WIDTHS)
    _filtered(sheet, len(headers), len(report.rows))
    sheet.append(_header_row(sheet, headers))
    sample: list[Any] = [0] * len(headers)
    for index in DATE_COLUMNS:
        sample[index] = _styled(sheet, 0, DATE_FORMAT)
    sheet.append(sample)


def _with_rows(rows: Sequence[ReportRow]) -> Callable[[str], Iterator[str]]:
    """The sheet XML with the sample row replaced by one row per occurrence."""

    def content(xml: str) -> Iterator[str]:
        sample = xml.index('<c r="A2"')
        start, end = element_span(xml, "row", sample, sample)
        styles = {column: f' s="{style}"' for column, style in _CELL_STYLE.findall(xml[start:end])}
        yield xml[:start]
        lines = (_row_xml(n + 1, _values(n, row), styles) for n, row in enumerate(rows, 1))
        yield from chunks(lines)
        yield xml[end:]

    return content


def _values(number: int, row: ReportRow) -> tuple[Any, ...]:
    """The cells of one occurrence, in the order of the header (`row_columns`)."""
    return (
        number,
        row.unit.code,
        row.unit.name,
        row.task.key,
        row.task.title,
        row.due_date or PERIOD_LABELS.get(row.period, row.period),
        row.category.label,
        STATUS_LABELS[row.status],
        row.percent,
        row.note,
        row.reported_on,
        row.evidence_count or None,
        ", ".join(filter(None, [*row.flags, row.return_reason])),
    )


def _row_xml(number: int, values: Sequence[Any], styles: dict[str, str]) -> str:
    """One <row> of inline strings, numbers and date serials (empty values are left out)."""
    cells = []
    for column, value in zip(COLUMN_LETTERS, values, strict=True):
        if value is None or value == "":
            continue
        ref = f"{column}{number}"
        style = styles.get(column, "")
        if isinstance(value, str):
            text = xml_text(value)
            cells.append(
                f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
            )
        elif isinstance(value, date):
            cells.append(f'<c r="{ref}"{style}><v>{(value - EXCEL_EPOCH).days}</v></c>')
        else:
            cells.append(f'<c r="{ref}"{style}><v>{value}</v></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def _as_of(sheet: WriteOnlyWorksheet, report: PlanReport) -> WriteOnlyCell:
    """When the figures stand: the report's day, or its local time on that day."""
    if report.as_of is None:
        return _styled(sheet, report.at, DATE_FORMAT)
    return _styled(sheet, datetime.combine(report.at, report.as_of), TIME_FORMAT)


def _fraction(tally: Tally) -> float | None:
    """The completion rate as a fraction for a percent-formatted cell."""
    return tally.done / tally.dated if tally.dated else None


def _text(sheet: WriteOnlyWorksheet, value: str | None) -> str | WriteOnlyCell | None:
    """User text as a cell value: illegal characters dropped, never read as a formula."""
    if not value:
        return None
    value = xml_safe(value)
    if not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # a note such as "=HYPERLINK(...)" stays text
    return cell


def _bold(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    """A bold text cell."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = HEADER_FONT
    return cell
