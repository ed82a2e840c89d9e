"""`dondoc plan …`: validate, import, list and show plans; give an undated task its deadline.

`plan draft` is registered on the same group from bot/draft_command.py (bot/cli.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.command_context import (
    FILE,
    UNITS_NEXT,
    fail_input,
    moment_option,
    out,
    read_only_session,
    real_now,
    refuse,
    settings_and_database,
)

if TYPE_CHECKING:
    from plans.plan_spec import Directory

plan_app = typer.Typer(help="Kế hoạch: soạn nháp, kiểm tra, nhập, xem.", no_args_is_help=True)


@plan_app.command(
    "validate", help="Kiểm tra tệp kế hoạch với danh mục đơn vị, không ghi gì; lỗi ghi rõ dòng."
)
def plan_validate(
    file: Annotated[Path, typer.Argument(metavar=FILE, help="tệp kế hoạch YAML")],
    units: Annotated[
        Path | None,
        typer.Option(
            "--units",
            metavar=FILE,
            help="kiểm tra với tệp đơn vị này (YAML/CSV), không cần cơ sở dữ liệu",
        ),
    ] = None,
) -> None:
    """Check a plan file against the units (a file, or the database) without writing anything."""
    from plans.errors import InputFileError
    from plans.plan_file import load_plan_file
    from plans.plan_summary import summarize

    directory = _units_of_file(units) if units is not None else _units_of_database()
    try:
        spec = load_plan_file(file, directory)
    except InputFileError as exc:
        raise fail_input(exc) from None
    out.print(f"Hợp lệ: {spec.code} — {len(spec.tasks)} nhiệm vụ.")
    out.print("\n".join(summarize(spec).lines()), markup=False)


def _units_of_file(path: Path) -> Directory:
    """The units a units file describes; exit 2 listing its problems."""
    from plans.errors import InputFileError
    from plans.plan_spec import Directory
    from plans.units_file import load_units_file

    try:
        return Directory.from_units_file(load_units_file(path))
    except InputFileError as exc:
        raise fail_input(exc) from None


def _units_of_database() -> Directory:
    """The stored units; exit 2 pointing to `units import` or `--units` when there are none."""
    from plans.import_scope import directory_from_db

    with read_only_session(hint=UNITS_NEXT) as session:
        directory = directory_from_db(session)
    if not directory.units:
        refuse(
            "Chưa nhập đơn vị nào: nhập danh mục trước (`dondoc units import TỆP`, ví dụ "
            "plans/examples/units.yaml) hoặc kiểm tra với `--units TỆP`."
        )
    return directory


@plan_app.command("import", help="Nhập hoặc cập nhật một kế hoạch; các báo cáo đã nhận được giữ.")
def plan_import(
    file: Annotated[Path, typer.Argument(metavar=FILE, help="tệp kế hoạch YAML")],
    now: Annotated[
        str | None,
        typer.Option(help="nhập như vào thời điểm đó, YYYY-MM-DDTHH:MM giờ địa phương"),
    ] = None,
) -> None:
    """Import or update a plan; reports already received are kept."""
    from plans.errors import InputFileError
    from plans.importer import load_and_import_plan
    from plans.plan_summary import summarize

    _, engine = settings_and_database()
    try:
        with out.status("Đang nhập kế hoạch…") as shown:
            spec, summary = load_and_import_plan(
                engine,
                file,
                now=moment_option(now),
                progress=lambda rows: shown.update(f"Đang nhập kế hoạch… {rows:,} dòng đã ghi"),
            )
    except InputFileError as exc:
        raise fail_input(exc) from None
    state = (
        "không thay đổi"
        if not summary.changed
        else (
            f"{summary.created} mới, {summary.updated} cập nhật, "
            f"{summary.deactivated} ngừng theo dõi, {summary.occurrences} kỳ hạn mới"
        )
    )
    out.print(f"Kế hoạch {spec.code}: {len(spec.tasks)} nhiệm vụ — {state}.")
    out.print("\n".join(summarize(spec).lines()), markup=False)


@plan_app.command("list", help="Các kế hoạch đã nhập.")
def plan_list() -> None:
    """List imported plans."""
    from rich.table import Table
    from sqlmodel import col, func, select

    from storage.models import Plan, Task

    table = Table("Mã", "Số", "Ban hành", "Nhiệm vụ", "Tên")
    with read_only_session() as session:
        counts = dict(
            session.exec(
                select(Task.plan_id, func.count())
                .where(col(Task.active))
                .group_by(col(Task.plan_id))
            ).all()
        )
        for plan in session.exec(select(Plan).order_by(Plan.code)):
            assert plan.id is not None  # a stored row
            table.add_row(
                plan.code,
                plan.number or "",
                plan.issued.strftime("%d/%m/%Y"),
                str(counts.get(plan.id, 0)),
                plan.title,
            )
    if not table.row_count:
        out.print("Chưa nhập kế hoạch nào: `dondoc plan import TỆP`.", markup=False)
        return
    out.print(table)


@plan_app.command("show", help="Nhiệm vụ, đơn vị chủ trì và hạn tiếp theo của một kế hoạch.")
def plan_show(code: Annotated[str, typer.Argument(metavar="MÃ", help="mã kế hoạch")]) -> None:
    """Show a plan's tasks, owners and due dates."""
    from rich.table import Table
    from sqlmodel import col, func, select

    from plans.clock import local_date
    from storage.enums import AssignmentRole
    from storage.models import Assignment, Occurrence, Task
    from storage.queries import plan_by_code

    with read_only_session() as session:
        plan = plan_by_code(session=session, code=code)
        if plan is None:
            refuse(f"Không có kế hoạch mã {code}.")
        out.print(f"[bold]{plan.code}[/bold] {plan.number or ''} — {plan.title}")
        frame = [
            f"Thực hiện văn bản: {plan.implements}" if plan.implements else "",
            f"Thời gian thực hiện: đến hết ngày {plan.until:%d/%m/%Y}" if plan.until else "",
            f"Ngày ban hành: {plan.issued:%d/%m/%Y}",
            f"({plan.issued_note})" if plan.issued_note else "",
        ]
        out.print("\n".join(line for line in frame if line), markup=False)
        table = Table("Nhiệm vụ", "Chủ trì", "Phối hợp", "Đơn vị", "Thời hạn", "Hạn tiếp theo")
        today = local_date(real_now())
        tasks = session.exec(
            select(Task)
            .where(col(Task.plan_id) == plan.id, col(Task.active))
            .order_by(col(Task.position))
        )
        for task in tasks:
            units = session.exec(
                select(func.count()).where(
                    Assignment.task_id == task.id,
                    Assignment.active,
                    Assignment.role == AssignmentRole.OWNER,
                )
            ).one()
            upcoming = session.exec(
                select(func.min(Occurrence.due_date))
                .join(Assignment, col(Assignment.id) == col(Occurrence.assignment_id))
                .where(col(Assignment.task_id) == task.id, col(Occurrence.active))
                .where(col(Occurrence.due_date) >= today)
            ).one()
            next_due = upcoming.strftime("%d/%m/%Y") if upcoming else task.due_kind
            owners = ", ".join(task.owners or [task.owner_code])
            partners = ", ".join([*task.partners, *task.external_partners])
            due = f"{task.due_text} (đã đặt)" if task.due_override else task.due_text
            table.add_row(task.key, owners, partners, str(units), due, next_due)
        out.print(table)


@plan_app.command(
    "set-due",
    help="Đặt thời hạn cho một nhiệm vụ kế hoạch không ghi thời hạn; nhập lại kế hoạch vẫn giữ, "
    "trừ khi tệp kế hoạch ghi thời hạn.",
)
def plan_set_due(
    code: Annotated[str, typer.Argument(metavar="MÃ", help="mã kế hoạch")],
    task: Annotated[str, typer.Argument(metavar="NHIỆM_VỤ", help="mã nhiệm vụ")],
    expression: Annotated[
        str, typer.Argument(metavar="THỜI_HẠN", help='ví dụ: "trước ngày 30/6/2026"')
    ],
) -> None:
    """Give an undated task its deadline."""
    from plans.errors import DondocError
    from plans.task_due import set_task_due
    from storage.db import session_scope

    _, engine = settings_and_database()
    now = real_now()
    with session_scope(engine) as session:
        try:
            deadline = set_task_due(
                session, plan_code=code, task_key=task, expression=expression, now=now
            )
        except DondocError as exc:
            refuse(f"{exc} Không thay đổi gì.")
    dates = ", ".join(f"{d:%d/%m/%Y}" for d in deadline.dates()[:3])
    out.print(f"Nhiệm vụ {task} của kế hoạch {code}: thời hạn «{deadline.text}» ({dates}).")
