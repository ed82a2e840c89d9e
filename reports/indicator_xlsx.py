"""The indicator sheet of the XLSX report: a row per unit, a column per indicator, formulas.

Figures are numbers (a percent as a fraction in a % cell, a ratio as its part and total with
the rate computed beside them); every total, subtotal, target check and count is a formula
over the unit rows, so Excel recomputes them when the office corrects a figure. Each formula
carries the value dondoc computed (plans/indicator_totals.py) as its cached result, for
viewers that do not recompute. Units come in the order of the unit tree, so the units below a
group are consecutive rows and its subtotal is a formula over one range. A unit a task is not
assigned to shows a dash, which no formula counts. The rows are streamed into the sheet that
openpyxl laid out, as for the long table of reports/xlsx_writer.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from plans.indicator_totals import Total
from plans.indicators import Combine, IndicatorKind, IndicatorSpec, Op, Target, Value, say
from reports.indicator_tables import FigureLine, IndicatorTable, UnitLike
from reports.ooxml import chunks, element_span, xml_text
from reports.templates import parts

PERCENT_FORMAT = "0.0%"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
WRAP = Alignment(wrap_text=True, vertical="top")
FIRST_ROW = 2  # below the header
NOT_ASSIGNED = "—"
_STYLE = re.compile(r'<c r="([A-Z]+)2"[^>]*? s="(\d+)"')
_OPERATORS = {Op.GE: ">=", Op.LE: "<=", Op.EQ: "=", Op.GT: ">", Op.LT: "<"}

Cell = tuple[str, Any, str]  # (formula or "", value, style: "", "percent" or "bold")


@dataclass(frozen=True)
class _Column:
    """One sheet column of an indicator: its value, or a ratio's part, total or rate."""

    table: int
    index: int  # the indicator's position in its table
    spec: IndicatorSpec
    role: str  # value | part | whole | rate
    letter: str

    @property
    def measure(self) -> bool:
        """Whether targets are compared with this column (a value, or a ratio's rate)."""
        return self.role in ("value", "rate")

    @property
    def percent(self) -> bool:
        """Whether the column holds fractions shown as percentages."""
        fraction = self.spec.kind == IndicatorKind.PERCENT or self.spec.unit == "%"
        return self.role == "rate" or (self.role == "value" and fraction)


def figures_sheet(
    workbook: Workbook, tables: Sequence[IndicatorTable]
) -> tuple[str, Callable[[str], Iterator[str]]] | None:
    """Add the sheet (header and a styled sample row); its part and how to stream its rows."""
    if not tables:
        return None
    words = parts("indicator_parts.txt.j2")
    layout = _Layout(tables)
    sheet = workbook.create_sheet(str(words.sheet_title()))
    widths = [6, 14, 36, *([16] * len(layout.columns))]
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "D2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{len(layout.units) + 1}"
    titles = ["TT", str(words.code_column()), str(words.unit_column())]
    titles += [str(words.column_title(tables[c.table], c.spec, c.role)) for c in layout.columns]
    sheet.append([_header(sheet, title) for title in titles])
    percent = WriteOnlyCell(sheet, value=0)
    percent.number_format = PERCENT_FORMAT
    bold = WriteOnlyCell(sheet, value="")
    bold.font = HEADER_FONT
    sheet.append([0, percent, bold])  # the styles the streamed cells take (_with_rows)
    part = f"xl/worksheets/sheet{workbook.index(sheet) + 1}.xml"
    return part, _with_rows(layout, words)


def _header(sheet: Any, title: str) -> WriteOnlyCell:
    """A bold, shaded, wrapped header cell."""
    cell = WriteOnlyCell(sheet, value=title)
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.alignment = WRAP
    return cell


class _Layout:
    """Where everything goes: a column per indicator (three for a ratio), a row per unit."""

    def __init__(self, tables: Sequence[IndicatorTable]) -> None:
        self.tables = tables
        self.columns: list[_Column] = []
        for t, table in enumerate(tables):
            for n, spec in enumerate(table.specs):
                roles = (
                    ("part", "whole", "rate") if spec.kind == IndicatorKind.RATIO else ("value",)
                )
                for role in roles:
                    letter = get_column_letter(4 + len(self.columns))
                    self.columns.append(_Column(t, n, spec, role, letter))
        units: dict[str, tuple[tuple[int, ...], UnitLike]] = {}
        self.lines: list[dict[str, FigureLine]] = []
        for table in tables:
            self.lines.append({line.unit.code: line for line in table.lines})
            for line in table.lines:
                units[line.unit.code] = (line.path, line.unit)
        ordered = sorted(units.values(), key=lambda found: found[0])
        self.units = [unit for _, unit in ordered]
        self.last = FIRST_ROW + len(self.units) - 1
        # A group's units are consecutive rows: its range is from its first to its last.
        self.spans: dict[int, tuple[int, int]] = {}
        for row, (path, _) in enumerate(ordered, FIRST_ROW):
            for node_id in path:
                self.spans[node_id] = (self.spans.get(node_id, (row, row))[0], row)

    def groups(self) -> list[tuple[UnitLike, dict[int, tuple[Total, ...]]]]:
        """Each group node of any table, in tree order, with its subtotals per table."""
        found: dict[str, tuple[tuple[int, ...], UnitLike, dict[int, tuple[Total, ...]]]] = {}
        for t, table in enumerate(self.tables):
            for group in table.groups:
                found.setdefault(group.unit.code, (group.path, group.unit, {}))[2][t] = group.totals
        return [(unit, totals) for _, unit, totals in sorted(found.values(), key=lambda g: g[0])]


def _with_rows(layout: _Layout, words: Any) -> Callable[[str], Iterator[str]]:
    """The sheet XML with the sample row replaced by the units, subtotals and totals."""

    def content(xml: str) -> Iterator[str]:
        sample = xml.index('<c r="A2"')
        start, end = element_span(xml, "row", sample, sample)
        found = dict(_STYLE.findall(xml[start:end]))
        styles = {"": "", "percent": f' s="{found["B"]}"', "bold": f' s="{found["C"]}"'}
        yield xml[:start]
        yield from chunks(_rows(layout, words, styles))
        yield xml[end:]

    return content


def _rows(layout: _Layout, words: Any, styles: dict[str, str]) -> Iterator[str]:
    """Every row of the sheet below the header."""
    row = FIRST_ROW
    for number, unit in enumerate(layout.units, 1):
        cells: list[Cell] = [("", number, ""), ("", unit.code, ""), ("", unit.name, "")]
        cells += [_unit_cell(layout, column, unit.code, row) for column in layout.columns]
        yield _row_xml(row, cells, styles)
        row += 1
    row += 1  # a blank row between the units and what sums them up
    for unit, totals in layout.groups():
        span = layout.spans[unit.id]
        label = str(words.group_label(unit.name))
        by_column = {
            c.letter: _combined(c, totals[c.table][c.index], span, row)
            for c in layout.columns
            if c.table in totals
        }
        yield _row_xml(row, _labelled(label, layout, by_column), styles)
        row += 1
    yield from _summary(layout, words, styles, row)


def _summary(layout: _Layout, words: Any, styles: dict[str, str], row: int) -> Iterator[str]:
    """The totals, targets, checks and counts over every unit row."""
    span = (FIRST_ROW, layout.last)
    totals = {c.letter: layout.tables[c.table].totals[c.index] for c in layout.columns}
    measures = [c for c in layout.columns if c.measure]
    total_row = row
    combined = {c.letter: _combined(c, totals[c.letter], span, row) for c in layout.columns}
    yield _row_xml(row, _labelled(str(words.total_label()), layout, combined), styles)
    targets = {
        c.letter: ("", c.spec.target.text, "")
        for c in layout.columns
        if c.measure and c.spec.target is not None
    }
    yield _row_xml(row + 1, _labelled(str(words.target_label()), layout, targets), styles)
    met = {
        c.letter: _met(c, totals[c.letter], span, f"{c.letter}{total_row}", words)
        for c in measures
        if c.spec.target is not None
    }
    yield _row_xml(row + 2, _labelled(str(words.met_label()), layout, met), styles)
    meeting = {
        c.letter: _meeting(c, totals[c.letter], span)
        for c in measures
        if c.spec.target_unit is not None
    }
    yield _row_xml(row + 3, _labelled(str(words.meeting_label()), layout, meeting), styles)
    missing = {
        c.letter: (f"COUNTBLANK({_range(c, span)})", totals[c.letter].missing, "")
        for c in layout.columns
        if c.role in ("value", "part")  # each indicator's first column
    }
    yield _row_xml(row + 4, _labelled(str(words.missing_label()), layout, missing), styles)


def _labelled(label: str, layout: _Layout, cells: dict[str, Cell]) -> list[Cell]:
    """A row of the summary: its label in bold, then a cell per column (blank where none)."""
    return [("", None, ""), ("", None, ""), ("", label, "bold")] + [
        cells.get(c.letter, ("", None, "")) for c in layout.columns
    ]


def _unit_cell(layout: _Layout, column: _Column, code: str, row: int) -> Cell:
    """A unit's figure in one column: a number, a word, a rate formula; a dash if not assigned."""
    line = layout.lines[column.table].get(code)
    if line is None:
        return ("", NOT_ASSIGNED, "")
    value = line.values[column.index]
    if column.role == "rate":
        part, whole = _sibling(column, "part"), _sibling(column, "whole")
        formula = f'IF(N({whole}{row})=0,"",{part}{row}/{whole}{row})'
        rate = value.percent / 100 if value is not None and value.percent is not None else ""
        return (formula, rate, "percent")
    if value is None:
        return ("", None, "")
    return ("", _figure(column, value), "percent" if column.percent else "")


def _figure(column: _Column, value: Value) -> Any:
    """The number or word a column holds for a value."""
    if column.role == "whole":
        return value.whole
    if value.kind == IndicatorKind.YESNO:
        return say("yes") if value.number else say("no")
    if value.kind == IndicatorKind.TEXT:
        return value.text
    assert value.number is not None
    return value.number / 100 if column.percent else value.number


def _sibling(column: _Column, role: str) -> str:
    """The letter of another column of the same ratio (part, whole, rate are consecutive)."""
    offset = ("part", "whole", "rate").index(role) - ("part", "whole", "rate").index(column.role)
    return get_column_letter(_index(column.letter) + offset)


def _index(letter: str) -> int:
    """A column's number from its letters."""
    number = 0
    for char in letter:
        number = number * 26 + ord(char) - 64
    return number


def _range(column: _Column, span: tuple[int, int]) -> str:
    """The column's cells over rows `span`."""
    return f"{column.letter}{span[0]}:{column.letter}{span[1]}"


def _combined(column: _Column, total: Total, span: tuple[int, int], row: int) -> Cell:
    """The formula combining a column over `span`, as the indicator combines (cached: `total`)."""
    cells, spec, value = _range(column, span), column.spec, total.value
    how = spec.combine
    if column.role in ("part", "whole"):
        if how != Combine.RATE:  # an average or a minimum of rates: the rate column has it
            return ("", None, "")
        cached = (value.number if column.role == "part" else value.whole) if value else 0
        return (f"SUM({cells})", cached, "")
    if column.role == "rate" and how == Combine.RATE:
        part, whole = _sibling(column, "part"), _sibling(column, "whole")
        rate = value.percent / 100 if value is not None and value.percent is not None else ""
        return (f'IF(N({whole}{row})=0,"",{part}{row}/{whole}{row})', rate, "percent")
    style = "percent" if column.percent else ""
    if how == Combine.SUM:
        return (f"SUM({cells})", value.number if value else 0, style)
    if how == Combine.COUNT_YES:
        return (f'COUNTIF({cells},"{say("yes")}")', value.number if value else 0, "")
    if how == Combine.MIN and spec.kind == IndicatorKind.YESNO:
        yes, no = say("yes"), say("no")
        formula = f'IF(COUNTIF({cells},"{no}")>0,"{no}",IF(COUNTIF({cells},"{yes}")>0,"{yes}",""))'
        return (formula, "" if value is None else _figure(column, value), "")
    name = {Combine.AVERAGE: "AVERAGE", Combine.MIN: "MIN"}.get(how)
    if name is None:  # text: not combined
        return ("", None, "")
    return (f'IF(COUNT({cells})=0,"",{name}({cells}))', _measure(column, value), style)


def _measure(column: _Column, value: Value | None) -> Any:
    """A combined value as the column holds it (a fraction in a % column), "" when none."""
    if value is None or value.number is None:
        return ""
    if value.kind == IndicatorKind.RATIO:
        return (value.percent or Decimal(0)) / 100
    return value.number / 100 if column.percent else value.number


def _met(column: _Column, total: Total, span: tuple[int, int], cell: str, words: Any) -> Cell:
    """Whether the total meets the target: "đạt" / "chưa đạt" (empty without figures)."""
    target = column.spec.target
    assert target is not None
    yes, no = str(words.met_word(True)), str(words.met_word(False))
    cached = "" if total.met is None else yes if total.met else no
    if column.spec.kind == IndicatorKind.YESNO and column.spec.combine == Combine.COUNT_YES:
        cells = _range(column, span)
        reported = f'(COUNTIF({cells},"{say("yes")}")+COUNTIF({cells},"{say("no")}"))'
        measure, figure = (
            (f"{cell}/{reported}", target.value / 100) if target.percent else (cell, target.value)
        )
        check = f"{measure}{_OPERATORS[target.op]}{_number(figure)}"
        return (f'IF({reported}=0,"",IF({check},"{yes}","{no}"))', cached, "")
    if target.yes:
        check = f'{cell}="{say("yes")}"'
    else:
        check = f"{cell}{_OPERATORS[target.op]}{_scaled(target, column)}"
    return (f'IF({cell}="","",IF({check},"{yes}","{no}"))', cached, "")


def _meeting(column: _Column, total: Total, span: tuple[int, int]) -> Cell:
    """How many units meet the per-unit target."""
    target = column.spec.target_unit
    assert target is not None
    cells = _range(column, span)
    if target.yes:
        return (f'COUNTIF({cells},"{say("yes")}")', total.meeting, "")
    criterion = f"{_OPERATORS[target.op]}{_scaled(target, column)}"
    return (f'COUNTIF({cells},"{criterion}")', total.meeting, "")


def _scaled(target: Target, column: _Column) -> str:
    """A target's figure as the column holds it: a percent target against fractions is /100."""
    fraction = target.percent and (column.percent or column.role == "rate")
    number = target.value / 100 if fraction else target.value
    return _number(number)


def _number(number: Decimal | int | float) -> str:
    """A number as XML and formulas write it (no exponent)."""
    if isinstance(number, Decimal):
        return format(number.normalize(), "f")
    return str(number)


def _row_xml(number: int, cells: Sequence[Cell], styles: dict[str, str]) -> str:
    """One <row>: numbers, inline strings and formulas with their cached results."""
    out = []
    for position, (formula, value, style) in enumerate(cells, 1):
        ref = f"{get_column_letter(position)}{number}"
        s = styles[style]
        if formula:
            out.append(_formula_xml(ref, s, formula, value))
        elif value is None or value == "":
            continue
        elif isinstance(value, str):
            text = xml_text(value)
            out.append(
                f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
            )
        else:
            out.append(f'<c r="{ref}"{s}><v>{_number(value)}</v></c>')
    return f'<row r="{number}">{"".join(out)}</row>'


def _formula_xml(ref: str, style: str, formula: str, cached: Any) -> str:
    """A formula cell with its cached result (a number, or a string)."""
    if isinstance(cached, str) or cached is None:
        text = xml_text(cached or "")
        return f'<c r="{ref}"{style} t="str"><f>{xml_text(formula)}</f><v>{text}</v></c>'
    return f'<c r="{ref}"{style}><f>{xml_text(formula)}</f><v>{_number(cached)}</v></c>'
