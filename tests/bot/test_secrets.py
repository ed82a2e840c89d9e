"""The bot token never appears: not in output, logs, stored errors, backups, settings errors."""

from __future__ import annotations

import io
import logging
import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.command_context import configure_logging
from bot.settings import load_settings
from plans.clock import DEFAULT_TIMEZONE, set_timezone
from plans.redact import install_filter, redact, set_secrets
from storage.models import Outbox
from tests.e2e.dondoc_process import dondoc
from tests.fakes.bot_api import FakeBotApi
from tests.pg import selected_backend
from tests.utils.clock import local_time
from tests.utils.world import build_world

TOKEN = "4242424242:AAH-secret_Token-never-shown-7Qx"
ZALO_TOKEN = "zalo-access-token-8d1f3c9b-ends-with-TAIL5678"
runner = CliRunner()


@pytest.fixture(autouse=True)
def forget_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No outer channel settings or `.env`; the process-wide secrets and zone reset after."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "ZALO_BOT_TOKEN", "ZALO_API_URL"):
        monkeypatch.delenv(name, raising=False)
    yield
    set_secrets(())
    set_timezone(DEFAULT_TIMEZONE)


class RedirectingBotApi(FakeBotApi):
    """A Bot API that answers getMe but redirects every send to itself, for ever."""

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        if request.path.rsplit("/", 1)[-1] not in ("sendMessage", "sendDocument", "sendPhoto"):
            return super()._handle(request)
        request.rfile.read(int(request.headers.get("Content-Length") or 0))
        request.send_response(307)
        request.send_header("Location", request.path)
        request.send_header("Content-Length", "0")
        request.end_headers()
        return None


def tick_env(database_url: str, api_url: str) -> dict[str, str]:
    """A `dondoc tick` with the secret token, logging everything it can."""
    return {
        "DONDOC_DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "DONDOC_LOG_LEVEL": "DEBUG",
        "SEND_RATE_PER_SECOND": "0",
        "SEND_RATE_PER_CHAT": "0",
    }


def backup_bytes(
    database_url: str, env: dict[str, str], folder: Path, request: pytest.FixtureRequest
) -> bytes:
    """What a backup of the database holds: `dondoc backup` on SQLite, pg_dump on PostgreSQL."""
    target = folder / "backup"
    if selected_backend() == "sqlite":
        result = dondoc(env, "backup", str(target))
        assert TOKEN not in result.stdout + result.stderr
    else:
        bindir = request.getfixturevalue("postgres").bindir
        plain = make_url(database_url).set(drivername="postgresql")
        url = plain.render_as_string(hide_password=False)
        subprocess.run([str(bindir / "pg_dump"), "--file", str(target), url], check=True)
    return target.read_bytes()


def assert_token_nowhere(text: str) -> None:
    """Neither the token, nor its URL-encoded form, nor its secret half."""
    for form in (TOKEN, quote(TOKEN, safe=""), TOKEN.split(":")[1]):
        assert form not in text


@pytest.mark.slow  # a subprocess
def test_tick_with_an_api_url_without_scheme_never_shows_the_token(
    engine: Engine, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=1)
    env = tick_env(database_url, "api.telegram.org/bot")
    result = dondoc(env, "tick", "--now", "2026-11-27T09:00", check=False)
    assert result.returncode == 1
    # The traceback is there, with the URL the operator mistyped, the token masked.
    assert "api.telegram.org/bot***/getMe" in result.stderr
    assert_token_nowhere(result.stdout + result.stderr)
    with Session(engine) as session:
        errors = session.exec(select(Outbox.last_error)).all()
    assert_token_nowhere(repr(errors))
    assert TOKEN.encode() not in backup_bytes(database_url, env, tmp_path, request)


@pytest.mark.slow  # a subprocess
def test_tick_through_a_redirect_loop_never_stores_the_token(
    engine: Engine, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=1)
    env = tick_env(database_url, "")
    with RedirectingBotApi() as api:
        env["TELEGRAM_API_URL"] = api.api_url()
        result = dondoc(env, "tick", "--now", "2026-11-27T09:00")
    assert "hoãn" in result.stdout and "gửi 0" in result.stdout
    assert_token_nowhere(result.stdout + result.stderr)
    with Session(engine) as session:
        errors = session.exec(select(Outbox.last_error).where(Outbox.status == "pending")).all()
    assert errors and all("TooManyRedirects" in (e or "") for e in errors)
    assert all(f"{api.api_url()}***/sendMessage" in (e or "") for e in errors)
    assert_token_nowhere(repr(errors))
    assert TOKEN.encode() not in backup_bytes(database_url, env, tmp_path, request)


def test_log_lines_and_tracebacks_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    load_settings(
        telegram_bot_token=TOKEN,
        zalo_bot_token=ZALO_TOKEN,
        dondoc_database_url="postgresql+psycopg://dondoc:p%40ss-w0rd%21@127.0.0.1/dondoc",
    )
    configure_logging("INFO")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a handler of the operator's, added later
    logging.getLogger().addHandler(handler)
    try:
        install_filter([handler])
        try:
            raise ConnectionError(f"GET https://api/bot{quote(TOKEN, safe='')}/getMe failed")
        except ConnectionError:
            logging.getLogger("dondoc.test").exception("zalo %s refused; db p@ss-w0rd!", ZALO_TOKEN)
    finally:
        logging.getLogger().removeHandler(handler)
    for text in (caplog.text, stream.getvalue()):
        assert "zalo *** refused; db ***" in text
        assert "https://api/bot***/getMe failed" in text  # the traceback, masked
        assert_token_nowhere(text)
        assert ZALO_TOKEN not in text and "p@ss-w0rd!" not in text


def test_redact_masks_every_written_form() -> None:
    set_secrets([TOKEN, "s3cr3t", None, ""])
    assert redact(f"a {TOKEN} b {quote(TOKEN, safe='')} c s3cr3t d") == "a *** b *** c *** d"
    assert redact("nothing secret here") == "nothing secret here"
    set_secrets(())
    assert redact(TOKEN) == TOKEN


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"ZALO_WEBHOOK_URL": "https://bot.example.vn/zalo"}, "ZALO_WEBHOOK_SECRET"),
        ({"ZALO_MONTHLY_QUOTA": ZALO_TOKEN[-12:]}, "ZALO_MONTHLY_QUOTA"),
        ({"ZALO_POLL_INTERVAL": f"nhanh {ZALO_TOKEN}"}, "ZALO_POLL_INTERVAL"),
        ({"DONDOC_TIMEZONE": "Asia/Hanoi-ish"}, "DONDOC_TIMEZONE"),
        ({"DONDOC_LOG_LEVEL": "verbose"}, "DONDOC_LOG_LEVEL"),
        ({"DONDOC_DATABASE_URL": "postgresql//dondoc:p@ss@db/dondoc"}, "DONDOC_DATABASE_URL"),
    ],
)
def test_a_bad_setting_names_the_variable_never_a_value(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    monkeypatch.setenv("ZALO_BOT_TOKEN", ZALO_TOKEN)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    for command in (["tick"], ["doctor"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Cấu hình sai: ") and named in lines[0]
        for value in (ZALO_TOKEN, ZALO_TOKEN[-8:], "p@ss", *variables.values()):
            assert value not in result.stderr
        assert "input_value" not in result.stderr
