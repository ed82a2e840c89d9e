"""Operator commands: `dondoc backup OUT` and `dondoc doctor`.

Neither changes the database: `backup` reads it through SQLite's online backup API (writers keep
working), and `doctor` only looks — it does not create or migrate anything.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from plans.errors import DondocError

# Settings, the database and HTTP are imported by the functions that use them: every `dondoc`
# call registers these commands (bot/cli.py), and most never run them.
if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

    from bot.settings import Settings

EXIT_PROBLEM = 1
EXIT_USAGE = 2
PING_TIMEOUT_S = 5.0
DB_CONNECT_TIMEOUT_S = 5
# A due message still pending after this much sending time (quiet hours not counted) means
# nothing is sending.
LATE_AFTER = timedelta(minutes=15)
# A stored update is handled within seconds (bot/channels/inbox.py); one this old was not.
INBOUND_LATE_AFTER = timedelta(minutes=5)
MINUTE = timedelta(minutes=1)
RUNNING_HINT = "`dondoc run` có đang chạy?"  # what late or stuck messages point to
BACKUP_PAGES_PER_STEP = 1024  # yield to writers between steps of the online backup

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class OpsError(DondocError):
    """An operator command cannot do what was asked; the message says why."""


# --- backup ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    """What `backup` wrote."""

    path: Path
    size: int
    revision: str | None


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL; OpsError for in-memory databases."""
    from storage.db import sqlite_file

    path = sqlite_file(url)
    if path is None:
        raise OpsError("cơ sở dữ liệu SQLite trong bộ nhớ: không có gì để sao lưu")
    return path


def backup_sqlite(url: str, target: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy a live SQLite database to `target` with the online backup API, atomically."""
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise OpsError(f"không có tệp cơ sở dữ liệu {source_path}")
    if target.exists() and not overwrite:
        raise OpsError(f"{target} đã có; chọn tên khác hoặc thêm --force")
    if target.resolve() == source_path.resolve():
        raise OpsError("tệp sao lưu phải khác tệp cơ sở dữ liệu")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    # Read-only: a backup must never create or change the source.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=BACKUP_PAGES_PER_STEP)
            # One self-contained file (no -wal beside it), checked before it replaces anything.
            copy.execute("PRAGMA journal_mode=DELETE")
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            revision = _sqlite_revision(copy)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise OpsError(f"sao lưu thất bại: {exc}") from None
    finally:
        source.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise OpsError(f"bản sao lưu không toàn vẹn: {check}")
    partial.replace(target)
    return BackupResult(target, target.stat().st_size, revision)


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision recorded in a SQLite database, if any."""
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def pg_dump_hint(url: str) -> str:
    """What to run instead of `backup` on PostgreSQL (the password is left out)."""
    from sqlalchemy.engine import URL, make_url

    parsed = make_url(url)
    target = URL.create(
        "postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database
    )
    return (
        "PostgreSQL: dondoc không tự sao lưu; dùng pg_dump, ví dụ:\n"
        f"  pg_dump --format=custom --file dondoc.dump "
        f"'{target.render_as_string(hide_password=False)}'\n"
        "(mật khẩu qua PGPASSWORD hoặc ~/.pgpass)"
    )


# --- doctor ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report; `ok` None is a note that needs no action."""

    name: str
    ok: bool | None
    detail: str


def configuration_summary(settings: Settings) -> list[tuple[str, str]]:
    """What is configured, without a single secret."""
    from sqlalchemy.engine import make_url

    telegram = zalo = "tắt"
    if settings.telegram_enabled:
        webhook = settings.telegram_webhook_url
        mode = f"webhook {_host(webhook)}" if webhook else "polling"
        telegram = f"bật ({mode}), API {_host(settings.telegram_api_url)}"
    if settings.zalo_enabled:
        zalo = f"bật, API {_host(settings.zalo_api_url)}"
    database = make_url(settings.dondoc_database_url).render_as_string(hide_password=True)
    rates = f"{settings.send_rate_per_second:g} tin/giây, {settings.send_rate_per_chat:g}/giây/chat"
    return [
        ("Cơ sở dữ liệu", database),
        ("Múi giờ", settings.dondoc_timezone),
        ("Telegram", telegram),
        ("Zalo", zalo),
        ("Giới hạn gửi", rates),
    ]


def _host(url: str) -> str:
    """scheme://host[:port] of an API URL (no path, no credentials)."""
    import httpx

    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def check_database(settings: Settings, *, now: datetime) -> list[Check]:
    """Reachable, schema at the newest revision, and what waits in the outbox."""
    from sqlalchemy.engine import make_url

    from storage.db import make_engine
    from storage.schema import current_revision, head_revision

    url = settings.dondoc_database_url
    if make_url(url).get_backend_name() == "sqlite":
        try:
            path = sqlite_path(url)
        except OpsError as exc:
            return [Check("cơ sở dữ liệu", False, str(exc))]
        if not path.is_file():  # connecting would create an empty file
            return [Check("cơ sở dữ liệu", False, f"không có tệp {path}; chạy `dondoc init`")]
        engine = make_engine(url)
    else:
        engine = make_engine(url, connect_args={"connect_timeout": DB_CONNECT_TIMEOUT_S})
    try:
        try:
            revision = current_revision(engine)
        except Exception as exc:  # any driver error means the same thing to the operator
            return [Check("cơ sở dữ liệu", False, f"không kết nối được: {_first_line(exc)}")]
        head = head_revision()
        checks = [_schema_check(revision, head)]
        if revision == head:
            checks += _queue_checks(engine, now=now)
        return checks
    finally:
        engine.dispose()


def _schema_check(revision: str | None, head: str | None) -> Check:
    """Whether the schema is at the newest migration."""
    if revision is None:
        return Check("lược đồ", False, "chưa tạo; chạy `dondoc init`")
    if revision != head:
        detail = f"phiên bản {revision}, mới nhất là {head}; chạy `dondoc init`"
        return Check("lược đồ", False, detail)
    return Check("lược đồ", True, f"phiên bản {revision} (mới nhất)")


def _queue_checks(engine: Engine, *, now: datetime) -> list[Check]:
    """The outbox (late or stuck messages are a problem) and contacts that blocked the bot."""
    from sqlalchemy import not_, or_
    from sqlmodel import Session, col, func, select

    from storage.models import Contact, Inbound, Outbox

    with Session(engine) as session:
        pending, oldest = session.exec(
            select(func.count(), func.min(Outbox.planned_for)).where(Outbox.status == "pending")
        ).one()
        late = session.exec(
            select(func.count()).where(
                Outbox.status == "pending",
                Outbox.next_attempt_at < late_before(now),
            )
        ).one()
        # A claim whose lease ran out: its worker died mid-pass (scheduler/lease.py).
        lease = col(Outbox.lease_until)
        stuck = session.exec(
            select(func.count()).where(
                Outbox.status == "sending", or_(lease.is_(None), lease < now)
            )
        ).one()
        unreachable = session.exec(select(func.count()).where(not_(col(Contact.reachable)))).one()
        unhandled, received = session.exec(
            select(func.count(), func.min(Inbound.received_at)).where(
                col(Inbound.handled_at).is_(None),
                col(Inbound.received_at) < now - INBOUND_LATE_AFTER,
            )
        ).one()
    if pending:
        detail = f"{pending} tin chờ gửi, tin cũ nhất lập {_age(now - oldest)} trước"
    else:
        detail = "không có tin chờ gửi"
    queue = Check("hàng đợi gửi", True, detail)
    if late:
        late_detail = f"{late} tin chờ quá {_age(LATE_AFTER)} trong giờ gửi"
        queue = Check("hàng đợi gửi", False, f"{detail}; {late_detail} — {RUNNING_HINT}")
    claims = Check("tin đang gửi", True, "không có tin bị kẹt")
    if stuck:
        stuck_detail = f"{stuck} tin kẹt ở trạng thái đang gửi quá thời hạn giữ"
        claims = Check("tin đang gửi", False, f"{stuck_detail} — {RUNNING_HINT}")
    contacts = Check(
        "liên hệ không liên lạc được",
        None if unreachable else True,
        f"{unreachable} (đã chặn bot hoặc không còn tồn tại)" if unreachable else "0",
    )
    inbound = Check("tin nhận chưa xử lý", True, "không có tin nhận bị bỏ dở")
    if unhandled:
        waited = f"{unhandled} tin nhận đã lưu nhưng chưa xử lý, cũ nhất {_age(now - received)}"
        inbound = Check("tin nhận chưa xử lý", False, f"{waited} — {RUNNING_HINT}")
    return [queue, claims, inbound, contacts]


def late_before(now: datetime) -> datetime:
    """A message due before this has waited LATE_AFTER of sending hours by `now`."""
    from plans.policy import in_quiet_hours

    moment, waited = now, timedelta(0)
    while waited < LATE_AFTER:  # at most the quiet hours plus LATE_AFTER, minute by minute
        moment -= MINUTE
        if not in_quiet_hours(moment):
            waited += MINUTE
    return moment


def _age(delta: timedelta) -> str:
    """A short Vietnamese duration: '3 ngày 2 giờ', '5 giờ 10 phút', '4 phút'."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} ngày {hours} giờ"
    if hours:
        return f"{hours} giờ {minutes} phút"
    return f"{minutes} phút"


async def check_channels(settings: Settings, *, timeout: float = PING_TIMEOUT_S) -> list[Check]:
    """getMe on every configured channel, at the same time, with a short timeout."""
    import asyncio

    import httpx

    pings = []
    if settings.telegram_bot_token is not None:
        pings.append(("Telegram", settings.telegram_api_url, settings.telegram_bot_token))
    if settings.zalo_bot_token is not None:
        pings.append(("Zalo", settings.zalo_api_url, settings.zalo_bot_token))
    async with httpx.AsyncClient(timeout=timeout) as client:
        return list(
            await asyncio.gather(
                *(
                    _get_me(client, name, base, token.get_secret_value())
                    for name, base, token in pings
                )
            )
        )


async def _get_me(client: httpx.AsyncClient, name: str, base_url: str, token: str) -> Check:
    """`POST {base_url}{token}/getMe` — the same shape on Telegram and Zalo."""
    import httpx

    label = f"{name} getMe"
    try:
        response = await client.post(f"{base_url}{token}/getMe", json={})
    except httpx.TimeoutException:
        return Check(label, False, "quá thời gian chờ")
    except httpx.HTTPError as exc:  # only the class name: httpx messages may carry the URL
        return Check(label, False, f"không kết nối được ({type(exc).__name__})")
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("ok"):
        description = body.get("description", "") if isinstance(body, dict) else ""
        detail = f"HTTP {response.status_code} {str(description)[:120]}".strip()
        return Check(label, False, detail.replace(token, "***"))
    me = body.get("result") or {}
    who = me.get("username") or me.get("account_name") or me.get("display_name") or me.get("id")
    return Check(label, True, f"@{who}" if me.get("username") else str(who or "ok"))


def _first_line(exc: BaseException) -> str:
    """The first line of an error (driver errors append the SQL and a link)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def run_doctor(
    settings: Settings, *, now: datetime, timeout: float = PING_TIMEOUT_S
) -> list[Check]:
    """Every check, in the order they are printed."""
    import asyncio

    checks = check_database(settings, now=now)
    checks += asyncio.run(check_channels(settings, timeout=timeout))
    return checks


# --- command line ---------------------------------------------------------------------------


def settings_or_exit() -> Settings:
    """Settings, or exit 2 with one line per bad variable (never its value)."""
    from bot.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            err.print(problem, markup=False)
        raise typer.Exit(EXIT_USAGE) from None


def backup(
    target: Annotated[Path, typer.Argument(metavar="OUT", help="tệp sao lưu sẽ ghi")],
    force: Annotated[bool, typer.Option("--force", help="ghi đè nếu OUT đã có")] = False,
) -> None:
    """Back up the SQLite database online (PostgreSQL: use pg_dump)."""
    from sqlalchemy.engine import make_url

    settings = settings_or_exit()
    url = settings.dondoc_database_url
    if make_url(url).get_backend_name() != "sqlite":
        err.print(pg_dump_hint(url), markup=False)
        raise typer.Exit(EXIT_USAGE)
    try:
        result = backup_sqlite(url, target, overwrite=force)
    except OpsError as exc:
        err.print(f"Không sao lưu được: {exc}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    out.print(
        f"Đã sao lưu vào {result.path} ({result.size // 1024} KB, "
        f"lược đồ {result.revision or 'trống'}).",
        markup=False,
    )


def doctor(
    timeout: Annotated[float, typer.Option(help="số giây chờ getMe mỗi kênh")] = PING_TIMEOUT_S,
) -> None:
    """Check configuration, database, channels and the outbox; exit 1 if something is wrong."""
    settings = settings_or_exit()
    out.print("Cấu hình:", markup=False)
    for name, value in configuration_summary(settings):
        out.print(f"  {name}: {value}", markup=False)
    out.print("Kiểm tra:", markup=False)
    checks = run_doctor(settings, now=datetime.now(UTC), timeout=timeout)
    for check in checks:
        mark = {True: "OK", False: "LỖI", None: "LƯU Ý"}[check.ok]
        out.print(f"  [{mark}] {check.name}: {check.detail}", markup=False)
    if any(check.ok is False for check in checks):
        raise typer.Exit(EXIT_PROBLEM)


def register(app: typer.Typer) -> None:
    """Add `backup` and `doctor` to the dondoc command line."""
    app.command("backup", help="Sao lưu trực tuyến cơ sở dữ liệu SQLite (PostgreSQL: pg_dump).")(
        backup
    )
    app.command(
        "doctor",
        help="Kiểm tra cấu hình, cơ sở dữ liệu, các kênh và hàng đợi gửi; có lỗi thì thoát mã 1.",
    )(doctor)
