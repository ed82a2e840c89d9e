"""`dondoc report` and `dondoc status`: the consolidated report and /status in a terminal."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlmodel import Session

from plans.clock import local_date
from plans.render import dmy, due_text, pct
from plans.report import ReportError, StatusView, Tally, build_report, build_status
from plans.report_files import FORMATS, Format, write_report
from plans.status import STATUS_LABELS, Category

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SessionFactory = Callable[[], AbstractContextManager[Session]]


def register(app: typer.Typer, open_session: SessionFactory) -> None:
    """Add the `report` and `status` commands to the main app."""

    @app.command("report")
    def report(
        plan: Annotated[str, typer.Argument(help="mã kế hoạch")],
        out_file: Annotated[Path, typer.Option("--out", "-o", help="tệp báo cáo sẽ ghi")],
        fmt: Annotated[
            Format | None,
            typer.Option(
                "--format",
                "-f",
                help="md | html | docx | xlsx (mặc định: theo đuôi tệp, nếu không thì md)",
            ),
        ] = None,
        at: Annotated[str | None, typer.Option(help="số liệu đến hết ngày YYYY-MM-DD")] = None,
    ) -> None:
        """Write the consolidated report of a plan as Markdown, HTML, DOCX or XLSX."""
        day = _day(at)
        chosen = _format(fmt, out_file)
        with open_session() as session:
            try:
                data = build_report(session, plan_code=plan, at=day)
            except ReportError as exc:
                err.print(str(exc), markup=False)
                raise typer.Exit(2) from None
        path = write_report(data, chosen, out_file)
        out.print(f"Đã ghi báo cáo {plan} ({chosen}, số liệu đến hết ngày {dmy(day)}): {path}")

    @app.command("status")
    def status(
        plan: Annotated[str | None, typer.Argument(help="mã kế hoạch (bỏ trống: tất cả)")] = None,
        unit: Annotated[str | None, typer.Option("--unit", "-u", help="mã đơn vị")] = None,
        at: Annotated[str | None, typer.Option(help="tình hình đến hết ngày YYYY-MM-DD")] = None,
    ) -> None:
        """Show the /status view: counts per category, then per plan, unit and task."""
        day = _day(at)
        with open_session() as session:
            try:
                view = build_status(session, at=day, plan_code=plan, unit_code=unit)
            except ReportError as exc:
                err.print(str(exc), markup=False)
                raise typer.Exit(2) from None
        _print_status(view)


def _day(text: str | None) -> date:
    """A --at date, or today in local time (the clock is read only here, at the edge)."""
    if text is None:
        return local_date(datetime.now(UTC))
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"Ngày không hợp lệ: {text} (cần YYYY-MM-DD)", markup=False)
        raise typer.Exit(2) from None


def _format(fmt: Format | None, path: Path) -> Format:
    """The chosen format, else the one the file name ends with, else Markdown."""
    for candidate in (fmt, path.suffix.lstrip(".").lower()):
        if candidate in FORMATS:
            return cast(Format, candidate)
    return "md"


def _print_status(view: StatusView) -> None:
    """Rich tables: the tally, then one line per plan and per unit, then the rows."""
    scope = [f"Kế hoạch {view.plan.reference}" if view.plan else "Tất cả kế hoạch"]
    if view.unit:
        scope.append(f"đơn vị {view.unit.name} (và cấp dưới)")
    title = f"Tình hình thực hiện — {', '.join(scope)} — đến hết ngày {dmy(view.at)}"
    out.print(Text(title, style="bold"))
    counts = Table("Phân loại", "Số lượt", "Tỷ lệ")
    for category in Category:
        share = view.tally.share(category)
        counts.add_row(category.label, str(view.tally.counts[category]), pct(share))
    counts.add_row(Text("Tổng cộng", style="bold"), str(view.tally.total), "")
    counts.add_row("Tỷ lệ hoàn thành (có thời hạn)", "", pct(view.tally.completion_percent))
    counts.add_row("Sắp đến hạn · chưa báo cáo · gặp khó khăn", _flags(view.tally), "")
    out.print(counts)
    if not view.plan and view.plans:
        plans = _tally_table("Kế hoạch")
        for line in view.plans:
            plans.add_row(Text(line.plan.code), *_tally_cells(line.tally))
        out.print(plans)
    if view.units:
        units = _tally_table("Mã", "Đơn vị")
        for line in view.units:
            units.add_row(Text(line.unit.code), Text(line.unit.name), *_tally_cells(line.tally))
        out.print(units)
    if view.rows:
        rows = Table("Nhiệm vụ", "Đơn vị", "Hạn", "Phân loại", "Trạng thái", "Ghi chú")
        for row in view.rows:
            rows.add_row(
                Text(row.task.key),
                Text(row.unit.name),
                due_text(row.period, row.due_date),
                row.category.label,
                STATUS_LABELS.get(row.status, row.status),
                Text("; ".join(filter(None, [row.note, *row.flags]))),
            )
        out.print(rows)


def _tally_table(*first: str) -> Table:
    """A table with one column per category and the flags."""
    return Table(
        *first,
        *(category.label for category in Category),
        "Chưa báo cáo",
        "Gặp khó khăn",
        "Hoàn thành",
    )


def _tally_cells(tally: Tally) -> list[str]:
    """The cells of a tally line."""
    return [
        *(str(tally.counts[category]) for category in Category),
        str(tally.unreported),
        str(tally.blocked),
        pct(tally.completion_percent),
    ]


def _flags(tally: Tally) -> str:
    """Due soon, unreported and blocked counts on one line."""
    return f"{tally.due_soon} · {tally.unreported} · {tally.blocked}"
