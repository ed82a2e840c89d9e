"""Indicators through the real `dondoc run` on telegram-test-api: buttons, questions, report."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.engine import Engine

from plans.clock import local_zone
from tests.e2e.dondoc_process import dondoc, dondoc_run
from tests.e2e.telegram_emulator import Emulator
from tests.utils.indicator_world import indicator_world

pytestmark = pytest.mark.e2e

TASK_CODE_RE = re.compile(r"Nhiệm vụ (\S+):.*?Mã: ([A-Z2-9]{3,})", re.DOTALL)


def test_a_contact_taps_a_status_answers_the_figures_and_the_report_totals_them(
    telegram_emulator: Emulator, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    now = datetime.now(local_zone())
    today = now.date()
    indicator_world(
        engine,
        tmp_path,
        now=now - timedelta(days=1),
        due_a=f"{today + timedelta(days=7):%d/%m/%Y}",
        due_b=f"{today + timedelta(days=3):%d/%m/%Y}",
        register=False,
    )
    token = telegram_emulator.new_token()
    env = telegram_emulator.dondoc_env(token, database_url)
    invite = dondoc(env, "invite", "THCS_0001", "--role", "contact").stdout
    match = re.search(r"start=([A-Za-z0-9_-]+)", invite)
    assert match, invite
    principal = telegram_emulator.user("Hiệu trưởng", token=token)

    with dondoc_run(env, tmp_path / "run.log"):
        principal.send_command(f"/start {match.group(1)}")
        principal.wait_for_text("Đăng ký thành công")
        dondoc(env, "tick", "--now", f"{today.isoformat()}T08:00")
        reminder = principal.wait_for_text("Nhắc việc")
        codes = dict(TASK_CODE_RE.findall(reminder.plain_text))

        principal.press(f"s:{codes['A']}:2", reminder.message_id)
        ask_note = principal.wait_for_text("ghi chú")
        principal.click(ask_note, "Bỏ qua")
        first = principal.wait_for_text("Số liệu nhiệm vụ A")
        assert "Phòng học kiên cố" in first.plain_text and "1/3" in first.plain_text
        principal.send_text("45/50")
        second = principal.wait_for_text("Kinh phí sửa chữa")
        assert "Đã ghi Phòng học kiên cố: 45/50 (90%)" in second.plain_text
        principal.click(second, "Bỏ qua")
        principal.wait_for_text("Đã quán triệt")
        principal.send_text("có")
        summary = principal.wait_for_text("đang ghi")
        assert "Kinh phí sửa chữa: chưa có số liệu" in summary.plain_text
        assert "Đã quán triệt: có" in summary.plain_text

    path = tmp_path / "bao-cao.xlsx"
    dondoc(env, "report", "KH-TEST", "--out", str(path), "--at", today.isoformat())
    sheet = openpyxl.load_workbook(path, data_only=True)["Chỉ tiêu"]
    totals = next(row for row in sheet.iter_rows() if row[2].value == "Tổng hợp")
    assert [c.value for c in totals[3:6]] == [45, 50, 0.9]
    assert [sheet.cell(r, 4).value for r in (2, 3, 4)] == [45, None, None]
