"""Write a consolidated report to a file in one of the supported formats."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from reports.model import PlanReport

Format = Literal["md", "html", "docx", "xlsx"]
FORMATS: tuple[Format, ...] = get_args(Format)


def write_report(report: PlanReport, fmt: Format, path: Path) -> Path:
    """Write `report` as `fmt` to `path` and return the path."""
    # Each format imports its own library (Jinja2, matplotlib, python-docx, openpyxl) when
    # used: the command line lists the formats without paying for them.
    path = Path(path)
    if fmt == "md":
        from reports.templates import render_to

        render_to(path, "report.md.j2", report=report)
    elif fmt == "html":
        from reports.chat_text import completion_chart_png
        from reports.letterhead import letterhead
        from reports.templates import render_to

        chart = base64.b64encode(completion_chart_png(report.tally)).decode("ascii")
        head = letterhead(report)
        render_to(path, "report.html.j2", report=report, chart=chart, head=head)
    elif fmt == "docx":
        from reports.docx_writer import write_docx

        write_docx(report, path)
    elif fmt == "xlsx":
        from reports.xlsx_writer import write_xlsx

        write_xlsx(report, path)
    else:
        raise ValueError(f"unknown report format: {fmt}")
    return path
