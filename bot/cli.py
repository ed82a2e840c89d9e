"""The `dondoc` command line (SPEC §9)."""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot import ops, report_commands, runtime
from bot.channels import run_tick_once
from bot.demo import run_demo
from bot.settings import Settings
from handlers.errors import HandlerError
from handlers.invites import ROLES, create_invite
from plans.clock import local, local_date, parse_moment
from plans.deadline import parse_deadline
from plans.errors import DeadlineError, InputFileError
from plans.importer import directory_from_db, import_units, load_and_import_plan
from plans.plan_file import load_plan_file
from plans.redact import install_filter, redact
from plans.units_file import load_units_file
from storage.db import make_engine, read_session, session_scope
from storage.models import Assignment, Occurrence, Plan, Task
from storage.queries import plan_by_code, units_by_code
from storage.schema import migrate

app = typer.Typer(
    help="dondoc — đôn đốc thực hiện kế hoạch qua Telegram/Zalo.", no_args_is_help=True
)
units_app = typer.Typer(help="Danh mục đơn vị.", no_args_is_help=True)
plan_app = typer.Typer(help="Kế hoạch.", no_args_is_help=True)
app.add_typer(units_app, name="units")
app.add_typer(plan_app, name="plan")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def configure_logging(level: str) -> None:
    """Log to stderr with secrets masked; keep httpx's request lines (URLs) out entirely."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_filter(logging.getLogger().handlers)
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def open_database(settings: Settings) -> Engine:
    """An engine on the configured database, migrated to the current schema."""
    engine = make_engine(settings.dondoc_database_url)
    migrate(engine)
    return engine


def _context() -> tuple[Settings, Engine]:
    """Settings and a ready database for a command."""
    settings = ops.settings_or_exit()
    configure_logging(settings.dondoc_log_level)
    return settings, open_database(settings)


def _now() -> datetime:
    """The real clock, read only at the command-line edge."""
    return datetime.now(UTC)


def _fail_input(exc: InputFileError) -> typer.Exit:
    """Print every problem of a file, one per line, and exit 2."""
    for problem in exc.problems:
        err.print(str(problem), markup=False)
    err.print(f"Không ghi gì vào cơ sở dữ liệu ({len(exc.problems)} lỗi).", markup=False)
    return typer.Exit(2)


@app.command()
def init() -> None:
    """Create or migrate the database."""
    settings, engine = _context()
    out.print(f"Cơ sở dữ liệu sẵn sàng: {engine.url.render_as_string(hide_password=True)}")


@units_app.command("import")
def units_import(file: Annotated[Path, typer.Argument(help="units.yaml hoặc units.csv")]) -> None:
    """Import units (YAML or CSV); re-importing updates them in place."""
    _, engine = _context()
    with session_scope(engine) as session:
        try:
            known = {code: u.parent_code for code, u in units_by_code(session=session).items()}
            units_file = load_units_file(file, known_parents=known)
        except InputFileError as exc:
            raise _fail_input(exc) from None
        summary = import_units(session, units_file)
    out.print(
        f"Đã nhập {len(units_file.units)} đơn vị từ {file}: "
        f"{summary.created} mới, {summary.updated} cập nhật."
    )


@plan_app.command("validate")
def plan_validate(file: Path) -> None:
    """Check a plan file against the units directory without writing anything."""
    _, engine = _context()
    with Session(engine) as session:
        directory = directory_from_db(session)
    try:
        spec = load_plan_file(file, directory)
    except InputFileError as exc:
        raise _fail_input(exc) from None
    out.print(f"Hợp lệ: {spec.code} — {len(spec.tasks)} nhiệm vụ.")


@plan_app.command("import")
def plan_import(file: Path) -> None:
    """Import or update a plan; reports already received are kept."""
    _, engine = _context()
    try:
        with out.status("Đang nhập kế hoạch…") as shown:
            spec, summary = load_and_import_plan(
                engine,
                file,
                now=_now(),
                progress=lambda rows: shown.update(f"Đang nhập kế hoạch… {rows:,} dòng đã ghi"),
            )
    except InputFileError as exc:
        raise _fail_input(exc) from None
    state = (
        "không thay đổi"
        if not summary.changed
        else (
            f"{summary.created} mới, {summary.updated} cập nhật, "
            f"{summary.deactivated} ngừng theo dõi, {summary.occurrences} kỳ hạn mới"
        )
    )
    out.print(f"Kế hoạch {spec.code}: {len(spec.tasks)} nhiệm vụ — {state}.")


@plan_app.command("list")
def plan_list() -> None:
    """List imported plans."""
    _, engine = _context()
    table = Table("Mã", "Số", "Ban hành", "Nhiệm vụ", "Tên")
    with Session(engine) as session:
        counts = dict(
            session.exec(
                select(Task.plan_id, func.count()).where(Task.active).group_by(Task.plan_id)
            ).all()
        )
        for plan in session.exec(select(Plan).order_by(Plan.code)):
            table.add_row(
                plan.code,
                plan.number or "",
                plan.issued.strftime("%d/%m/%Y"),
                str(counts.get(plan.id, 0)),
                plan.title,
            )
    out.print(table)


@plan_app.command("show")
def plan_show(code: str) -> None:
    """Show a plan's tasks, owners and due dates."""
    _, engine = _context()
    with Session(engine) as session:
        plan = plan_by_code(session=session, code=code)
        if plan is None:
            err.print(f"Không có kế hoạch mã {code}.", markup=False)
            raise typer.Exit(2)
        out.print(f"[bold]{plan.code}[/bold] {plan.number or ''} — {plan.title}")
        table = Table("Nhiệm vụ", "Chủ trì", "Đơn vị", "Thời hạn", "Hạn tiếp theo")
        today = local_date(_now())
        tasks = session.exec(
            select(Task).where(Task.plan_id == plan.id, Task.active).order_by(Task.position)
        )
        for task in tasks:
            units = session.exec(
                select(func.count()).where(Assignment.task_id == task.id, Assignment.active)
            ).one()
            upcoming = session.exec(
                select(func.min(Occurrence.due_date))
                .join(Assignment, Assignment.id == Occurrence.assignment_id)
                .where(Assignment.task_id == task.id, Occurrence.active)
                .where(Occurrence.due_date >= today)  # type: ignore[operator]
            ).one()
            next_due = upcoming.strftime("%d/%m/%Y") if upcoming else task.due_kind
            table.add_row(task.key, task.owner_code, str(units), task.due_text, next_due)
        out.print(table)


@app.command()
def due(
    expression: Annotated[str, typer.Argument(help='ví dụ: "trước ngày 20/9/2023"')],
    issued: Annotated[str, typer.Option(help="ngày ban hành, YYYY-MM-DD")],
    until: Annotated[str | None, typer.Option(help="liệt kê đến ngày, YYYY-MM-DD")] = None,
) -> None:
    """Print the due dates of a deadline expression, one ISO date a line."""
    try:
        issued_day = date.fromisoformat(issued)
        until_day = date.fromisoformat(until) if until else None
    except ValueError as exc:
        err.print(f"Ngày không hợp lệ: {exc}", markup=False)
        raise typer.Exit(2) from None
    try:
        deadline = parse_deadline(expression, issued=issued_day)
    except DeadlineError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    if deadline.kind != "dated":
        print(deadline.kind)
        return
    for day in deadline.dates(until=until_day):
        print(day.isoformat())


@app.command()
def invite(
    unit: Annotated[str, typer.Argument(help="mã đơn vị")],
    role: Annotated[str, typer.Option(help="contact | head | coordinator")] = "contact",
) -> None:
    """Print a single-use invite: a Telegram link and a Zalo text."""
    settings, engine = _context()
    if role not in ROLES:
        err.print(f"Vai trò phải là một trong: {', '.join(ROLES)}", markup=False)
        raise typer.Exit(2)
    try:
        with session_scope(engine) as session:
            issued = create_invite(session, unit_code=unit, role=role, now=_now())
    except HandlerError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    out.print(f"Lời mời cho {issued.unit.name} ({role}), hết hạn {issued.expires_at:%d/%m/%Y}:")
    print(f"Telegram: {issued.telegram_link(settings.telegram_bot_username)}")
    print(f"Zalo: gửi tin nhắn “{issued.zalo_text}” tới bot")


def _moment(text: str | None) -> datetime:
    """A --now/--at value, or the real clock."""
    if not text:
        return _now()
    try:
        return parse_moment(text)
    except ValueError:
        err.print(f"Thời điểm không hợp lệ: {text} (dạng YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM)")
        raise typer.Exit(2) from None


@app.command()
def tick(
    now: Annotated[
        str | None, typer.Option(help="thời điểm giả định, YYYY-MM-DDTHH:MM giờ địa phương")
    ] = None,
) -> None:
    """One scheduler pass as if at that moment: plan due reminders, send them, exit."""
    settings, engine = _context()
    moment = _moment(now)
    result = asyncio.run(run_tick_once(settings, engine, now=moment))
    planned, sent = result.planned, result.dispatched
    out.print(
        f"{local(moment):%d/%m/%Y %H:%M}: lập {planned.planned} nhắc việc, "
        f"gửi {sent.sent} ({sent.messages} tin), hoãn {sent.deferred}, "
        f"không liên lạc được {sent.unreachable}."
    )


@app.command()
def run() -> None:
    """Run the bot: configured channels, scheduler, webhook or polling."""
    settings, engine = _context()
    asyncio.run(runtime.run(settings, engine))


@app.command()
def demo(
    folder: Annotated[Path, typer.Option("--out", help="thư mục kết quả")] = Path("demo-output"),
    start: Annotated[str, typer.Option(help="ngày đầu mô phỏng")] = "2024-11-25",
    days: Annotated[int, typer.Option(help="số ngày mô phỏng")] = 35,
) -> None:
    """Simulate a month with the example plans: no token, no set-up; reports written to files."""
    configure_logging("WARNING")
    try:
        first = date.fromisoformat(start)
    except ValueError:
        err.print(f"Ngày không hợp lệ: {start}", markup=False)
        raise typer.Exit(2) from None
    written = run_demo(folder, start=first, days=days, console=out)
    out.print(f"Xong: {len(written)} tệp báo cáo trong {folder / 'reports'}.")


ops.register(app)  # `backup` and `doctor` (bot/ops.py)


@contextmanager
def _read_session() -> Iterator[Session]:
    """A read-only session on the configured database, for the report commands."""
    _, engine = _context()
    with read_session(engine) as session:
        yield session


report_commands.register(app, _read_session)  # `report` and `status` (bot/report_commands.py)


def main() -> None:
    """Entry point of the `dondoc` script: an unexpected error prints its traceback, masked."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
    except Exception as exc:  # Typer's own printer would show it unmasked, with local variables
        sys.stderr.write(redact("".join(traceback.format_exception(exc))))
        sys.exit(1)
