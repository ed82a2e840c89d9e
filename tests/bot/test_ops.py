"""`dondoc backup` and `dondoc doctor` as an operator runs them."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli import app
from bot.ops import Check, check_channels, check_database
from bot.settings import load_settings
from scheduler.lease import LEASE
from scheduler.planner import plan_due_reminders
from storage.db import make_engine, session_scope
from storage.models import Contact, Inbound, Outbox
from storage.schema import migrate
from tests.fakes.bot_api import FakeBotApi
from tests.pg import free_port
from tests.utils.clock import local_time
from tests.utils.world import build_world

runner = CliRunner()
TELEGRAM_TOKEN = "123456:telegram-secret-token"
ZALO_TOKEN = "zalo-secret-token-42"
CHANNEL_VARIABLES = ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "TELEGRAM_API_URL", "ZALO_API_URL")


@pytest.fixture(autouse=True)
def no_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test with no channel configured, whatever the outer environment holds."""
    for name in CHANNEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Bot API answering getMe (it serves the Zalo shape too)."""
    server = FakeBotApi().start()
    yield server
    server.stop()


# --- backup ---------------------------------------------------------------------------------


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A SQLite file with a small district in it (backup is SQLite's, whatever the pass)."""
    path = tmp_path / "live.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=3)
    engine.dispose()
    yield f"sqlite:///{path}", path


def count(path: Path, table: str) -> int:
    """Rows in a table of a SQLite file."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_backup_copies_a_live_database_without_its_open_transaction(
    sqlite_world: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, live = sqlite_world
    monkeypatch.setenv("DONDOC_DATABASE_URL", url)
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a tick in the middle of a write
    writer.execute("INSERT INTO unit_group (code, name) VALUES ('MOI', 'chưa lưu')")
    target = tmp_path / "backup" / "dondoc-2026-11-23.db"
    target.parent.mkdir()
    result = runner.invoke(app, ["backup", str(target)])
    writer.execute("COMMIT")
    writer.close()
    assert result.exit_code == 0, result.output
    assert "Đã sao lưu" in result.stdout
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # one whole file
    for table in ("unit", "contact", "occurrence"):
        assert count(target, table) == count(live, table) > 0
    assert count(target, "unit_group WHERE code = 'MOI'") == 0
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    copy.close()


def test_backup_keeps_an_existing_file_unless_forced(
    sqlite_world: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = sqlite_world
    monkeypatch.setenv("DONDOC_DATABASE_URL", url)
    target = tmp_path / "old-backup.db"
    target.write_bytes(b"keep me")
    refused = runner.invoke(app, ["backup", str(target)])
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert target.read_bytes() == b"keep me"
    forced = runner.invoke(app, ["backup", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert count(target, "unit") > 0


def test_backup_of_a_missing_database_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DONDOC_DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    result = runner.invoke(app, ["backup", str(tmp_path / "out.db")])
    assert result.exit_code == 2 and "absent.db" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_backup_on_postgresql_points_at_pg_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://dondoc:pa55word@db.example.vn:5432/dondoc"
    monkeypatch.setenv("DONDOC_DATABASE_URL", url)
    result = runner.invoke(app, ["backup", str(tmp_path / "out.db")])
    assert result.exit_code == 2
    assert "pg_dump" in result.stderr and "db.example.vn" in result.stderr
    assert "pa55word" not in result.output
    assert not (tmp_path / "out.db").exists()


# --- doctor ---------------------------------------------------------------------------------


def test_doctor_on_a_healthy_setup_exits_0_and_shows_no_secret(
    engine: Engine, database_url: str, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", api.api_url())
    monkeypatch.setenv("ZALO_BOT_TOKEN", ZALO_TOKEN)
    monkeypatch.setenv("ZALO_API_URL", api.api_url())
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    for expected in ("lược đồ", "Telegram getMe: @dondoc_test_bot", "Zalo getMe", "hàng đợi gửi"):
        assert expected in result.stdout
    assert "LỖI" not in result.stdout
    for secret in (TELEGRAM_TOKEN, ZALO_TOKEN, "telegram-secret", "secret-token"):
        assert secret not in result.output


def test_doctor_exits_1_when_a_channel_is_down(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", f"http://127.0.0.1:{free_port()}/bot")
    result = runner.invoke(app, ["doctor", "--timeout", "2"])
    assert result.exit_code == 1
    assert "[LỖI] Telegram getMe" in result.stdout
    assert TELEGRAM_TOKEN not in result.output


async def test_a_channel_that_never_answers_times_out_quickly() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings = load_settings(
            telegram_bot_token=TELEGRAM_TOKEN, telegram_api_url=f"http://127.0.0.1:{port}/bot"
        )
        started = datetime.now(UTC)
        (check,) = await check_channels(settings, timeout=0.3)
    assert check == Check("Telegram getMe", False, "quá thời gian chờ")
    assert datetime.now(UTC) - started < timedelta(seconds=5)


def test_doctor_exits_1_when_the_schema_is_missing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)  # an empty database, or no file
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "dondoc init" in result.stdout
    if database_url.startswith("sqlite"):
        assert not Path(database_url.removeprefix("sqlite:///")).exists()  # doctor creates nothing


def test_doctor_exits_1_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"postgresql+psycopg://dondoc:pa55word@127.0.0.1:{free_port()}/dondoc"
    monkeypatch.setenv("DONDOC_DATABASE_URL", url)
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "không kết nối được" in result.stdout
    assert "pa55word" not in result.output


def queue_checks(database_url: str, now: datetime) -> tuple[Check, Check, Check]:
    """The doctor's outbox lines at `now`: the queue, the claims being sent, the contacts."""
    schema, queue, claims, _inbound, contacts = check_database(
        load_settings(dondoc_database_url=database_url), now=now
    )
    assert schema.ok
    return queue, claims, contacts


def test_doctor_reports_the_outbox_and_unreachable_contacts(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=3)
    planned_at = local_time("2026-11-23 08:00")
    plan_due_reminders(engine, now=planned_at)
    with session_scope(engine) as session:
        session.execute(
            update(Contact)
            .where(Contact.chat_id == world.school_chats[world.schools[0]])  # type: ignore[arg-type]
            .values(reachable=False)
        )
    queue, claims, contacts = queue_checks(database_url, planned_at + timedelta(minutes=5))
    assert queue.ok and "3 tin chờ gửi" in queue.detail and "5 phút" in queue.detail
    assert claims == Check("tin đang gửi", True, "không có tin bị kẹt")
    assert contacts == Check("liên hệ không liên lạc được", None, contacts.detail)
    assert contacts.detail.startswith("1 ")
    late, _, _ = queue_checks(database_url, planned_at + timedelta(hours=2, minutes=10))
    assert late.ok is False and "2 giờ 10 phút" in late.detail and "dondoc run" in late.detail
    with session_scope(engine) as session:
        session.execute(update(Outbox).values(status="sent"))
    empty, _, _ = queue_checks(database_url, planned_at + timedelta(hours=3))
    assert empty.ok and empty.detail == "không có tin chờ gửi"


def test_a_message_waiting_for_hours_is_late_even_at_night(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=2)
    plan_due_reminders(engine, now=local_time("2026-11-23 08:00"))
    at_night = local_time("2026-11-23 23:30")
    stuck_all_day, _, _ = queue_checks(database_url, at_night)
    assert stuck_all_day.ok is False and "2 tin chờ quá 15 phút" in stuck_all_day.detail
    with session_scope(engine) as session:  # due just before the quiet hours (21:00–07:00)
        session.execute(update(Outbox).values(next_attempt_at=local_time("2026-11-23 20:55")))
    for moment, ok in [
        ("2026-11-23 23:30", True),  # 5 minutes of sending time, then held for the night
        ("2026-11-24 07:05", True),  # 10 minutes
        ("2026-11-24 07:15", False),  # 20 minutes: the morning's ticks should have sent it
    ]:
        queue, _, _ = queue_checks(database_url, local_time(moment))
        assert queue.ok is ok, (moment, queue)


def test_a_claim_past_its_lease_is_an_error(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=2)
    claimed_at = local_time("2026-11-23 08:00")
    plan_due_reminders(engine, now=claimed_at)
    with session_scope(engine) as session:  # a worker claimed them, then died
        session.execute(
            update(Outbox).values(
                status="sending",
                claimed_at=claimed_at,
                claimed_by="vm:1:0bad1dea",
                lease_until=claimed_at + LEASE,
            )
        )
    _, held, _ = queue_checks(database_url, claimed_at + LEASE - timedelta(minutes=1))
    assert held.ok  # still within the lease: perhaps a long pass, sending
    queue, stuck, _ = queue_checks(database_url, claimed_at + LEASE + timedelta(minutes=1))
    assert queue.ok and queue.detail == "không có tin chờ gửi"  # what the doctor used to say
    assert stuck.ok is False and stuck.detail.startswith("2 tin kẹt")


def test_doctor_exits_1_on_a_stuck_claim(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=1)
    claimed_at = local_time("2026-11-02 09:00")  # long before the doctor's real clock
    plan_due_reminders(engine, now=local_time("2026-11-23 08:00"))
    with session_scope(engine) as session:
        session.execute(
            update(Outbox).values(
                status="sending", claimed_by="vm:1:0bad1dea", lease_until=claimed_at + LEASE
            )
        )
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1, result.output
    assert "[LỖI] tin đang gửi: 1 tin kẹt" in result.stdout


def test_an_update_stored_but_not_handled_for_minutes_is_an_error(
    engine: Engine, database_url: str
) -> None:
    received = local_time("2026-11-23 09:00")
    with session_scope(engine) as session:
        session.add(Inbound(channel="zalo", update_key="u-1", received_at=received))
        session.add(
            Inbound(channel="zalo", update_key="u-2", received_at=received, handled_at=received)
        )
    settings = load_settings(dondoc_database_url=database_url)

    def inbound_at(moment: datetime) -> Check:
        return check_database(settings, now=moment)[3]

    assert inbound_at(received + timedelta(minutes=2)).ok  # being handled, perhaps
    late = inbound_at(received + timedelta(hours=3))
    assert late.ok is False and late.detail.startswith("1 tin nhận") and "3 giờ" in late.detail
    with session_scope(engine) as session:
        session.execute(update(Inbound).values(handled_at=received + timedelta(hours=3)))
    assert inbound_at(received + timedelta(hours=4)).ok
