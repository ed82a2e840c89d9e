"""The real `dondoc run` against telegram-test-api, driven as a principal and a head would."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from plans.clock import local_zone
from storage.models import Assignment, Occurrence, Report, Task, Unit
from tests.e2e.dondoc_process import dondoc, dondoc_run
from tests.e2e.telegram_emulator import Emulator
from tests.utils.world import build_world

pytestmark = pytest.mark.e2e

INVITE_RE = re.compile(r"start=([A-Za-z0-9_-]+)")


def invite(env: dict[str, str], unit: str, role: str) -> str:
    """Issue an invite with the command line and return its code."""
    out = dondoc(env, "invite", unit, "--role", role).stdout
    match = INVITE_RE.search(out)
    assert match, out
    return match.group(1)


def test_register_remind_reply_and_status(
    telegram_emulator: Emulator, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    today = datetime.now(local_zone()).date()
    due_a, due_b = today + timedelta(days=7), today + timedelta(days=3)
    build_world(
        engine,
        tmp_path,
        now=datetime.now(local_zone()),
        schools=2,
        issued=(today - timedelta(days=30)).isoformat(),
        tasks=[("A", "TRUONG", f"{due_a:%d/%m/%Y}"), ("B", "TRUONG", f"{due_b:%d/%m/%Y}")],
        register=False,
    )
    token = telegram_emulator.new_token()
    env = telegram_emulator.dondoc_env(token, database_url)
    contact_code = invite(env, "THCS_0001", "contact")
    head_code = invite(env, "PGDDT", "head")
    principal = telegram_emulator.user("Hiệu trưởng", token=token)
    head = telegram_emulator.user("Trưởng phòng", token=token)
    stranger = telegram_emulator.user("Người lạ", token=token)

    with dondoc_run(env, tmp_path / "run.log"):
        principal.send_command(f"/start {contact_code}")
        assert "Đăng ký thành công" in principal.wait_for_text("Đăng ký").plain_text
        head.send_command(f"/start {head_code}")
        head.wait_for_text("Đăng ký thành công")

        stranger.send_text("xin chào")
        assert "chưa được đăng ký" in stranger.wait_for_text("dondoc").plain_text
        stranger.send_command(f"/start {contact_code}")  # a used code gives nothing
        stranger.wait_for_text("không hợp lệ")

        now = f"{today.isoformat()}T08:00"
        ticked = dondoc(env, "tick", "--now", now).stdout
        reminder = principal.wait_for_text("Nhắc việc")
        assert "Trường THCS số 1" in reminder.plain_text
        codes = re.findall(r"Mã: ([A-Z2-9]{3,})", reminder.plain_text)
        assert len(codes) == 2, reminder.plain_text
        assert len(reminder.buttons) == 6, ticked

        # Task B (due first, listed first): tap "done", then write the note.
        done_button = next(data for _, data in reminder.buttons if data == f"s:{codes[0]}:1")
        principal.press(done_button, reminder.message_id)
        principal.wait_for_text("ghi chú")
        principal.send_text("Đã tổ chức hội nghị quán triệt")
        recorded = principal.wait_for_text("Đã ghi nhận")
        assert "Đã hoàn thành" in recorded.plain_text
        assert "hội nghị quán triệt" in recorded.plain_text

        # Task A in free text: applies to the latest open reminder.
        principal.send_text("đang làm, đạt 70%")
        progress = principal.wait_for_text("Đang thực hiện")
        assert "70%" in progress.plain_text

        head.send_command("/status")
        status = head.wait_for_text("Tình hình thực hiện")
        assert "Hoàn thành đúng hạn: 1" in status.plain_text or "đúng hạn" in status.plain_text

        before = len(principal.bot_messages())
        again = dondoc(env, "tick", "--now", now).stdout
        assert "gửi 0" in again
        assert len(principal.bot_messages()) == before

    with Session(engine) as session:
        rows = session.exec(
            select(Task.key, Occurrence.status, Occurrence.percent)
            .join(Assignment, Assignment.task_id == Task.id)
            .join(Occurrence, Occurrence.assignment_id == Assignment.id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Unit.code == "THCS_0001")
        ).all()
        notes = session.exec(select(Report.note)).all()
    assert {key: (status, percent) for key, status, percent in rows} == {
        "B": ("done", 100),
        "A": ("in_progress", 70),
    }
    assert "Đã tổ chức hội nghị quán triệt" in notes
