"""The real `dondoc run` with only Zalo configured, against the fake Zalo Bot API.

Driven as a school's contact would: register with `DK <code>`, get a reminder, reply with and
without the code.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot import cli
from storage.db import make_engine
from storage.models import Assignment, Contact, Inbound, Occurrence, Report, Task
from tests.e2e.dondoc_process import dondoc, dondoc_run
from tests.fakes.zalo_api import TOKEN, FakeZaloApi
from tests.utils.world import plan_yaml, units_yaml

pytestmark = pytest.mark.e2e

CHAT = "8491234567890123456"
DK_RE = re.compile(r"DK ([A-Za-z0-9_-]+)")
TASK_CODE_RE = re.compile(r"Nhiệm vụ (\S+):.*?Mã: ([A-Z0-9]+)", re.DOTALL)


def commands() -> set[str]:
    """The top-level commands of the dondoc command line."""
    return {c.name or c.callback.__name__ for c in cli.app.registered_commands if c.callback}


@dataclass
class ZaloBot:
    """The running bot, its environment, the fake it talks to and its log."""

    env: dict[str, str]
    fake: FakeZaloApi
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def user_says(self, text: str) -> tuple[dict, int]:
        """Send a message as the contact; return the update and how many answers came before."""
        before = len(self.fake.texts_for(CHAT))
        return self.fake.user_says(CHAT, text, name="Phạm Thị Dung"), before

    def answer(self, needle: str, after: int) -> str:
        """The bot's answer containing `needle`, waiting for the other process."""
        try:
            return self.fake.wait_for_text(CHAT, needle, after=after)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- dondoc run log ---\n{self.log()[-4000:]}") from None


@pytest.fixture
def fake() -> Iterator[FakeZaloApi]:
    """The fake Zalo Bot API in a thread of the test process."""
    with FakeZaloApi() as server:
        yield server


@pytest.fixture
def zalo_env(fake: FakeZaloApi, tmp_path: Path) -> dict[str, str]:
    """A database with units and a plan (imported with the CLI), and Zalo-only configuration."""
    env = {
        "DONDOC_DATABASE_URL": f"sqlite:///{tmp_path / 'dondoc.db'}",
        "DONDOC_LOG_LEVEL": "DEBUG",
        "ZALO_BOT_TOKEN": TOKEN,
        "ZALO_API_URL": fake.api_url(),
        "TELEGRAM_BOT_TOKEN": "",  # empty: the Telegram channel is off
        "ZALO_WEBHOOK_URL": "",
        # The test plays the clock with `dondoc tick --now`; the bot only serves the chat.
        "DONDOC_SCHEDULER": "false",
    }
    units = tmp_path / "units.yaml"
    units.write_text(units_yaml(1), encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    tasks = [("1", "TRUONG", "30/11/2026"), ("2", "TRUONG", "30/11/2026")]
    plan.write_text(plan_yaml(tasks), encoding="utf-8")
    dondoc(env, "units", "import", str(units))
    # Imported a week before the deadline, on the test's clock (not the wall clock).
    dondoc(env, "plan", "import", str(plan), "--now", "2026-11-20T08:00")
    return env


@pytest.fixture
def zalo_bot(zalo_env: dict[str, str], fake: FakeZaloApi, tmp_path: Path) -> Iterator[ZaloBot]:
    """`dondoc run` polling the fake; stopped whatever happens."""
    log_path = tmp_path / "run.log"
    with dondoc_run(zalo_env, log_path) as process:
        bot = ZaloBot(zalo_env, fake, process, log_path)
        deadline = time.monotonic() + 30
        while "getUpdates" not in fake.calls:  # waiting for the other process to start polling
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"dondoc run did not poll (exit {process.poll()}):\n{bot.log()[-4000:]}"
                )
            time.sleep(0.05)
        yield bot


def test_register_remind_and_reply_over_zalo(zalo_bot: ZaloBot, tmp_path: Path) -> None:
    env, fake = zalo_bot.env, zalo_bot.fake
    invite = dondoc(env, "invite", "THCS_0001", "--role", "contact").stdout
    match = DK_RE.search(invite)
    assert match, invite

    # Registration, then the same update replayed: handled once. The "help" that follows is
    # answered only after the replay went through (updates are handled in order).
    registration, before = zalo_bot.user_says(f"DK {match.group(1)}")
    welcome = zalo_bot.answer("Đăng ký thành công", after=before)
    assert "Trường THCS số 1" in welcome and "<b>" not in welcome
    fake.replay(registration)
    _, before = zalo_bot.user_says("help")
    assert "Hướng dẫn dondoc" in zalo_bot.answer("Hướng dẫn", after=before)
    assert sum("Đăng ký thành công" in t for t in fake.texts_for(CHAT)) == 1
    assert not any("không hợp lệ" in t for t in fake.texts_for(CHAT))  # not redeemed twice

    # The reminder comes from a separate `dondoc tick` process, through the Zalo sender.
    before = len(fake.texts_for(CHAT))
    ticked = dondoc(env, "tick", "--now", "2026-11-23T08:00").stdout
    assert "gửi 2 (1 tin)" in ticked, ticked
    reminder = zalo_bot.answer("Nhắc việc", after=before)
    codes = dict(TASK_CODE_RE.findall(reminder))
    assert set(codes) == {"1", "2"}, reminder
    for code in codes.values():
        assert f"Mã: {code}" in reminder
        assert f"Trả lời: {code} 1 (xong), {code} 2 (đang làm), {code} 3 (khó khăn)" in reminder

    # A coded reply for task 1, then an uncoded "xong": the chat's latest open reminder (task 2).
    _, before = zalo_bot.user_says(f"{codes['1']} 2 đạt 60%, đang hoàn thiện hồ sơ")
    progress = zalo_bot.answer("Đã ghi nhận", after=before)
    assert "nhiệm vụ 1 —" in progress and "Đang thực hiện" in progress and "(60%)" in progress
    _, before = zalo_bot.user_says("xong")
    done = zalo_bot.answer("Đã ghi nhận", after=before)
    assert "nhiệm vụ 2 —" in done and "Đã hoàn thành" in done

    engine = make_engine(env["DONDOC_DATABASE_URL"])
    try:
        with Session(engine) as session:
            contact = session.exec(select(Contact)).one()
            assert (contact.channel, contact.chat_id, contact.display_name) == (
                "zalo",
                CHAT,
                "Phạm Thị Dung",
            )
            replayed = session.exec(
                select(Inbound).where(Inbound.update_key == registration["message"]["message_id"])
            ).all()
            assert len(replayed) == 1 and replayed[0].handled_at is not None
            rows = session.exec(
                select(Task.key, Occurrence.status, Occurrence.percent)
                .join(Assignment, Assignment.task_id == Task.id)
                .join(Occurrence, Occurrence.assignment_id == Assignment.id)
            ).all()
            reports = session.exec(select(Report).order_by(Report.id)).all()
    finally:
        engine.dispose()
    assert {key: (status, percent) for key, status, percent in rows} == {
        "1": ("in_progress", 60),
        "2": ("done", 100),
    }
    assert [(r.status, r.note) for r in reports] == [
        ("in_progress", "đạt 60%, đang hoàn thiện hồ sơ"),
        ("done", "xong"),
    ]

    if "report" in commands():  # `dondoc report` is another issue's; check it once it exists
        out = tmp_path / "report.md"
        dondoc(env, "report", "KH-TEST", "--format", "md", "--out", str(out))
        markdown = out.read_text(encoding="utf-8")
        assert "đạt 60%, đang hoàn thiện hồ sơ" in markdown
        assert "Đang thực hiện" in markdown and "Đã hoàn thành" in markdown

    assert zalo_bot.process.poll() is None, zalo_bot.log()[-4000:]
    log = zalo_bot.log()
    assert "Traceback" not in log, log[-4000:]
    assert TOKEN not in log and TOKEN not in ticked
