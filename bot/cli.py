"""The `dondoc` command line: help and messages in Vietnamese.

Every command lists on each call, so this module and the command modules it registers import
only Typer and Rich at the top; a command imports the database, the channels, the scheduler and
the report writers when it runs (`dondoc --help`, `due` and `plan validate` stay fast).
Commands that only read (plan validate/list/show, status, report, due, doctor) never create or
migrate the database; they point to `dondoc init`.
"""

from __future__ import annotations

import logging
import sys
import traceback
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from bot import draft_command, ops, report_commands
from bot.command_context import (
    UNITS_NEXT,
    configure_logging,
    iso_day,
    moment_option,
    out,
    read_only_session,
    real_now,
    refuse,
    settings_and_database,
)
from bot.plan_commands import plan_app
from bot.unit_commands import units_app
from plans.redact import redact

app = typer.Typer(
    help="dondoc — đôn đốc thực hiện kế hoạch qua Telegram/Zalo.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(units_app, name="units")
app.add_typer(plan_app, name="plan")


@app.callback()
def options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="in thêm nhật ký chi tiết, cả các bước nâng cấp cơ sở dữ liệu"
        ),
    ] = False,
) -> None:
    """Options every command takes."""
    # Alembic logs each migration step at INFO: noise on every command unless asked for.
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)


@app.command(help="Tạo cơ sở dữ liệu, hoặc nâng cấp nó lên phiên bản mới nhất.")
def init() -> None:
    """Create or migrate the database."""
    settings, engine = settings_and_database()
    out.print(f"Cơ sở dữ liệu sẵn sàng: {engine.url.render_as_string(hide_password=True)}")


@app.command(help="Các ngày đến hạn của một thời hạn, mỗi dòng một ngày YYYY-MM-DD.")
def due(
    expression: Annotated[
        str, typer.Argument(metavar="THỜI_HẠN", help='ví dụ: "trước ngày 20/9/2023"')
    ],
    issued: Annotated[str, typer.Option(help="ngày ban hành, YYYY-MM-DD")],
    until: Annotated[str | None, typer.Option(help="liệt kê đến ngày, YYYY-MM-DD")] = None,
) -> None:
    """Print the due dates of a deadline expression, one ISO date a line."""
    from plans.deadline import parse_deadline
    from plans.errors import DeadlineError

    issued_day = iso_day("--issued", issued)
    until_day = iso_day("--until", until) if until else None
    try:
        deadline = parse_deadline(expression, issued=issued_day)
    except DeadlineError as exc:
        refuse(str(exc))
    if deadline.kind != "dated":
        print(deadline.kind)
        return
    for day in deadline.dates(until=until_day):
        print(day.isoformat())


@app.command(help="In một lời mời dùng một lần: đường dẫn Telegram và tin nhắn Zalo.")
def invite(
    unit: Annotated[str, typer.Argument(metavar="MÃ_ĐƠN_VỊ", help="mã đơn vị")],
    role: Annotated[str, typer.Option(help="vai trò: contact | head | coordinator")] = "contact",
) -> None:
    """Print a single-use invite: a Telegram link and a Zalo text."""
    from handlers.invites import ROLES, create_invite
    from plans.errors import DondocError
    from storage.db import session_scope

    settings, engine = settings_and_database()
    if role not in ROLES:
        refuse(f"Vai trò phải là một trong: {', '.join(ROLES)}")
    try:
        with session_scope(engine) as session:
            issued = create_invite(session, unit_code=unit, role=role, now=real_now())
    except DondocError as exc:  # an unknown unit, a role refused: the message says which
        refuse(str(exc))
    out.print(f"Lời mời cho {issued.unit.name} ({role}), hết hạn {issued.expires_at:%d/%m/%Y}:")
    print(f"Telegram: {issued.telegram_link(settings.telegram_bot_username)}")
    print(f"Zalo: gửi tin nhắn “{issued.zalo_text}” tới bot")


@app.command(help="Một lượt của bộ lập lịch tại thời điểm đó: lập nhắc việc, gửi, rồi thoát.")
def tick(
    now: Annotated[
        str | None, typer.Option(help="thời điểm giả định, YYYY-MM-DDTHH:MM giờ địa phương")
    ] = None,
) -> None:
    """One scheduler pass as if at that moment: plan due reminders, send them, exit."""
    import asyncio

    from bot.channels import run_tick_once
    from plans.clock import local

    settings, engine = settings_and_database()
    moment = moment_option(now)
    result = asyncio.run(run_tick_once(settings, engine, now=moment))
    planned, sent = result.planned, result.dispatched
    out.print(
        f"{local(moment):%d/%m/%Y %H:%M}: lập {planned.planned} nhắc việc, "
        f"gửi {sent.sent} ({sent.messages} tin), hoãn {sent.deferred}, "
        f"không liên lạc được {sent.unreachable}."
    )


@app.command(help="Chạy bot: các kênh đã cấu hình, bộ lập lịch, webhook hoặc polling.")
def run() -> None:
    """Run the bot: configured channels, scheduler, webhook or polling."""
    import asyncio

    from bot import runtime

    settings, engine = settings_and_database()
    asyncio.run(runtime.run(settings, engine))


@app.command(help="Mô phỏng một tháng với các kế hoạch mẫu, không cần token; ghi báo cáo ra tệp.")
def demo(
    folder: Annotated[
        Path, typer.Option("--out", metavar="THƯ_MỤC", help="thư mục kết quả")
    ] = Path("demo-output"),
    start: Annotated[str, typer.Option(help="ngày đầu mô phỏng, YYYY-MM-DD")] = "2024-11-25",
    days: Annotated[int, typer.Option(help="số ngày mô phỏng")] = 35,
) -> None:
    """Simulate a month with the example plans: no token, no set-up; reports written to files."""
    from bot.demo import run_demo

    configure_logging("WARNING")
    first = iso_day("--start", start)
    written = run_demo(folder, start=first, days=days, console=out)
    out.print(f"Xong: {len(written)} tệp báo cáo trong {folder / 'reports'}.")


ops.register(app)  # `backup` and `doctor` (bot/ops.py)
report_commands.register(app, read_only_session)  # `report` and `status` (bot/report_commands.py)
# `plan draft` (bot/draft_command.py)
draft_command.register(plan_app, partial(read_only_session, hint=UNITS_NEXT))


def main() -> None:
    """Entry point of the `dondoc` script: an unexpected error prints its traceback, masked."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
    except Exception as exc:  # Typer's own printer would show it unmasked, with local variables
        sys.stderr.write(redact("".join(traceback.format_exception(exc))))
        sys.exit(1)
