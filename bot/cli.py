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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from bot import draft_command, ops, report_commands
from plans.redact import install_filter, redact

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from bot.settings import Settings
    from plans.errors import InputFileError
    from plans.plan_file import Directory

app = typer.Typer(
    help="dondoc — đôn đốc thực hiện kế hoạch qua Telegram/Zalo.",
    no_args_is_help=True,
    add_completion=False,
)
units_app = typer.Typer(help="Danh mục đơn vị: nhập từ tệp YAML hoặc CSV.", no_args_is_help=True)
plan_app = typer.Typer(help="Kế hoạch: soạn nháp, kiểm tra, nhập, xem.", no_args_is_help=True)
app.add_typer(units_app, name="units")
app.add_typer(plan_app, name="plan")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
FILE = "TỆP"
# What a command that needs the units adds when the database is missing or not created yet.
UNITS_NEXT = " Rồi nhập đơn vị (`dondoc units import TỆP`), hoặc dùng `--units TỆP` thay thế."


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


def configure_logging(level: str) -> None:
    """Log to stderr with secrets masked; keep httpx's request lines (URLs) out entirely."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_filter(logging.getLogger().handlers)
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _settings() -> Settings:
    """Settings for a command, logging configured by them."""
    settings = ops.settings_or_exit()
    configure_logging(settings.dondoc_log_level)
    return settings


def open_database(settings: Settings) -> Engine:
    """An engine on the configured database, created or migrated to the current schema."""
    from storage.db import make_engine
    from storage.schema import migrate

    engine = make_engine(settings.dondoc_database_url)
    migrate(engine)
    return engine


def _context() -> tuple[Settings, Engine]:
    """Settings and a ready database for a command that writes."""
    settings = _settings()
    return settings, open_database(settings)


def existing_database(settings: Settings, *, hint: str = "") -> Engine:
    """The configured database as it is, for a command that only reads; exit 2 if not ready."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import MissingDatabase, open_existing
    from storage.schema import SchemaNotCurrent, require_current

    try:
        engine = open_existing(settings.dondoc_database_url)
        require_current(engine)
    except MissingDatabase as exc:
        _refuse(f"Chưa có cơ sở dữ liệu (không có tệp {exc.path}): chạy `dondoc init` trước.{hint}")
    except SchemaNotCurrent as exc:
        if exc.revision is None:
            _refuse(f"Cơ sở dữ liệu chưa được khởi tạo: chạy `dondoc init` trước.{hint}")
        _refuse(
            f"Cơ sở dữ liệu ở phiên bản {exc.revision}, chương trình cần {exc.head}: "
            "chạy `dondoc init` để nâng cấp."
        )
    except SQLAlchemyError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        _refuse(f"Không kết nối được cơ sở dữ liệu: {redact(first)}")
    return engine


def _refuse(message: str) -> NoReturn:
    """Print one line to stderr and exit 2."""
    err.print(message, markup=False)
    raise typer.Exit(2)


def _now() -> datetime:
    """The real clock, read only at the command-line edge."""
    return datetime.now(UTC)


def _fail_input(exc: InputFileError) -> typer.Exit:
    """Print every problem of a file, one per line, and exit 2."""
    for problem in exc.problems:
        err.print(str(problem), markup=False)
    err.print(f"Không ghi gì vào cơ sở dữ liệu ({len(exc.problems)} lỗi).", markup=False)
    return typer.Exit(2)


@app.command(help="Tạo cơ sở dữ liệu, hoặc nâng cấp nó lên phiên bản mới nhất.")
def init() -> None:
    """Create or migrate the database."""
    settings, engine = _context()
    out.print(f"Cơ sở dữ liệu sẵn sàng: {engine.url.render_as_string(hide_password=True)}")


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
    from plans.importer import import_units
    from plans.units_file import load_units_file
    from storage.db import session_scope
    from storage.queries import units_by_code

    _, engine = _context()
    with session_scope(engine) as session:
        try:
            known = {code: u.parent_code for code, u in units_by_code(session=session).items()}
            units_file = load_units_file(file, known_parents=known)
            summary = import_units(session, units_file, now=_now(), retire_missing=retire_missing)
        except InputFileError as exc:
            raise _fail_input(exc) from None
        except DondocError as exc:
            _refuse(f"{exc} Không ghi gì vào cơ sở dữ liệu.")
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
    from plans.importer import retire_unit, sync_assignments
    from storage.db import session_scope

    _, engine = _context()
    now = _now()
    with session_scope(engine) as session:
        try:
            ended = retire_unit(session, code, into=into, now=now)
        except DondocError as exc:
            _refuse(f"{exc} Không thay đổi gì.")
        sync_assignments(session, now=now)
    where = f"chuyển cho {into}" if into else "đã đóng (đơn vị đã giải thể)"
    out.print(
        f"Đơn vị {code} đã ngừng hoạt động: {ended} kỳ hạn đang mở {where}; "
        "các liên hệ của đơn vị sẽ được báo một lần.",
        markup=False,
    )


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
        raise _fail_input(exc) from None
    out.print(f"Hợp lệ: {spec.code} — {len(spec.tasks)} nhiệm vụ.")
    out.print("\n".join(summarize(spec).lines()), markup=False)


def _units_of_file(path: Path) -> Directory:
    """The units a units file describes; exit 2 listing its problems."""
    from plans.errors import InputFileError
    from plans.plan_file import Directory
    from plans.units_file import load_units_file

    try:
        return Directory.from_units_file(load_units_file(path))
    except InputFileError as exc:
        raise _fail_input(exc) from None


def _units_of_database() -> Directory:
    """The stored units; exit 2 pointing to `units import` or `--units` when there are none."""
    from plans.importer import directory_from_db

    with _read_session(hint=UNITS_NEXT) as session:
        directory = directory_from_db(session)
    if not directory.units:
        _refuse(
            "Chưa nhập đơn vị nào: nhập danh mục trước (`dondoc units import TỆP`, ví dụ "
            "plans/examples/units.yaml) hoặc kiểm tra với `--units TỆP`."
        )
    return directory


@plan_app.command("import", help="Nhập hoặc cập nhật một kế hoạch; các báo cáo đã nhận được giữ.")
def plan_import(
    file: Annotated[Path, typer.Argument(metavar=FILE, help="tệp kế hoạch YAML")],
) -> None:
    """Import or update a plan; reports already received are kept."""
    from plans.errors import InputFileError
    from plans.importer import load_and_import_plan
    from plans.plan_summary import summarize

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
    out.print("\n".join(summarize(spec).lines()), markup=False)


@plan_app.command("list", help="Các kế hoạch đã nhập.")
def plan_list() -> None:
    """List imported plans."""
    from rich.table import Table
    from sqlmodel import col, func, select

    from storage.models import Plan, Task

    table = Table("Mã", "Số", "Ban hành", "Nhiệm vụ", "Tên")
    with _read_session() as session:
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

    with _read_session() as session:
        plan = plan_by_code(session=session, code=code)
        if plan is None:
            _refuse(f"Không có kế hoạch mã {code}.")
        out.print(f"[bold]{plan.code}[/bold] {plan.number or ''} — {plan.title}")
        frame = [
            f"Thực hiện văn bản: {plan.implements}" if plan.implements else "",
            f"Thời gian thực hiện: đến hết ngày {plan.until:%d/%m/%Y}" if plan.until else "",
            f"Ngày ban hành: {plan.issued:%d/%m/%Y}",
            f"({plan.issued_note})" if plan.issued_note else "",
        ]
        out.print("\n".join(line for line in frame if line), markup=False)
        table = Table("Nhiệm vụ", "Chủ trì", "Phối hợp", "Đơn vị", "Thời hạn", "Hạn tiếp theo")
        today = local_date(_now())
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
    from plans.importer import set_task_due
    from storage.db import session_scope

    _, engine = _context()
    now = _now()
    with session_scope(engine) as session:
        try:
            deadline = set_task_due(
                session, plan_code=code, task_key=task, expression=expression, now=now
            )
        except DondocError as exc:
            _refuse(f"{exc} Không thay đổi gì.")
    dates = ", ".join(f"{d:%d/%m/%Y}" for d in deadline.dates()[:3])
    out.print(f"Nhiệm vụ {task} của kế hoạch {code}: thời hạn «{deadline.text}» ({dates}).")


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

    issued_day = _iso_day("--issued", issued)
    until_day = _iso_day("--until", until) if until else None
    try:
        deadline = parse_deadline(expression, issued=issued_day)
    except DeadlineError as exc:
        _refuse(str(exc))
    if deadline.kind != "dated":
        print(deadline.kind)
        return
    for day in deadline.dates(until=until_day):
        print(day.isoformat())


def _iso_day(option: str, text: str) -> date:
    """A YYYY-MM-DD option value; exit 2 naming the option otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        _refuse(f"{option}: ngày không hợp lệ: {text} (cần YYYY-MM-DD, ví dụ 2023-09-20)")


@app.command(help="In một lời mời dùng một lần: đường dẫn Telegram và tin nhắn Zalo.")
def invite(
    unit: Annotated[str, typer.Argument(metavar="MÃ_ĐƠN_VỊ", help="mã đơn vị")],
    role: Annotated[str, typer.Option(help="vai trò: contact | head | coordinator")] = "contact",
) -> None:
    """Print a single-use invite: a Telegram link and a Zalo text."""
    from handlers.invites import ROLES, create_invite
    from plans.errors import DondocError
    from storage.db import session_scope

    settings, engine = _context()
    if role not in ROLES:
        _refuse(f"Vai trò phải là một trong: {', '.join(ROLES)}")
    try:
        with session_scope(engine) as session:
            issued = create_invite(session, unit_code=unit, role=role, now=_now())
    except DondocError as exc:  # an unknown unit, a role refused: the message says which
        _refuse(str(exc))
    out.print(f"Lời mời cho {issued.unit.name} ({role}), hết hạn {issued.expires_at:%d/%m/%Y}:")
    print(f"Telegram: {issued.telegram_link(settings.telegram_bot_username)}")
    print(f"Zalo: gửi tin nhắn “{issued.zalo_text}” tới bot")


def _moment(text: str | None) -> datetime:
    """A --now/--at value, or the real clock."""
    from plans.clock import parse_moment

    if not text:
        return _now()
    try:
        return parse_moment(text)
    except ValueError:
        _refuse(f"Thời điểm không hợp lệ: {text} (dạng YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM)")


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

    settings, engine = _context()
    moment = _moment(now)
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

    settings, engine = _context()
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
    first = _iso_day("--start", start)
    written = run_demo(folder, start=first, days=days, console=out)
    out.print(f"Xong: {len(written)} tệp báo cáo trong {folder / 'reports'}.")


ops.register(app)  # `backup` and `doctor` (bot/ops.py)


@contextmanager
def _read_session(*, hint: str = "") -> Iterator[Session]:
    """A read-only session on the configured database as it is (never created or migrated)."""
    from storage.db import read_session

    engine = existing_database(_settings(), hint=hint)
    try:
        with read_session(engine) as session:
            yield session
    finally:
        engine.dispose()


report_commands.register(app, _read_session)  # `report` and `status` (bot/report_commands.py)
# `plan draft` (bot/draft_command.py)
draft_command.register(plan_app, partial(_read_session, hint=UNITS_NEXT))


def main() -> None:
    """Entry point of the `dondoc` script: an unexpected error prints its traceback, masked."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
    except Exception as exc:  # Typer's own printer would show it unmasked, with local variables
        sys.stderr.write(redact("".join(traceback.format_exception(exc))))
        sys.exit(1)
