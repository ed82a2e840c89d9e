"""Indicators end to end on Zalo: a reminder, replies with values, the totals in the reports."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import docx
import openpyxl
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.zalo import ZaloApi, ZaloConversation, ZaloPoller, ZaloSender
from reports.figures import build_report
from reports.files import write_report
from scheduler.dispatcher import Dispatcher
from scheduler.planner import plan_due_reminders
from scheduler.ratelimit import unlimited
from tests.fakes.zalo_api import FakeZaloApi
from tests.utils.clock import local_time
from tests.utils.indicator_world import indicator_world

NOW = local_time("2026-11-23 08:00")
CODE_RE = re.compile(r"Nhiệm vụ (\S+):.*?Mã: ([A-Z0-9]+)", re.DOTALL)


async def test_a_reminder_then_values_by_line_and_by_question_reach_every_report(
    engine: Engine, tmp_path: Path, fake: FakeZaloApi, api: ZaloApi
) -> None:
    world = indicator_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), channel="zalo")
    poller = ZaloPoller(
        api, ZaloConversation(engine, ZaloSender(api), clock=lambda: NOW).handle_update, long_poll=0
    )
    plan_due_reminders(engine, now=NOW)
    await Dispatcher(engine, {"zalo": ZaloSender(api)}, limiter=unlimited()).dispatch(now=NOW)
    first, second = (world.school_chats[code] for code in ("THCS_0001", "THCS_0002"))

    async def say(chat: str, text: str) -> list[str]:
        """The contact writes; the bot's answers to it."""
        before = len(fake.texts_for(chat))
        fake.user_says(chat, text)
        await poller.poll_once()
        return fake.texts_for(chat)[before:]

    codes = dict(CODE_RE.findall(fake.texts_for(first)[0]))
    recorded, question = await say(first, f"{codes['A']} 2 đạt 90% phong=45/50")
    assert "Phòng học kiên cố: 45/50 (90%)" in recorded
    assert "Kinh phí sửa chữa" in question and "Gõ «bỏ qua»" in question
    assert "<b>" not in question
    (refused, again) = await say(first, "1,5 tỷ")
    assert "«1,5 tỷ» không phải là số" in refused
    assert "Kinh phí sửa chữa" in again
    (question,) = await say(first, "1.500")
    assert "Đã ghi Kinh phí sửa chữa: 1.500 triệu đồng" in question and "Đã quán triệt" in question
    (summary,) = await say(first, "có")
    assert "Kinh phí sửa chữa: 1.500 triệu đồng" in summary and "Đã quán triệt: có" in summary

    codes = dict(CODE_RE.findall(fake.texts_for(second)[0]))
    (recorded,) = await say(second, f"{codes['A']} 1 phong=50/50 ns=300 ht=không")
    assert "Đã hoàn thành" in recorded and "Đã quán triệt: không" in recorded

    with Session(engine) as session:
        report = build_report(session, plan_code="KH-TEST", at=date(2026, 11, 23))
    markdown = write_report(report, "md", tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| | **Tổng hợp** | 95/100 (95%) | Tổng: 1.800 | Trả lời «có»: 1/2 (50%) |" in markdown
    appendix = docx.Document(str(write_report(report, "docx", tmp_path / "r.docx"))).tables[-1]
    assert any(
        [c.text for c in row.cells][1:3] == ["Tổng hợp", "95/100 (95%)"] for row in appendix.rows
    )
    sheet = openpyxl.load_workbook(write_report(report, "xlsx", tmp_path / "r.xlsx"))["Chỉ tiêu"]
    totals = next(row for row in sheet.iter_rows() if row[2].value == "Tổng hợp")
    assert [c.value for c in totals[3:5]] == ["=SUM(D2:D4)", "=SUM(E2:E4)"]
    assert [sheet.cell(r, 7).value for r in (2, 3, 4)] == [1500, 300, None]
