"""`dondoc units …`: import the units directory, retire a unit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.command_context import FILE, fail_input, out, real_now, refuse, settings_and_database

units_app = typer.Typer(help="Danh mục đơn vị: nhập từ tệp YAML hoặc CSV.", no_args_is_help=True)


@units_app.command("import", help="Nhập danh mục đơn vị; nhập lại thì cập nhật tại chỗ.")
def units_import(
    file: Annotated[Path, typer.Argument(metavar=FILE, help="units.yaml hoặc units.csv")],
    retire_missing: Annotated[
        bool,
        typer.Option(
            "--retire-missing",
            help="cho các đơn vị đang hoạt động mà tệp không còn ghi ngừng hoạt động (giải thể)",
        ),
    ] = False,
) -> None:
    """Import units (YAML or CSV); re-importing updates them in place."""
    from plans.errors import DondocError, InputFileError
    from plans.units_file import load_units_file
    from plans.units_import import import_units
    from storage.db import session_scope
    from storage.queries import units_by_code

    _, engine = settings_and_database()
    with session_scope(engine) as session:
        try:
            known = {code: u.parent_code for code, u in units_by_code(session=session).items()}
            units_file = load_units_file(file, known_parents=known)
            summary = import_units(
                session, units_file, now=real_now(), retire_missing=retire_missing
            )
        except InputFileError as exc:
            raise fail_input(exc) from None
        except DondocError as exc:
            refuse(f"{exc} Không ghi gì vào cơ sở dữ liệu.")
    out.print(
        f"Đã nhập {len(units_file.units)} đơn vị từ {file}: "
        f"{summary.created} mới, {summary.updated} cập nhật."
    )
    if summary.retired:
        out.print(f"Ngừng hoạt động: {', '.join(summary.retired)}.", markup=False)
    if summary.missing and not retire_missing:
        out.print(
            f"{len(summary.missing)} đơn vị đang hoạt động không có trong tệp, vẫn giữ nguyên "
            f"(thêm --retire-missing để cho ngừng hoạt động): {', '.join(summary.missing)}.",
            markup=False,
        )


@units_app.command(
    "retire",
    help="Cho một đơn vị ngừng hoạt động: không nhắc việc nữa; việc đang mở chuyển cho đơn vị "
    "tiếp nhận (--into) hoặc đóng lại (đơn vị giải thể).",
)
def units_retire(
    code: Annotated[str, typer.Argument(metavar="MÃ", help="mã đơn vị")],
    into: Annotated[
        str | None, typer.Option("--into", metavar="MÃ", help="đơn vị tiếp nhận (sáp nhập vào)")
    ] = None,
) -> None:
    """Retire a unit, moving its open work to a successor or closing it."""
    from plans.errors import DondocError
    from plans.units_import import retire_unit, sync_assignments
    from storage.db import session_scope

    _, engine = settings_and_database()
    now = real_now()
    with session_scope(engine) as session:
        try:
            ended = retire_unit(session, code, into=into, now=now)
        except DondocError as exc:
            refuse(f"{exc} Không thay đổi gì.")
        sync_assignments(session, now=now)
    where = f"chuyển cho {into}" if into else "đã đóng (đơn vị đã giải thể)"
    out.print(
        f"Đơn vị {code} đã ngừng hoạt động: {ended} kỳ hạn đang mở {where}; "
        "các liên hệ của đơn vị sẽ được báo một lần.",
        markup=False,
    )
