"""What every `dondoc` command shares: consoles, settings and logging, the database, the clock.

Only Typer, Rich and the settings check are imported at the top (bot/cli.py lists every command
on each call); the database layer is imported by the function that opens it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from bot import ops
from plans.redact import install_filter, redact

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from bot.settings import Settings
    from plans.errors import InputFileError

out = Console(highlight=False, soft_wrap=True)


err = Console(stderr=True, highlight=False, soft_wrap=True)


FILE = "TỆP"


# What a command that needs the units adds when the database is missing or not created yet.
UNITS_NEXT = " Rồi nhập đơn vị (`dondoc units import TỆP`), hoặc dùng `--units TỆP` thay thế."


def configure_logging(level: str) -> None:
    """Log to stderr with secrets masked; keep httpx's request lines (URLs) out entirely."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_filter(logging.getLogger().handlers)
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def load_settings() -> Settings:
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


def settings_and_database() -> tuple[Settings, Engine]:
    """Settings and a ready database for a command that writes."""
    settings = load_settings()
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
        refuse(f"Chưa có cơ sở dữ liệu (không có tệp {exc.path}): chạy `dondoc init` trước.{hint}")
    except SchemaNotCurrent as exc:
        if exc.revision is None:
            refuse(f"Cơ sở dữ liệu chưa được khởi tạo: chạy `dondoc init` trước.{hint}")
        refuse(
            f"Cơ sở dữ liệu ở phiên bản {exc.revision}, chương trình cần {exc.head}: "
            "chạy `dondoc init` để nâng cấp."
        )
    except SQLAlchemyError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        refuse(f"Không kết nối được cơ sở dữ liệu: {redact(first)}")
    return engine


def refuse(message: str) -> NoReturn:
    """Print one line to stderr and exit 2."""
    err.print(message, markup=False)
    raise typer.Exit(2)


def real_now() -> datetime:
    """The real clock, read only at the command-line edge."""
    return datetime.now(UTC)


def fail_input(exc: InputFileError) -> typer.Exit:
    """Print every problem of a file, one per line, and exit 2."""
    for problem in exc.problems:
        err.print(str(problem), markup=False)
    err.print(f"Không ghi gì vào cơ sở dữ liệu ({len(exc.problems)} lỗi).", markup=False)
    return typer.Exit(2)


def iso_day(option: str, text: str) -> date:
    """A YYYY-MM-DD option value; exit 2 naming the option otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        refuse(f"{option}: ngày không hợp lệ: {text} (cần YYYY-MM-DD, ví dụ 2023-09-20)")


def moment_option(text: str | None) -> datetime:
    """A --now/--at value, or the real clock."""
    from plans.clock import parse_moment

    if not text:
        return real_now()
    try:
        return parse_moment(text)
    except ValueError:
        refuse(f"Thời điểm không hợp lệ: {text} (dạng YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM)")


@contextmanager
def read_only_session(*, hint: str = "") -> Iterator[Session]:
    """A read-only session on the configured database as it is (never created or migrated)."""
    from storage.db import read_session

    engine = existing_database(load_settings(), hint=hint)
    try:
        with read_session(engine) as session:
            yield session
    finally:
        engine.dispose()
