"""`dondoc report` and `dondoc status`: the consolidated report and /status in a terminal.

Both only read. The report model, Jinja2 and each format's writer are imported by the command
that runs, not when the command line starts (bot/cli.py lists these commands on every call).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reports.files import FORMATS, Format

if TYPE_CHECKING:
    from sqlmodel import Session

    from reports.model import StatusView, Tally

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SessionFactory = Callable[[], AbstractContextManager["Session"]]
SUFFIXES = ", ".join(f".{name}" for name in FORMATS)


def register(app: typer.Typer, open_session: SessionFactory) -> None:
    """Add the `report` and `status` commands to the main app."""

    @app.command("report", help="Ghi báo cáo tổng hợp của một kế hoạch (md, html, docx, xlsx).")
    def report(
        plan: Annotated[str, typer.Argument(metavar="MÃ_KẾ_HOẠCH", help="mã kế hoạch")],
        out_file: Annotated[
            Path,
            typer.Option(
                "--out",
                "-o",
                metavar="TỆP",
                help=f"tệp báo cáo; đuôi tệp chọn định dạng ({SUFFIXES})",
            ),
        ],
        fmt: Annotated[
            Format | None,
            typer.Option(
                "--format",
                "-f",
                help="định dạng, phải khớp đuôi tệp (chỉ cần khi tệp không có đuôi trên)",
            ),
        ] = None,
        at: Annotated[str | None, typer.Option(help="số liệu đến hết ngày YYYY-MM-DD")] = None,
    ) -> None:
        """Write the consolidated report of a plan as Markdown, HTML, DOCX or XLSX."""
        from plans.errors import DondocError
        from reports.figures import build_report
        from reports.files import write_report

        day, now = _moment(at)
        chosen = _format(fmt, out_file)
        _check_target(out_file)
        with open_session() as session:
            try:
                data = build_report(session, plan_code=plan, at=day, now=now)
            except DondocError as exc:  # an unknown plan: the message names it
                err.print(str(exc), markup=False)
                raise typer.Exit(2) from None
        try:
            path = write_report(data, chosen, out_file)
        except OSError as exc:
            err.print(f"Không ghi được {out_file}: {exc.strerror or exc}", markup=False)
            raise typer.Exit(2) from None
        out.print(
            f"Đã ghi báo cáo {plan} ({chosen}, số liệu tính đến {_figures().as_of(data)}): {path}",
            markup=False,
        )

    @app.command("status", help="Tình hình thực hiện theo phân loại, kế hoạch và đơn vị.")
    def status(
        plan: Annotated[
            str | None,
            typer.Argument(metavar="[MÃ_KẾ_HOẠCH]", help="mã kế hoạch (bỏ trống: tất cả)"),
        ] = None,
        unit: Annotated[str | None, typer.Option("--unit", "-u", help="mã đơn vị")] = None,
        at: Annotated[str | None, typer.Option(help="tình hình đến hết ngày YYYY-MM-DD")] = None,
    ) -> None:
        """Show the /status view: counts per category, then per plan, unit and task."""
        from plans.errors import DondocError
        from reports.figures import build_status

        day, now = _moment(at)
        with open_session() as session:
            if plan is None and not _any_plan(session):
                out.print(
                    "Chưa nhập kế hoạch nào. Nhập bằng `dondoc plan import TỆP` "
                    "(ví dụ plans/examples/kh-gddt-2023.yaml), sau khi đã nhập đơn vị.",
                    markup=False,
                )
                return
            try:
                view = build_status(session, at=day, plan_code=plan, unit_code=unit, now=now)
            except DondocError as exc:  # an unknown plan or unit: the message names it
                err.print(str(exc), markup=False)
                raise typer.Exit(2) from None
        _print_status(view)


def _moment(text: str | None) -> tuple[date, datetime | None]:
    """A --at date (its whole day), or today in local time up to now (the clock is read only
    here, at the edge)."""
    from plans.clock import local_date

    if text is None:
        now = datetime.now(UTC)
        return local_date(now), now
    try:
        return date.fromisoformat(text), None
    except ValueError:
        err.print(f"--at: ngày không hợp lệ: {text} (cần YYYY-MM-DD)", markup=False)
        raise typer.Exit(2) from None


def _format(fmt: Format | None, path: Path) -> Format:
    """The format the file name ends with; --format only where the name says none."""
    suffix = path.suffix.lstrip(".").lower()
    if suffix in FORMATS:
        if fmt is not None and fmt != suffix:
            err.print(
                f"--format {fmt} không khớp đuôi tệp {path.name}: bỏ --format "
                f"hoặc đổi tên tệp thành {path.with_suffix('.' + fmt).name}.",
                markup=False,
            )
            raise typer.Exit(2)
        return suffix
    if fmt is None:
        err.print(
            f"Không biết ghi {path.name} theo định dạng nào: đặt đuôi tệp ({SUFFIXES}) "
            "hoặc thêm --format.",
            markup=False,
        )
        raise typer.Exit(2)
    return fmt


def _check_target(path: Path) -> None:
    """Refuse, in one line, a target whose folder is missing or that is a folder itself."""
    if path.is_dir():
        example = path / "bao-cao.docx"
        err.print(f"{path} là một thư mục: --out cần tên tệp, ví dụ {example}.", markup=False)
        raise typer.Exit(2)
    folder = path.parent
    if not folder.is_dir():
        err.print(
            f"Không có thư mục {folder}: tạo thư mục trước hoặc chọn --out khác.", markup=False
        )
        raise typer.Exit(2)


def _figures() -> Any:
    """The figures' wording shared by every report format (reports/templates/_figures.j2)."""
    from reports.templates import parts

    return parts("_figures.j2")


def _any_plan(session: Session) -> bool:
    """Whether a plan is imported (one still being imported is not counted)."""
    from sqlmodel import select

    from storage.models import Plan

    return session.exec(select(Plan.id).where(Plan.visible).limit(1)).first() is not None


def _print_status(view: StatusView) -> None:
    """The tally, then one line per plan and per unit, then the rows; 80 columns suffice."""
    from plans.render import due_text, pct
    from plans.status import STATUS_LABELS, Category

    figures = _figures()
    plan = view.plan
    scope = [f"Kế hoạch {plan.number or plan.code}" if plan else "Tất cả kế hoạch"]
    if view.unit:
        scope.append(f"đơn vị {view.unit.name} (và cấp dưới)")
    title = f"Tình hình thực hiện — {', '.join(scope)} — tính đến {figures.as_of(view)}"
    out.print(Text(title, style="bold"), soft_wrap=False)
    # The categories are numbered here; the narrower tables below head their columns (1)…(5).
    counts = _table("Phân loại", "Số lượt", "Tỷ lệ")
    for number, category in enumerate(Category, 1):
        share = view.tally.share(category)
        label = f"({number}) {category.label}"
        counts.add_row(label, str(view.tally.counts[category]), pct(share))
    counts.add_row(Text("Tổng cộng", style="bold"), str(view.tally.total), "")
    counts.add_row(str(figures.completion_label()), str(figures.completion(view.tally)), "")
    counts.add_row("Sắp đến hạn · chưa báo cáo · gặp khó khăn", _flags(view.tally), "")
    out.print(counts)
    if not view.plan and view.plans:
        plans = _tally_table("Kế hoạch")
        for line in view.plans:
            plans.add_row(Text(line.plan.code), *_tally_cells(line.tally))
        out.print(plans)
    if view.units:
        units = _tally_table("Đơn vị")
        for unit_line in view.units:
            unit = unit_line.unit
            units.add_row(_unit_cell(unit.code, unit.name), *_tally_cells(unit_line.tally))
        out.print(units)
    if view.rows:
        rows = _table("Nhiệm vụ", "Đơn vị", "Hạn", "Tình trạng", "Ghi chú")
        for row in view.rows:
            number = list(Category).index(row.category) + 1
            state = f"({number}) {STATUS_LABELS.get(row.status, row.status)}"
            rows.add_row(
                Text(row.task.key),
                _unit_cell(row.unit.code, row.unit.name),
                due_text(row.period, row.due_date),
                state,
                Text("; ".join(filter(None, [row.note, *row.flags]))),
            )
        out.print(rows)


def _table(*headers: str) -> Table:
    """A table without vertical rules (on 80 columns they take a tenth of the line) whose cells
    wrap rather than cut: a long unit code stays whole, what --unit takes."""
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def _tally_table(first: str) -> Table:
    """A table with one narrow column per category number and the flags."""
    from plans.status import Category

    table = _table(first)
    for number in range(1, len(Category) + 1):
        table.add_column(f"({number})", justify="right")
    for flag in ("Chưa\nbáo cáo", "Gặp\nkhó khăn", "Hoàn\nthành"):
        table.add_column(flag, justify="right")
    return table


def _unit_cell(code: str, name: str) -> Text:
    """A unit's code (what --unit takes) over its name."""
    return Text.assemble((code, "bold"), "\n", name)


def _tally_cells(tally: Tally) -> list[str]:
    """The cells of a tally line."""
    from plans.render import pct
    from plans.status import Category

    return [
        *(str(tally.counts[category]) for category in Category),
        str(tally.unreported),
        str(tally.blocked),
        pct(tally.completion_percent),
    ]


def _flags(tally: Tally) -> str:
    """Due soon, unreported and blocked counts on one line."""
    return f"{tally.due_soon} · {tally.unreported} · {tally.blocked}"
