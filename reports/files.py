"""Write a consolidated report to a file in one of the supported formats."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Literal, get_args

from plans.digest import completion_chart_png
from plans.render import render_to
from plans.report import PlanReport
from plans.report_docx import write_docx
from plans.report_xlsx import write_xlsx

Format = Literal["md", "html", "docx", "xlsx"]
FORMATS: tuple[Format, ...] = get_args(Format)


def write_report(report: PlanReport, fmt: Format, path: Path) -> Path:
    """Write `report` as `fmt` to `path` and return the path."""
    path = Path(path)
    if fmt == "md":
        render_to(path, "report.md.j2", report=report)
    elif fmt == "html":
        chart = base64.b64encode(completion_chart_png(report)).decode("ascii")
        render_to(path, "report.html.j2", report=report, chart=chart)
    elif fmt == "docx":
        write_docx(report, path)
    elif fmt == "xlsx":
        write_xlsx(report, path)
    else:
        raise ValueError(f"unknown report format: {fmt}")
    return path
